"""The mention role stage: candidate pooling, features and the decision rule (no trained weights needed)."""

from __future__ import annotations

import numpy as np
import pytest
import spacy

from service.config import Settings
from service.nlp.models.mentions import (
    GENERIC_EXCLUDE,
    MENTION_LABELS,
    N_FEATURES,
    SENTENCE_WIDTH,
    SOURCES,
    Candidate,
    MentionClassifier,
    SentenceVectors,
    candidates,
    decide,
    goods_phrases,
    mention_features,
)
from service.nlp.normalize import EntityNormalizer
from service.nlp.reference import load_reference
from service.nlp.rules.entities import commodity_matcher, producer_matcher
from service.nlp.sentences import split_sentences

THRESHOLDS = {label: 0.5 for label in MENTION_LABELS[1:]}


def probs(*rows: dict[str, float]) -> np.ndarray:
    out = np.zeros((len(rows), len(MENTION_LABELS)))
    for i, row in enumerate(rows):
        for label, value in row.items():
            out[i, MENTION_LABELS.index(label)] = value
        out[i, 0] = 1 - out[i].sum()
    return out


def cand(start: int, end: int, text: str) -> Candidate:
    return Candidate(start, end, text, frozenset())


def numbered_sentences(text: str) -> SentenceVectors:
    """Sentence vectors whose every entry is the sentence's number plus one, so a row tells which it came from."""
    sentences = split_sentences(text)
    vectors = np.array([[i + 1.0] * SENTENCE_WIDTH for i in range(len(sentences))], dtype=np.float32)
    return SentenceVectors([s.start for s in sentences], vectors.reshape(len(sentences), SENTENCE_WIDTH))


def test_longer_span_with_the_same_role_wins() -> None:
    full, part = cand(0, 25, "Top Glove Corporation Bhd"), cand(4, 9, "Glove")
    kept = decide([full, part], probs({"PRODUCER": 0.8}, {"PRODUCER": 0.95}), THRESHOLDS)
    assert [(c.text, role) for c, role, _ in kept] == [("Top Glove Corporation Bhd", "PRODUCER")]


def test_overlapping_spans_with_different_roles_keep_the_more_probable() -> None:
    place, org = cand(0, 6, "Kansas"), cand(0, 13, "Kansas Cotton")
    kept = decide([place, org], probs({"LOCATION": 0.6}, {"PRODUCER": 0.9}), THRESHOLDS)
    assert [role for _, role, _ in kept] == ["PRODUCER"]


def test_below_threshold_is_dropped() -> None:
    kept = decide([cand(0, 5, "Sabah")], probs({"LOCATION": 0.45}), THRESHOLDS)
    assert kept == []
    assert decide([cand(0, 5, "Sabah")], probs({"LOCATION": 0.45}), {**THRESHOLDS, "LOCATION": 0.4})


@pytest.fixture(scope="module")
def generic() -> spacy.language.Language:
    return spacy.load(Settings().spacy_model, exclude=GENERIC_EXCLUDE)


def _gazetteer_candidates(generic: spacy.language.Language, doc: spacy.tokens.Doc) -> list[Candidate]:
    """Candidates without a corpus recogniser: the pretrained pipeline's and the gazetteers'."""
    reference = load_reference(Settings().reference_dir)
    return candidates(
        None,
        doc,
        commodity_matcher(generic, EntityNormalizer.build(reference)),
        producer_matcher(generic, reference),
        reference,
    )


def test_candidates_pool_sources_and_features_have_the_declared_width(generic: spacy.language.Language) -> None:
    text = (
        "KUALA LUMPUR — Workers at Top Glove Corporation Bhd factories in Klang, Malaysia made gloves "
        "for export, Anna Tan said."
    )
    doc = generic(text)
    cands = _gazetteer_candidates(generic, doc)
    by_text = {c.text: c for c in cands}
    assert "gazetteer:order" in by_text["Top Glove Corporation Bhd"].sources
    assert "gazetteer:commodity" in by_text["gloves"].sources
    assert "gazetteer:country" in by_text["Malaysia"].sources
    cands = [Candidate(0, 12, "KUALA LUMPUR", frozenset()), *cands]
    features = mention_features(cands, doc, numbered_sentences(text))
    assert features.shape == (len(cands), N_FEATURES)
    dateline = 2 * len(SOURCES) + 9
    assert features[0, dateline] == 1.0
    assert features[cands.index(by_text["Malaysia"]), dateline] == 0.0


