"""The committed corpus passes validation: schema, offsets, labels, no leakage, built from src/, targets met."""

from __future__ import annotations

from service.corpus import default_corpus_dir, near_duplicate_pairs
from training.validate_corpus import validate


def test_corpus_is_valid_and_meets_targets() -> None:
    stats, failures = validate(default_corpus_dir())
    assert failures == []
    assert stats["leakage"] == {"groups_across_splits": [], "near_duplicates_across_splits": []}


def test_near_duplicate_detector_finds_a_copy() -> None:
    text = "Workers on the vessel said the captain kept their passports and beat those who complained. " * 3
    docs = [
        {"id": "a", "text": text},
        {"id": "b", "text": text.replace("captain", "skipper", 1)},
        {"id": "c", "text": "An unrelated story about tariffs on steel pipe imports and customs statistics."},
    ]
    pairs = near_duplicate_pairs(docs)
    assert [(a, b) for a, b, _ in pairs] == [("a", "b")]
