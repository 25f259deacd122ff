"""The trained pipeline end to end: contract, versions, normalised entities, factors and missing elements."""

from __future__ import annotations

import math

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


FINDING_NOTICE = (
    "Notice of Finding: Canned tuna harvested by the Ocean Star Fishing Company fleet, Fiji. "
    "ACTION: Notice of finding. "
    "SUMMARY: Pursuant to 19 CFR 12.42(f), the Commissioner of U.S. Customs and Border Protection, with the "
    "approval of the Secretary of the Treasury, has determined that information available to CBP conclusively "
    "demonstrates that tuna harvested by vessels of the Ocean Star Fishing Company is harvested with forced labor "
    "and is being imported into the United States. "
    "Crew members told investigators that the captain kept their passports and that they were beaten and held "
    "at sea for two years without pay. "
    "CBP will seize and forfeit covered merchandise at all U.S. ports of entry."
)
REVOCATION_NOTICE = (
    "CBP revokes the Withhold Release Order on disposable gloves from Meridian Glove Industries Sdn Bhd. "
    "U.S. Customs and Border Protection today revoked the Withhold Release Order it issued in 2021 against "
    "disposable gloves made by Meridian Glove Industries Sdn Bhd in Malaysia. "
    "The company repaid recruitment fees to 4,000 workers, returned their passports and improved housing, and "
    "CBP found that the forced labor indicators have been remediated. "
    "Gloves made by the company may now enter the United States."
)
MODIFICATION_NOTICE = (
    "CBP modifies the Finding on palm oil from Sawit Raya Plantations Bhd. "
    "U.S. Customs and Border Protection modified the Finding after the company remediated the forced labor "
    "indicators at its estates in Sabah, Malaysia, including debt bondage and the retention of identity "
    "documents. Palm oil from the company is no longer subject to detention at U.S. ports of entry."
)
COMPANY_STATEMENT = (
    "Our commitment to responsible sourcing. Our supplier code prohibits forced labor, recruitment fees and the "
    "retention of passports. We require every supplier to pass a social audit each year, and our 2024 "
    "sustainability report shows that all of our suppliers in Vietnam met these standards."
)
DOMESTIC_SERVITUDE = (
    "A Houston couple was sentenced to 15 years in federal prison for holding a Nigerian woman in domestic "
    "servitude in their home. Prosecutors said the couple took her passport, made her work 18 hours a day "
    "without pay as a nanny and housekeeper, and threatened to have her arrested if she left."
)

# Terse texts that meet the WRO bar on an order or a government finding, not on a list of abuses (DOMAIN.md:
# "a WRO in force", "a specific commodity from a specific region, from a government action").
TERSE_ORDER = (
    "CBP issues Withhold Release Order on seafood from the Hai Long 27. "
    "U.S. Customs and Border Protection today issued a Withhold Release Order against tuna and swordfish "
    "harvested by the fishing vessel Hai Long 27, based on information that reasonably indicates the use of "
    "forced labor. Effective immediately, CBP personnel at all U.S. ports of entry will detain seafood "
    "harvested by the vessel."
)
TERSE_REGION = (
    "The Department of Labor has added cotton from Turkmenistan to its List of Goods Produced by Child Labor or "
    "Forced Labor. The government compels public-sector employees, including teachers and doctors, to pick "
    "cotton during the annual harvest under threat of dismissal."
)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("text", "tier"),
    [
        (FINDING_NOTICE, "conclusive"),
        (REVOCATION_NOTICE, "insufficient"),
        (MODIFICATION_NOTICE, "insufficient"),
        (COMPANY_STATEMENT, "insufficient"),
        (DOMESTIC_SERVITUDE, "insufficient"),
        pytest.param(
            TERSE_ORDER,
            "reasonable",
            marks=pytest.mark.xfail(
                strict=True,
                reason="known failure mode (models/README.md): an order notice naming no place scores below the "
                "bar, because nearly every written reasonable document names one",
            ),
        ),
        (TERSE_REGION, "reasonable"),
    ],
    ids=[
        "finding",
        "revocation",
        "modification",
        "company-statement",
        "domestic-servitude",
        "terse-order",
        "terse-region",
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
    assessment = models_pipeline.analyze("f", FINDING_NOTICE).assessment
    contributions = [v for k, v in assessment.factors.items() if k.startswith("contribution_")]
    assert len(contributions) == len(model.bar_weights)
    logit = model.bar_bias + sum(float(v) for v in contributions if v is not None)
    assert abs(1.0 / (1.0 + math.exp(-logit)) - assessment.score) < 0.01
    assert assessment.factors["finding_cue"] == 1.0
    vague = models_pipeline.analyze("v", "Someone told me workers are treated badly somewhere.").assessment
    assert vague.tier == "insufficient" and any("Name the producer" in m for m in vague.missing)
