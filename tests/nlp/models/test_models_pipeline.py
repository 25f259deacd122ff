"""The trained pipeline end to end: contract, versions, normalised entities, factors and missing elements."""

from __future__ import annotations

import math

import pytest

from service.config import Settings
from service.contract import INDICATOR_IDS
from service.nlp.pipeline import Pipeline
from service.nlp.sentences import split_sentences
from training.train_assessment import load_tier_probes

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


# DOMAIN.md's tier rules as short texts (training/probes/assessment_tiers.jsonl): a Finding notice, lifted orders,
# a company's own voice and domestic servitude, and terse texts that meet the WRO bar on an order or a
# government finding rather than a list of abuses. Training ranks assessment variants by them first.
TIER_PROBES = {probe.name: probe for probe in load_tier_probes()}


@pytest.mark.integration
@pytest.mark.parametrize(
    ("text", "tier"),
    [
        pytest.param(
            probe.text,
            probe.tier,
            id=probe.name,
            marks=pytest.mark.xfail(
                strict=True,
                reason="known failure mode (models/README.md): an order notice naming no place scores below the "
                "bar, because nearly every written reasonable document names one",
            )
            if probe.known_failure
            else (),
        )
        for probe in TIER_PROBES.values()
    ],
)
def test_models_assessment_tiers(models_pipeline: Pipeline, text: str, tier: str) -> None:
    assessment = models_pipeline.analyze("t", text).assessment
    assert assessment.tier == tier, assessment.factors
    assert (assessment.score >= 0.5) == (tier != "insufficient")


@pytest.mark.integration
def test_models_assessment_factors_add_up(models_pipeline: Pipeline) -> None:
    """The contributions shown are the model's own: with the bias they add up to the WRO-bar logit."""
    model = models_pipeline.assessment_model
    assert model is not None
    assessment = models_pipeline.analyze("f", TIER_PROBES["finding"].text).assessment
    contributions = [v for k, v in assessment.factors.items() if k.startswith("contribution_")]
    assert len(contributions) == len(model.bar_weights)
    logit = model.bar_bias + sum(float(v) for v in contributions if v is not None)
    assert abs(1.0 / (1.0 + math.exp(-logit)) - assessment.score) < 0.01
    assert assessment.factors["finding_cue"] == 1.0
    vague = models_pipeline.analyze("v", "Someone told me workers are treated badly somewhere.").assessment
    assert vague.tier == "insufficient" and any("Name the producer" in m for m in vague.missing)


@pytest.mark.integration
def test_models_tier_is_judged_apart_from_the_us_nexus(models_pipeline: Pipeline) -> None:
    """DOMAIN.md: a strong case about goods never imported is still `reasonable`; the import element is missing."""
    text = TIER_PROBES["no-import"].text
    analysis = models_pipeline.analyze("n", text)
    assert analysis.assessment.tier == "reasonable"
    assert not analysis.us_nexus.present
    assert any("United States" in m for m in analysis.assessment.missing)
    assert "us_nexus_score" in analysis.assessment.factors
    assert "contribution_us_nexus_score" not in analysis.assessment.factors
    model = models_pipeline.assessment_model
    assert model is not None
    sentences = split_sentences(text)
    imported = analysis.us_nexus.model_copy(update={"present": True, "score": 0.99})
    assessed = [
        model.assess(text, sentences, analysis.entities, analysis.indicators, nexus)
        for nexus in (analysis.us_nexus, imported)
    ]
    assert assessed[0].score == assessed[1].score and assessed[0].tier == assessed[1].tier
    assert assessed[1].factors["us_nexus_score"] == 0.99
