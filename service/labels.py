"""The fixed label ids (DOMAIN.md), in a standard-library-only module so the corpus checker that annotators run
outside the project's environment shares them with the service."""

from __future__ import annotations

INDICATOR_IDS: tuple[str, ...] = (
    "abuse_of_vulnerability",
    "deception",
    "restriction_of_movement",
    "isolation",
    "physical_sexual_violence",
    "intimidation_threats",
    "retention_of_identity_documents",
    "withholding_of_wages",
    "debt_bondage",
    "abusive_working_living_conditions",
    "excessive_overtime",
)
EVIDENCE_STATUSES: tuple[str, ...] = (
    "affirmed",
    "first_hand",
    "reported",
    "negated",
    "remediated",
    "hypothetical",
)
PRESENT_STATUSES: frozenset[str] = frozenset({"affirmed", "first_hand", "reported"})
TIERS: tuple[str, ...] = ("insufficient", "reasonable", "conclusive")
