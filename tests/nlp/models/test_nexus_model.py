"""The nexus model's document stage: the rules cues it reads, and how it decides and shows evidence."""

from __future__ import annotations

import math

import numpy as np
import pytest

from service.nlp.models.assessment import NEXUS_DOCUMENT_INPUTS, NexusModel
from service.nlp.rules.assessment import CUSTOMS_ACTION_CUE, TRADE_ROUTE_CUE, nexus_cue
from service.nlp.sentences import split_sentences


@pytest.mark.parametrize(
    ("sentence", "cue"),
    [
        ("The gloves were shipped to the United States through Long Beach.", TRADE_ROUTE_CUE),
        ("US retailers sourced the shrimp from the peeling sheds.", TRADE_ROUTE_CUE),
        ("CBP issued a Withhold Release Order on the company's gloves.", CUSTOMS_ACTION_CUE),
        ("The U.S. Attorney said the defendant was sentenced for forced labor at his home.", 0.0),
        ("Workers on the estate said their passports were taken.", 0.0),
    ],
)
def test_nexus_cue_reads_trade_routes_and_customs_actions_but_not_domestic_prosecutions(
    sentence: str, cue: float
) -> None:
    assert nexus_cue(sentence) == cue


TEXT = (
    "Workers on the estate said their passports were taken. "
    "CBP issued a Withhold Release Order on the estate's palm oil. "
    "The estate employs about two thousand people."
)


def model(document_weights: list[float] | None) -> NexusModel:
    """A one-feature sentence head: the feature is the sentence's head logit, so tests set it directly."""
    weights = None if document_weights is None else np.array(document_weights, dtype=np.float64)
    return NexusModel(np.array([1.0]), 0.0, 0.5, weights, -2.0)


def test_document_inputs_are_the_strongest_head_logit_and_the_cues_present() -> None:
    sentences = split_sentences(TEXT)
    probs = np.array([0.1, 0.2, 0.05])
    inputs = NexusModel.document_inputs([nexus_cue(s.text) for s in sentences], probs)
    assert len(inputs) == len(NEXUS_DOCUMENT_INPUTS)
    assert inputs[0] == pytest.approx(math.log(0.2 / 0.8))
    assert inputs[1:].tolist() == [0.0, 1.0]


def test_without_a_document_stage_the_strongest_sentence_decides() -> None:
    sentences = split_sentences(TEXT)
    features = np.array([[-3.0], [-1.0], [-4.0]], dtype=np.float32)
    nexus = model(None).assess(sentences, features)
    assert not nexus.present
    assert nexus.score == pytest.approx(1 / (1 + math.exp(1.0)), abs=1e-4)
    assert nexus.evidence == []


def test_the_document_stage_can_carry_a_customs_action_the_head_doubts() -> None:
    sentences = split_sentences(TEXT)
    features = np.array([[-3.0], [-1.0], [-4.0]], dtype=np.float32)
    # The head alone says no (0.27); the stage weighs the customs-action cue enough to say yes.
    nexus = model([0.5, 1.0, 3.0]).assess(sentences, features)
    assert nexus.present
    assert nexus.score == pytest.approx(1 / (1 + math.exp(-(0.5 * -1.0 + 3.0 - 2.0))), abs=1e-4)
    # The evidence is the cue sentence, with its offsets into the text.
    assert [e.text for e in nexus.evidence] == [sentences[1].text]
    assert TEXT[nexus.evidence[0].start : nexus.evidence[0].end] == sentences[1].text
    # Without the cue, the same head scores do not reach the bar.
    plain = (
        "Workers on the estate said their passports were taken. The estate employs about two thousand people."
    )
    plain_sentences = split_sentences(plain)
    assert not model([0.5, 1.0, 3.0]).assess(plain_sentences, features[[0, 2]]).present
