"""Sentence weights of the indicator heads' training recipes and the eligibility rule of their comparison."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from service.contract import INDICATOR_IDS
from training.datasets import load_docs, sentence_set
from training.probe_indicators import HELDOUT_PROBE_FILE
from training.train_indicators import (
    PROBE_FILE,
    PROBE_TOLERANCE,
    Recipe,
    choose,
    load_probes,
    sample_weights,
)

DEBT = INDICATOR_IDS.index("debt_bondage")


def doc(*sentences: tuple[str, list[dict[str, str]]]) -> dict[str, Any]:
    text, spans, offset = "", [], 0
    for sentence, indicators in sentences:
        spans.append({"start": offset, "end": offset + len(sentence), "indicators": indicators})
        text += sentence + " "
        offset += len(sentence) + 1
    return {"text": text, "sentences": spans, "gold": {"indicators": []}}


def test_hard_negatives_and_discounted_mentions_are_weighted() -> None:
    data = sentence_set(
        [
            doc(
                (
                    "Each worker owed the recruiter a debt of 900 dollars.",
                    [{"id": "debt_bondage", "status": "affirmed"}],
                ),
                (
                    "No worker paid recruitment fees or owed the company anything.",
                    [{"id": "debt_bondage", "status": "negated"}],
                ),
                ("Debt bondage is one of the eleven ILO indicators.", []),
                ("The factory makes gloves.", []),
            )
        ]
    )
    x = np.hstack(
        [
            np.zeros((4, 3)),
            np.array(
                [[0] * DEBT + [1] + [0] * (len(INDICATOR_IDS) - DEBT - 1)] * 3 + [[0] * len(INDICATOR_IDS)]
            ),
        ]
    ).astype(np.float32)
    weight = sample_weights(x, data, Recipe("test", hard_negative_weight=3.0, discount_weight=6.0))
    assert weight[:, DEBT].tolist() == [1.0, 6.0, 3.0, 1.0]
    sqrt = sample_weights(x, data, Recipe("test", class_weight="sqrt", hard_negative_weight=3.0))
    assert sqrt[0, DEBT] == np.sqrt(3.0)  # one positive against three negatives
    assert sqrt[1:, DEBT].tolist() == [6.0, 3.0, 1.0]


def test_a_recipe_firing_on_more_discounted_mentions_is_not_eligible() -> None:
    table = [
        {"key": 0.80, "discounted_fire_rate": 0.05, "probe_switch_ons": 5},
        {"key": 0.90, "discounted_fire_rate": 0.07, "probe_switch_ons": 5},
        {"key": 0.85, "discounted_fire_rate": 0.06, "probe_switch_ons": 5},
    ]
    recipes = [Recipe("reference"), Recipe("b"), Recipe("c")]
    assert choose(table, recipes) == 2
    assert choose(table[:1], recipes[:1]) == 0


def test_a_cue_gated_recipe_never_ships_whatever_its_key() -> None:
    table = [
        {"key": 0.80, "discounted_fire_rate": 0.05, "probe_switch_ons": 5},
        {"key": 0.90, "discounted_fire_rate": 0.05, "probe_switch_ons": 5},
        {"key": 0.85, "discounted_fire_rate": 0.05, "probe_switch_ons": 5},
    ]
    recipes = [Recipe("reference"), Recipe("gated", cue_gated_discount=True), Recipe("plain")]
    assert choose(table, recipes) == 2


def test_a_recipe_switching_on_more_probe_sentences_than_the_fewest_plus_tolerance_is_not_eligible() -> None:
    table = [
        {"key": 0.80, "discounted_fire_rate": 0.05, "probe_switch_ons": 9},
        {"key": 0.90, "discounted_fire_rate": 0.05, "probe_switch_ons": 4 + PROBE_TOLERANCE + 1},
        {"key": 0.85, "discounted_fire_rate": 0.05, "probe_switch_ons": 4 + PROBE_TOLERANCE},
        {"key": 0.83, "discounted_fire_rate": 0.05, "probe_switch_ons": 4},
        # Fewest switched on, but not eligible by fire rate, so it does not set the bar.
        {"key": 0.70, "discounted_fire_rate": 0.09, "probe_switch_ons": 0},
    ]
    recipes = [Recipe(str(i)) for i in range(len(table))]
    assert choose(table, recipes) == 2


@pytest.mark.parametrize("path", [PROBE_FILE, HELDOUT_PROBE_FILE], ids=["selection", "held-out"])
def test_a_probe_covers_every_indicator_in_every_form_and_is_kept_apart_from_the_corpus(path: Path) -> None:
    probes = load_probes(path)
    forms = {(probe["indicator"], probe["form"]) for probe in probes}
    assert forms == {
        (i, f) for i in INDICATOR_IDS for f in ("denial", "policy", "remediated", "hypothetical")
    }
    texts = {probe["text"] for probe in probes}
    assert len(texts) == len(probes)
    corpus = " ".join(d["text"] for split in ("train", "dev", "test") for d in load_docs(split))
    assert not [t for t in texts if t in corpus]


def test_the_two_probes_share_no_sentence() -> None:
    selection = {probe["text"] for probe in load_probes(PROBE_FILE)}
    assert not selection & {probe["text"] for probe in load_probes(HELDOUT_PROBE_FILE)}
