"""Document-level aggregation of the indicator tagger's sentence scores."""

from __future__ import annotations

import numpy as np
import pytest

from service.nlp.models.indicators import AGGREGATIONS, aggregate


def scores(*rows: list[float]) -> np.ndarray:
    return np.array(rows, dtype=np.float64)


def test_max_is_the_strongest_sentence() -> None:
    probs = scores([0.2, 0.9], [0.7, 0.1])
    assert aggregate(probs, np.zeros_like(probs), "max", 0.0).tolist() == [0.7, 0.9]


def test_min_evidence_halves_an_uncorroborated_sentence() -> None:
    probs = scores([0.8, 0.8], [0.1, 0.6])
    lexicon = np.zeros_like(probs)
    out = aggregate(probs, lexicon, "min_evidence", 0.5)
    assert out.tolist() == pytest.approx([0.4, 0.8])
    lexicon[0, 0] = 1.0  # a lexicon hit in the strongest sentence corroborates it
    assert aggregate(probs, lexicon, "min_evidence", 0.5).tolist() == pytest.approx([0.8, 0.8])


@pytest.mark.parametrize("method", AGGREGATIONS)
def test_every_aggregation_is_bounded_and_handles_empty_documents(method: str) -> None:
    param = {"topk_mean": 2.0, "length_discount": 40.0, "lexicon_vote": 0.5}.get(method, 0.5)
    probs = scores([0.2, 0.9], [0.7, 0.1], [0.6, 0.0])
    out = aggregate(probs, np.zeros_like(probs), method, param)
    assert ((out >= 0) & (out <= 1)).all()
    assert aggregate(np.zeros((0, 2)), np.zeros((0, 2)), method, param).tolist() == [0.0, 0.0]


def test_unknown_aggregation_is_refused() -> None:
    with pytest.raises(ValueError):
        aggregate(scores([0.5]), scores([0.0]), "mean", 0.0)
