"""The corpus source format: marks become exact offsets, tags label the sentence they follow."""

from __future__ import annotations

import pytest

from training.corpus_markup import MarkupError, parse_document

HEADER = """group: t-g1
genre: news
source_type: news
language: en
us_nexus: yes
tier: reasonable
rationale: test
---
"""


def test_entities_and_sentence_tags() -> None:
    body = (
        "Crew of the [[Hai Feng 8|PRODUCER]] caught [[tuna|COMMODITY]] off [[Fiji|LOCATION]]. "
        "The captain kept all passports. {{retention_of_identity_documents:first_hand}} "
        "Nobody was beaten. {{physical_sexual_violence:negated; us_nexus}}"
    )
    doc = parse_document("t-1", HEADER + body)
    for ent in doc.entities:
        assert doc.text[ent["start"] : ent["end"]] == ent["text"]
    labelled = [(doc.text[s["start"] : s["end"]], s["indicators"], s["us_nexus"]) for s in doc.sentences]
    assert labelled[1] == (
        "The captain kept all passports.",
        [{"id": "retention_of_identity_documents", "status": "first_hand"}],
        False,
    )
    assert labelled[2][2] is True
    gold = doc.to_json()["gold"]
    assert gold["indicators"] == ["retention_of_identity_documents"]
    assert gold["producers"] == ["Hai Feng 8"]
    assert "[[" not in doc.text and "{{" not in doc.text


@pytest.mark.parametrize(
    "body",
    [
        "Some sentence that is long enough to count as a real document body here. {{debt_bondage:maybe}}",
        "Some sentence that is long enough to count as a real document body here. {{made_up:affirmed}}",
        "A [[thing|WIDGET]] in a sentence that is long enough to count as a document body here.",
        "An [[ unbalanced mark in a sentence that is long enough to count as a document body here.",
    ],
)
def test_bad_markup_is_rejected(body: str) -> None:
    with pytest.raises(MarkupError):
        parse_document("t-2", HEADER + body)
