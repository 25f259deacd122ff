"""The indicator model's features (sentence context) and heads (linear or with a hidden layer)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from service.contract import INDICATOR_IDS
from service.nlp.cues import ALL_ELEVEN_INDICATORS
from service.nlp.evidence_status import STATUS_CUE_NAMES, is_policy
from service.nlp.models.encoder import with_context
from service.nlp.models.indicators import STATUS_CLASSES, IndicatorModel, context_embeddings, sigmoid
from service.nlp.sentences import Sentence

N = len(INDICATOR_IDS)


def embeddings(n: int, dim: int = 4) -> np.ndarray:
    return np.arange(n * dim, dtype=np.float32).reshape(n, dim)


def test_neighbours_context_is_unchanged() -> None:
    e = embeddings(5)
    assert np.array_equal(context_embeddings(e, [0, 2, 5], "neighbours"), with_context(e, [0, 2, 5]))


def test_wide_context_keeps_the_nexus_columns_and_stays_inside_documents() -> None:
    e = embeddings(10)
    boundaries = [0, 1, 10]  # a one-sentence document, then nine sentences
    out = context_embeddings(e, boundaries, "wide")
    assert out.shape == (10, 16)
    # The first columns are with_context's, which the nexus head reads.
    assert np.array_equal(out[:, :8], with_context(e, boundaries))
    window, document = out[:, 8:12], out[:, 12:]
    assert np.array_equal(window[0], np.zeros(4))  # alone in its document: no window
    assert np.array_equal(document[0], e[0])
    # Sentence 1 opens the second document: its window is sentences 2-4, never sentence 0.
    assert np.allclose(window[1], e[2:5].mean(axis=0))
    assert np.allclose(window[5], (e[2:9].sum(axis=0) - e[5]) / 6)
    assert np.allclose(document[1:], e[1:].mean(axis=0))


def test_unknown_context_is_refused() -> None:
    with pytest.raises(ValueError):
        context_embeddings(embeddings(2), [0, 2], "paragraph")


def model(hidden: int | None, features: int = 6, seed: int = 0) -> IndicatorModel:
    rng = np.random.default_rng(seed)
    outputs_in = hidden or features
    return IndicatorModel(
        weights=rng.normal(size=(outputs_in, N)),
        bias=rng.normal(size=N),
        status_weights=rng.normal(size=(features, len(STATUS_CLASSES))),
        status_bias=rng.normal(size=len(STATUS_CLASSES)),
        thresholds=np.full(N, 0.5),
        platt=np.tile([1.0, 0.0], (N, 1)),
        use_lexicon=False,
        version="test",
        context="wide",
        hidden_weights=rng.normal(size=(features, hidden)) if hidden else None,
        hidden_bias=rng.normal(size=hidden) if hidden else None,
    )


def test_hidden_layer_is_a_relu_before_the_output() -> None:
    m = model(hidden=3)
    x = np.random.default_rng(1).normal(size=(4, 6)).astype(np.float32)
    assert m.hidden_weights is not None and m.hidden_bias is not None
    hidden = np.maximum(x.astype(np.float64) @ m.hidden_weights + m.hidden_bias, 0.0)
    assert np.allclose(m.sentence_probabilities(x), sigmoid(hidden @ m.weights + m.bias))


@pytest.mark.parametrize("hidden", [None, 3])
def test_save_and_load_round_trip(tmp_path: Path, hidden: int | None) -> None:
    m = model(hidden)
    m.save(tmp_path, {})
    loaded = IndicatorModel.load(tmp_path)
    assert loaded.context == "wide"
    assert (loaded.hidden_weights is None) == (hidden is None)
    x = np.random.default_rng(2).normal(size=(3, 6)).astype(np.float32)
    assert np.allclose(loaded.sentence_probabilities(x), m.sentence_probabilities(x), atol=1e-5)


@pytest.mark.parametrize(
    ("sentence", "policy"),
    [
        ("Our standard forbids overtime beyond 12 hours a week.", True),
        ("Suppliers must not retain workers' passports.", True),
        ("We require suppliers to repay any recruitment fees.", True),
        ("Workers were prohibited from leaving the compound.", False),
        ("They said they must not speak to inspectors.", False),
        ("Section 307 of the Tariff Act prohibits the importation of goods made with forced labor.", False),
    ],
)
def test_policy_voice_is_recognised_but_abuse_told_with_a_prohibition_is_not(sentence: str, policy: bool) -> None:
    assert is_policy(sentence) is policy


def test_policy_veto_overrides_a_head_that_reads_a_policy_as_evidence() -> None:
    m = model(hidden=None)
    m.rules_veto = True
    m.status_weights = np.zeros_like(m.status_weights)
    m.status_bias = np.where(np.array(STATUS_CLASSES) == "first_hand", 5.0, 0.0)  # the head says first-hand
    texts = ["Our standard forbids overtime beyond 12 hours a week.", "We worked 16 hours a day."]
    x = np.zeros((2, 6), dtype=np.float32)
    assert m.sentence_statuses(x, texts) == ["first_hand", "first_hand"]
    m.policy_veto = True
    assert m.sentence_statuses(x, texts) == ["hypothetical", "first_hand"]


def test_cue_gate_keeps_a_head_negation_only_with_a_scoped_cue() -> None:
    m = model(hidden=None)
    m.rules_veto = True
    m.status_weights = np.zeros_like(m.status_weights)
    m.status_bias = np.where(np.array(STATUS_CLASSES) == "negated", 5.0, 0.0)  # the head says negated
    texts = [
        "Guards at the gate stopped them from leaving the plantation.",
        "Workers at the mill come and go freely.",
        "Bright Rubber returned all passports to its workers in March.",
        "CBP found that the crew were confined to the vessel for months.",
    ]
    x = np.zeros((4, 6), dtype=np.float32)
    assert m.sentence_statuses(x, texts) == ["negated"] * 4
    m.cue_gated_discount = True
    # A cue of either kind backs the head's discount, which stands as the head read it.
    assert m.sentence_statuses(x, texts) == ["affirmed", "negated", "negated", "reported"]


def status_bias(**logits: float) -> np.ndarray:
    return np.array([logits.get(c, 0.0) for c in STATUS_CLASSES])


def test_mass_gate_counts_a_sentence_whose_counting_statuses_outweigh_the_likeliest_discount() -> None:
    m = model(hidden=None)
    m.status_weights = np.zeros_like(m.status_weights)
    # negated is the single likeliest status, but affirmed + first-hand + reported hold most of the mass.
    m.status_bias = np.log(status_bias(affirmed=0.3, first_hand=0.2, reported=0.15, negated=0.35) + 1e-9)
    x = np.zeros((1, 6), dtype=np.float32)
    texts = ["Guards at the gate stopped them from leaving the plantation."]
    assert m.sentence_statuses(x, texts) == ["negated"]
    _, weights = m.sentence_weights(x, texts)
    assert weights.tolist() == [0.0]
    m.status_gate = "mass"
    assert m.sentence_statuses(x, texts) == ["affirmed"]
    assert m.sentence_weights(x, texts)[1].tolist() == [1.0]
    m.status_gate = "mass_soft"
    assert m.sentence_weights(x, texts)[1] == pytest.approx([0.65], abs=1e-6)
    m.status_bias = np.log(status_bias(affirmed=0.2, first_hand=0.1, negated=0.3, remediated=0.4) + 1e-9)
    m.status_gate = "mass"
    assert m.sentence_statuses(x, texts) == ["remediated"]
    assert m.sentence_weights(x, texts)[1].tolist() == [0.0]
    m.status_gate = "majority"
    with pytest.raises(ValueError):
        m.sentence_statuses(x, texts)


def test_status_cue_features_reach_the_status_head_and_survive_a_round_trip(tmp_path: Path) -> None:
    m = model(hidden=None)
    m.status_cue_features = True
    m.status_weights = np.zeros((6 + len(STATUS_CUE_NAMES), len(STATUS_CLASSES)))
    m.status_bias = np.zeros(len(STATUS_CLASSES))
    # Only the plain-negation cue moves the head, towards negated.
    m.status_weights[6 + STATUS_CUE_NAMES.index("plain_negation"), STATUS_CLASSES.index("negated")] = 5.0
    texts = ["They were not allowed to leave the boat.", "They were confined to the boat."]
    x = np.zeros((2, 6), dtype=np.float32)
    assert m.status_inputs(x, texts).shape == (2, 6 + len(STATUS_CUE_NAMES))
    assert m.sentence_statuses(x, texts) == ["negated", "affirmed"]
    m.save(tmp_path, {})
    loaded = IndicatorModel.load(tmp_path)
    assert loaded.status_cue_features and loaded.status_gate == "argmax"
    assert loaded.sentence_statuses(x, texts) == ["negated", "affirmed"]


@pytest.mark.parametrize(
    ("sentence", "says_all_eleven"),
    [
        ("CBP identified all 11 of the International Labour Organization's indicators of forced labor.", True),
        ("The inspectors found all eleven ILO indicators at the plantation.", True),
        ("Eleven of the 11 forced labor indicators were present on the vessel.", True),
        ("The information points to each of the eleven ILO forced labour indicators.", True),
        ("CBP found 4 of the 11 indicators of forced labor.", False),
        ("CBP uses the ILO's 11 indicators of forced labor.", False),
        ("All 11 workers said the inspectors ignored the indicators they raised.", False),
    ],
)
def test_all_eleven_statement_pattern(sentence: str, says_all_eleven: bool) -> None:
    assert bool(ALL_ELEVEN_INDICATORS.search(sentence)) is says_all_eleven


def test_a_counting_all_eleven_statement_evidences_every_indicator_and_a_discounted_one_none(
    tmp_path: Path,
) -> None:
    m = model(hidden=None)
    m.weights = np.zeros_like(m.weights)
    m.bias = np.full(N, -6.0)  # the head sees no indicator in any sentence
    m.status_weights = np.zeros_like(m.status_weights)
    m.status_bias = status_bias(reported=5.0)
    text = "CBP's investigation identified all 11 of the ILO's indicators of forced labor at the mill."
    sentences = [Sentence(0, len(text), text)]
    x = np.zeros((1, 6), dtype=np.float32)
    assert not any(r.present for r in m.tag(sentences, x))
    m.all_indicator_statements = True
    results = m.tag(sentences, x)
    assert all(r.present for r in results)
    assert all(r.evidence[0].text == text and r.evidence[0].status == "reported" for r in results)
    m.save(tmp_path, {})
    assert IndicatorModel.load(tmp_path).all_indicator_statements
    # Read as boilerplate (hypothetical), the same sentence turns nothing on and is listed as discounted.
    m.status_bias = status_bias(hypothetical=5.0)
    results = m.tag(sentences, x)
    assert not any(r.present for r in results)
    assert all(r.discounted and r.discounted[0].status == "hypothetical" for r in results)
