"""SetFit-style pairs: positives share one non-empty evidence set, negatives do not, and discounted mentions of
an indicator are paired apart from its evidence."""

from __future__ import annotations

import random

import numpy as np

from service.contract import INDICATOR_IDS
from training.datasets import SentenceSet
from training.finetune_encoder import contrastive_pairs


def _row(*indicators: str) -> list[int]:
    return [int(i in indicators) for i in INDICATOR_IDS]


def _fixture() -> SentenceSet:
    labels = [
        _row("retention_of_identity_documents"),
        _row("retention_of_identity_documents"),
        _row("debt_bondage"),
        _row("debt_bondage"),
        _row(),  # "The company did not keep passports": a discounted mention
        _row(),  # no mention at all
    ]
    mentioned = [*labels[:4], _row("retention_of_identity_documents"), _row()]
    texts = [f"sentence {i}" for i in range(len(labels))]
    status: list[str | None] = ["affirmed", "affirmed", "affirmed", "affirmed", "negated", None]
    return SentenceSet(
        docs=[{"id": "d"}],
        texts=texts,
        boundaries=[0, len(texts)],
        labels=np.array(labels, dtype=np.int8),
        mentioned=np.array(mentioned, dtype=np.int8),
        status=status,
        nexus=np.zeros(len(texts), dtype=np.int8),
    )


def test_pairs_are_balanced_and_follow_the_evidence_sets() -> None:
    data = _fixture()
    pairs = contrastive_pairs(data, 400, random.Random(0))
    assert len(pairs) == 400
    positives = [p for p in pairs if p[2] == 1.0]
    assert 150 <= len(positives) <= 250
    for a, b, target in pairs:
        assert a != b
        same = bool((data.labels[a] == data.labels[b]).all()) and bool(data.labels[a].any())
        assert same == (target == 1.0)
    partners = {b for _, b, target in pairs if target == 0.0}
    assert 4 in partners, "the discounted mention is never a hard negative"
    assert 5 in partners, "unlabelled sentences are never negatives"
