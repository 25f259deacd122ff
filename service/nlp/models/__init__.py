"""Trained stages (entities, indicators, nexus, assessment) that replace the rules baseline stage by stage."""
