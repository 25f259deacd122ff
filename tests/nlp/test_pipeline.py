"""The rules pipeline end to end on small texts: contract shape, offsets, evidence status, linking."""

from __future__ import annotations

from service.contract import INDICATOR_IDS
from service.nlp.pipeline import Pipeline

TEXT = (
    "Workers at Golden Palm Plantation Sdn Bhd in Sabah, Malaysia said the supervisor kept their passports. "
    "They owed recruitment fees of 4,000 ringgit to the agent. "
    "The palm oil is shipped to importers in the United States."
)


def test_contract_shape_and_offsets(pipeline: Pipeline) -> None:
    analysis = pipeline.analyze("d1", TEXT)
    assert [i.id for i in analysis.indicators] == list(INDICATOR_IDS)
    for group in (analysis.entities.producers, analysis.entities.commodities, analysis.entities.locations):
        for mention in group:
            assert TEXT[mention.start : mention.end] == mention.text
    for indicator in analysis.indicators:
        for evidence in indicator.evidence + indicator.discounted:
            assert TEXT[evidence.start : evidence.end] == evidence.text
    assert analysis.versions.pipeline.endswith("/rules")


def test_entities_are_normalised(pipeline: Pipeline) -> None:
    analysis = pipeline.analyze("d1", TEXT)
    palm = next(c for c in analysis.entities.commodities if c.text == "palm oil")
    assert palm.normalized == "palm_oil" and "1511" in palm.hts
    sabah = next(loc for loc in analysis.entities.locations if loc.text == "Sabah")
    assert (sabah.country, sabah.region) == ("MY", "Sabah")
    assert any(p.normalized == "golden palm plantation" for p in analysis.entities.producers)


def test_indicators_with_evidence_and_nexus(pipeline: Pipeline) -> None:
    analysis = pipeline.analyze("d1", TEXT)
    present = {i.id for i in analysis.indicators if i.present}
    assert {"retention_of_identity_documents", "debt_bondage"} <= present
    assert analysis.us_nexus.present
    assert analysis.assessment.ilo_coercion


def test_negated_and_remediated_mentions_do_not_count(pipeline: Pipeline) -> None:
    text = (
        "Auditors found that passports were not retained by the employer at the Klang plant. "
        "Recruitment fees have since been reimbursed to all 1,200 workers."
    )
    analysis = pipeline.analyze("d2", text)
    by_id = {i.id: i for i in analysis.indicators}
    assert not by_id["retention_of_identity_documents"].present
    assert by_id["retention_of_identity_documents"].discounted[0].status == "negated"
    assert not by_id["debt_bondage"].present
    assert by_id["debt_bondage"].discounted[0].status == "remediated"


def test_known_order_linking(pipeline: Pipeline) -> None:
    analysis = pipeline.analyze(
        "d3", "CBP detained gloves made by Top Glove Corporation Bhd. in Klang, Malaysia."
    )
    linked = [p for p in analysis.entities.producers if p.known_orders]
    assert linked and linked[0].known_orders[0].type in {"WRO", "Finding"}


def test_missing_elements_are_plain_words(pipeline: Pipeline) -> None:
    analysis = pipeline.analyze("d4", "Someone told me workers are treated badly somewhere.")
    assert analysis.assessment.tier == "insufficient"
    joined = " ".join(analysis.assessment.missing)
    assert "Name the producer" in joined and "United States" in joined


def test_batch_equals_single(pipeline: Pipeline) -> None:
    texts = [("a", TEXT, None), ("b", "Nothing about labor here at all, only a tariff table.", None)]
    batch = list(pipeline.analyze_many(texts))
    assert [a.id for a in batch] == ["a", "b"]
    assert batch[0] == pipeline.analyze("a", TEXT)