def test_goods_phrases_outside_the_vocabulary_become_candidates(generic: spacy.language.Language) -> None:
    doc = generic(
        "CBP detained shipments of pearlescent effect pigments. The WRO covers brake calipers manufactured by "
        "the company. Officials met in Geneva."
    )
    phrases = {doc[start:end].text for start, end in goods_phrases(doc)}
    assert phrases == {"pearlescent effect pigments", "brake calipers"}


def test_goods_phrases_need_part_of_speech_tags(generic: spacy.language.Language) -> None:
    untagged = spacy.blank("en")("Imports of brake calipers were detained.")
    assert goods_phrases(untagged) == []


def test_relational_features_tie_a_place_to_goods_in_its_sentence(generic: spacy.language.Language) -> None:
    text = "Palm oil produced in Sabah reaches buyers in Chicago.\nThe report was launched in Geneva."
    doc = generic(text)
    cands = _gazetteer_candidates(generic, doc)
    cands += [
        Candidate(text.index("Sabah"), text.index("Sabah") + 5, "Sabah", frozenset({"gazetteer:region"})),
        Candidate(text.index("Geneva"), text.index("Geneva") + 6, "Geneva", frozenset({"generic:GPE"})),
    ]
    features = mention_features(cands, doc, numbered_sentences(text))
    relational = 2 * len(SOURCES) + 14
    sabah, geneva = features[-2], features[-1]
    assert sabah[relational] == 1.0  # shares a sentence with "Palm oil"
    assert geneva[relational] == 0.0
    assert sabah[relational + 3] == 1.0 and sabah[relational + 6] == 1.0  # production cue, "in Sabah"


def test_each_candidate_reads_the_embedding_of_its_own_sentence(generic: spacy.language.Language) -> None:
    text = "Cotton is picked in Lebap. The report was launched in Geneva. Officials spoke in Ashgabat."
    doc = generic(text)
    places = [
        Candidate(text.index(name), text.index(name) + len(name), name, frozenset({"generic:GPE"}))
        for name in ("Lebap", "Geneva", "Ashgabat")
    ]
    features = mention_features(places, doc, numbered_sentences(text))
    assert [float(row[-1]) for row in features] == [1.0, 2.0, 3.0]
    assert np.all(features[:, N_FEATURES - SENTENCE_WIDTH :] == features[:, -1:])


def test_a_text_without_sentences_reads_zeros() -> None:
    empty = SentenceVectors([], np.zeros((0, SENTENCE_WIDTH), dtype=np.float32))
    assert not empty.of(10).any()


def test_sentence_vectors_of_another_width_are_refused(generic: spacy.language.Language) -> None:
    text = "Cotton is picked in Lebap."
    wrong = SentenceVectors([0], np.ones((1, SENTENCE_WIDTH - 1), dtype=np.float32))
    with pytest.raises(ValueError, match="wide"):
        mention_features([Candidate(20, 25, "Lebap", frozenset())], generic(text), wrong)


def test_classifier_refuses_weights_of_another_width(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    model = MentionClassifier(
        "t", np.zeros(3), np.ones(3), np.zeros((len(MENTION_LABELS), 3)), np.zeros(len(MENTION_LABELS)), {}
    )
    model.save(folder / "m.npz")
    with pytest.raises(ValueError, match="features"):
        MentionClassifier.load(folder / "m.npz", "t", {})


def test_sentence_width_is_the_encoders() -> None:
    from service.nlp.models.encoder import EMBEDDING_DIM

    assert SENTENCE_WIDTH == EMBEDDING_DIM


def test_the_mention_stage_refuses_to_run_without_sentence_vectors(generic: spacy.language.Language) -> None:
    from service.nlp.models.entities import MentionReader, MentionStage, TrainedEntityExtractor

    reference = load_reference(Settings().reference_dir)
    width = N_FEATURES
    intercept = np.zeros(len(MENTION_LABELS))
    intercept[MENTION_LABELS.index("LOCATION")] = 5.0  # every candidate reads as a production place
    classifier = MentionClassifier(
        "t", np.zeros(width), np.ones(width), np.zeros((len(MENTION_LABELS), width)), intercept, THRESHOLDS
    )
    stage = MentionStage(MentionReader.build(generic, reference), classifier)
    extractor = TrainedEntityExtractor.build(generic, reference, False, False, mentions=stage)
    text = "Cotton is picked in Lebap, Turkmenistan."
    doc = generic(text)
    with pytest.raises(ValueError, match="sentence vectors"):
        extractor.extract_all([doc])
    (entities,) = extractor.extract_all([doc], [numbered_sentences(text)])
    assert "Turkmenistan" in {location.text for location in entities.locations}
