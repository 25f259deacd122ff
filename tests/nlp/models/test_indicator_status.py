"""Negated, policy and remediated mentions of every indicator never switch it on (issue: indicator tagging).

Each text is one sentence about a named producer, so nothing else in the document can evidence the indicator.
"""

from __future__ import annotations

import pytest

from service.config import Settings
from service.contract import INDICATOR_IDS
from service.nlp.pipeline import Pipeline

DISCOUNTED: dict[str, list[str]] = {
    "abuse_of_vulnerability": [
        "Auditors found no sign that Harbin Textile exploited the migrant status of its workers.",
        "Our policy forbids any supplier from taking advantage of workers' visa dependence or poverty.",
        "Since 2023 the Kota Bahru plant no longer ties workers' housing to their visas, and all now rent freely.",
    ],
    "deception": [
        "Workers at Lumen Apparel said the pay and the job were exactly as the recruiter had described.",
        "Suppliers must never make false promises about wages or conditions when hiring.",
        "Sinar Agro has replaced the substituted contracts and paid every worker the wage promised at recruitment.",
    ],
    "restriction_of_movement": [
        "Workers at the Delta Cane mill come and go freely and the gates are never locked.",
        "Our code of conduct prohibits suppliers from restricting workers' freedom of movement.",
        "The dormitory curfew at Pacific Gloves was lifted last year and guards were removed from the gates.",
    ],
    "isolation": [
        "Crew on the Hai Xing 9 kept their phones and called home every week, inspectors found.",
        "Suppliers should ensure that workers are never cut off from their families.",
        "Mirza Bricks now lets workers keep their phones and has opened the site to union visits.",
    ],
    "physical_sexual_violence": [
        "None of the workers interviewed at Golden Farm reported being beaten or assaulted.",
        "We have zero tolerance for physical or sexual violence anywhere in our supply chain.",
        "The supervisor accused of beating workers at Rio Verde was dismissed and the abuse has stopped.",
    ],
    "intimidation_threats": [
        "Workers at Andes Berry said they had never been threatened by managers.",
        "Suppliers must not threaten workers with dismissal or denunciation to the authorities.",
        "After the audit, Canyon Textiles removed the managers who had threatened workers and the threats ended.",
    ],
    "retention_of_identity_documents": [
        "Passports were not retained by Sunrise Gloves; workers held their own documents.",
        "Our suppliers are prohibited from keeping workers' passports or identity cards.",
        "Bright Rubber returned all passports to its workers in March and now keeps no identity documents.",
    ],
    "withholding_of_wages": [
        "Workers at Mekong Shrimp confirmed that wages were paid in full and on time every month.",
        "Suppliers must pay wages directly and may not hold back any part of them.",
        "Lotus Garments has repaid all the wages it had held back, with interest, to 800 workers.",
    ],
    "debt_bondage": [
        "Workers at Coastal Palm did not pay any recruitment fees and owed nothing to the company.",
        "We require suppliers to ensure that no worker pays recruitment fees or carries debts to the employer.",
        "Tri Star Latex reimbursed all recruitment fees to its 1,400 migrant workers last year.",
    ],
    "abusive_working_living_conditions": [
        "Inspectors found the dormitories at Vega Farms clean, spacious and well ventilated.",
        "Suppliers should provide safe housing and clean drinking water to all workers.",
        "The overcrowded huts at Santa Rosa were replaced with new housing with running water in 2024.",
    ],
    "excessive_overtime": [
        "Time records at Orion Electronics show no worker exceeded the legal limit on hours.",
        "Our standard forbids overtime beyond 12 hours a week and requires one rest day in seven.",
        "Kiln operators at Shanti Bricks now work eight-hour shifts after the excessive hours were ended.",
    ],
}


@pytest.fixture(scope="module")
def models_pipeline() -> Pipeline:
    return Pipeline.load(Settings(pipeline="models"))


@pytest.mark.integration
@pytest.mark.parametrize("indicator", INDICATOR_IDS)
def test_discounted_mentions_do_not_switch_an_indicator_on(models_pipeline: Pipeline, indicator: str) -> None:
    for text in DISCOUNTED[indicator]:
        analysis = models_pipeline.analyze("t", text)
        result = next(i for i in analysis.indicators if i.id == indicator)
        assert not result.present, f"{indicator} switched on by: {text}"


@pytest.mark.integration
def test_affirmed_evidence_is_found_with_exact_offsets(models_pipeline: Pipeline) -> None:
    text = (
        "Crew members on the Hai Xing 9 said the captain took their passports on the first day. "
        "They were beaten when they asked to go home, and their wages were held back for eleven months."
    )
    analysis = models_pipeline.analyze("t", text)
    present = {i.id for i in analysis.indicators if i.present}
    assert {"retention_of_identity_documents", "physical_sexual_violence", "withholding_of_wages"} <= present
    for indicator in analysis.indicators:
        for evidence in indicator.evidence:
            assert text[evidence.start : evidence.end] == evidence.text
            assert evidence.status in {"affirmed", "first_hand", "reported"}
