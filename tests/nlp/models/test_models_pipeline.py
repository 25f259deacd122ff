"""The trained pipeline end to end: contract, versions, normalised entities, factors and missing elements."""

from __future__ import annotations

import pytest

from service.config import Settings
from service.contract import INDICATOR_IDS
from service.nlp.pipeline import Pipeline

TEXT = (
    "Workers at the Sinar Jaya Rubber Products Sdn Bhd factory in Klang, Malaysia said the supervisor kept their "
    "passports and that recruitment debts of 5,000 ringgit took most of their pay for a year. "
    "The disposable nitrile gloves are shipped to Harbor Medical Supply in California."
)


@pytest.fixture(scope="module")
def models_pipeline() -> Pipeline:
    return Pipeline.load(Settings(pipeline="models"))


@pytest.mark.integration
def test_models_pipeline_contract_and_versions(models_pipeline: Pipeline) -> None:
    analysis = models_pipeline.analyze("m1", TEXT)
    assert [i.id for i in analysis.indicators] == list(INDICATOR_IDS)
    models = analysis.versions.models
    assert analysis.versions.pipeline.endswith("/models")
    assert models["entities"].startswith("entities-") and models["indicators"].startswith("indicators-")
    assert models["assessment"].startswith("assessment-")
    for group in (analysis.entities.producers, analysis.entities.commodities, analysis.entities.locations):
        for mention in group:
            assert TEXT[mention.start : mention.end] == mention.text
    assert any("Sinar Jaya" in p.text for p in analysis.entities.producers)
    assert any(loc.country == "MY" for loc in analysis.entities.locations)
    factors = analysis.assessment.factors
    assert "contribution_producer_named" in factors and "us_nexus_score" in factors
    assert analysis.us_nexus.present


@pytest.mark.integration
def test_models_pipeline_links_known_orders(models_pipeline: Pipeline) -> None:
    text = "CBP detained disposable gloves made by Top Glove Corporation Bhd. at its factories in Malaysia."
    analysis = models_pipeline.analyze("m2", text)
    assert any(p.known_orders for p in analysis.entities.producers)
