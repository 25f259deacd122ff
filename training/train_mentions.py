"""Train the mention role classifier that sits on top of the entity recogniser (`service/nlp/models/mentions.py`).

It is trained on the corpus dev split, which the recogniser (trained on the train split) never saw, so it learns
how far the recogniser is to be trusted on unseen text rather than on its own training documents. Regularisation
and the per-role thresholds are chosen by grouped cross-validation on that split (a story and its retellings
stay in one fold); the corpus test split is reported. The shared development set is never used here.

usage: python training/train_mentions.py [--model models/entities] [--crossfit var/crossfit] [--dry-run]
       [--without-sentence]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import spacy
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.config import REPO_ROOT, Settings
from service.evaluation import lenient_match, score_predictions
from service.nlp.models.encoder import SentenceEncoder
from service.nlp.models.entities import MentionReader
from service.nlp.models.manifest import ModelManifest
from service.nlp.models.mentions import (
    GENERIC_EXCLUDE,
    MENTION_LABELS,
    SENTENCE_WIDTH,
    Candidate,
    MentionClassifier,
    SentenceVectors,
    decide,
)
from service.nlp.reference import load_reference
from service.nlp.sentences import split_sentences
from training.datasets import embed_cached, english, load_docs
from training.train_entities import train_recogniser

VERSION = "mentions-logistic-11"
ENTITY_VERSION = "entities-spacy-ner-11+mentions-logistic-11"
ROLE_KEYS = {"PRODUCER": "producers", "COMMODITY": "commodities", "LOCATION": "locations", "BUYER": "buyers"}
C_GRID = (0.001, 0.003, 0.01, 0.03)
THRESHOLD_GRID = tuple(round(t, 2) for t in np.arange(0.2, 0.81, 0.05))


class Featurised:
    """Candidates, features and gold roles of documents, each part read by its own recogniser (None: none)."""

    def __init__(
        self, parts: list[tuple[list[dict[str, Any]], Path | None]], encoder: SentenceEncoder
    ) -> None:
        settings = Settings()
        generic = spacy.load(settings.spacy_model, exclude=GENERIC_EXCLUDE)
        reader = MentionReader.build(generic, load_reference(settings.reference_dir))
        self.rows: list[dict[str, Any]] = []
        self.cands: list[list[Candidate]] = []
        feats: list[NDArray[np.float32]] = []
        labels: list[int] = []
        doc_index: list[int] = []
        for rows, model in parts:
            texts = [str(r["text"]) for r in rows]
            trained = spacy.load(model) if model is not None else None
            generic_docs = list(generic.pipe(texts, batch_size=16))
            trained_docs = (
                list(trained.pipe(texts, batch_size=16)) if trained is not None else [None] * len(rows)
            )
            split = [split_sentences(text) for text in texts]
            # One cache read for the whole part: the embedding cache is one file of every sentence seen.
            stacked = embed_cached(encoder, [s.text for doc in split for s in doc]).reshape(
                -1, SENTENCE_WIDTH
            )
            offsets = np.cumsum([0, *(len(doc) for doc in split)])
            for index, (row, gdoc, tdoc) in enumerate(zip(rows, generic_docs, trained_docs, strict=True)):
                vectors = SentenceVectors(
                    [s.start for s in split[index]], stacked[offsets[index] : offsets[index + 1]]
                )
                cands, features = reader.read(tdoc, gdoc, vectors)
                feats.append(features)
                for cand in cands:
                    labels.append(MENTION_LABELS.index(gold_role(cand, row["entities"])))
                    doc_index.append(len(self.rows))
                self.rows.append(row)
                self.cands.append(cands)
        self.x = np.concatenate(feats).astype(np.float64)
        self.y = np.array(labels, dtype=np.int64)
        self.doc_index = np.array(doc_index, dtype=np.int64)


def crossfit_parts(folder: Path) -> list[tuple[list[dict[str, Any]], Path | None]]:
    """Train-split documents, each read by a fold recogniser that did not train on it (see --crossfit).

    Each fold folder keeps the ids it was trained on, so documents added to the corpus later are read by a
    fold that never saw them and the folds need not be retrained."""
    train = english(load_docs("train"))
    groups = [str(r.get("group") or r["id"]) for r in train]
    folds = list(GroupKFold(n_splits=2).split(train, groups=groups))
    seen: list[set[str]] = []
    for k, (fit_idx, _held) in enumerate(folds):
        model = folder / f"fold-{k}"
        ids_file = folder / f"fold-{k}.train_ids.json"
        if not model.exists():
            train_recogniser([train[i] for i in fit_idx], english(load_docs("dev")), model, 2000)
            ids_file.write_text(json.dumps(sorted(str(train[i]["id"]) for i in fit_idx)), encoding="utf-8")
        seen.append(set(json.loads(ids_file.read_text(encoding="utf-8"))))
    parts: list[tuple[list[dict[str, Any]], Path | None]] = [
        ([], folder / f"fold-{k}") for k in range(len(folds))
    ]
    for index, row in enumerate(train):
        unseen = [k for k, ids in enumerate(seen) if str(row["id"]) not in ids]
        if unseen:  # documents newer than both folds alternate between them
            parts[unseen[index % len(unseen)]][0].append(row)
    return parts


def gold_role(cand: Candidate, gold_spans: list[dict[str, Any]]) -> str:
    """The role of the gold span this candidate overlaps and names (lenient, as the scorer matches)."""
    for span in gold_spans:
        if span["start"] < cand.end and cand.start < span["end"] and lenient_match(cand.text, span["text"]):
            return str(span["label"])
    return "NONE"


def fit(x: NDArray[np.float64], y: NDArray[np.int64], c: float) -> MentionClassifier:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    head = LogisticRegression(C=c, max_iter=4000)
    head.fit((x - mean) / scale, y)
    coef = np.zeros((len(MENTION_LABELS), x.shape[1]))
    intercept = np.full(len(MENTION_LABELS), -30.0)
    for row, label in enumerate(head.classes_):
        coef[label] = head.coef_[row]
        intercept[label] = head.intercept_[row]
    return MentionClassifier(VERSION, mean, scale, coef, intercept, {})


def doc_predictions(
    data: Featurised, probs: NDArray[np.float64], thresholds: dict[str, float]
) -> dict[str, dict[str, Any]]:
    preds: dict[str, dict[str, Any]] = {}
    for i, row in enumerate(data.rows):
        mask = data.doc_index == i
        chosen = decide(data.cands[i], probs[mask], thresholds)
        entities: dict[str, list[dict[str, str]]] = {key: [] for key in ROLE_KEYS.values()}
        for cand, label, _prob in chosen:
            if label in ROLE_KEYS:
                entities[ROLE_KEYS[label]].append({"text": cand.text})
        preds[str(row["id"])] = {"entities": entities}
    return preds


def entity_scores(
    data: Featurised, probs: NDArray[np.float64], thresholds: dict[str, float], only: set[str] | None = None
) -> dict[str, float]:
    """Lenient entity F1 over the documents (or the `only` ids among them), as the shared scorer counts."""
    rows = [r for r in data.rows if only is None or str(r["id"]) in only]
    scores = score_predictions(rows, doc_predictions(data, probs, thresholds))
    keys = ("producers_f1", "commodities_f1", "locations_f1")
    return {
        **{k: float(scores[k]) for k in keys},
        "mean_f1": round(sum(float(scores[k]) for k in keys) / 3, 3),
    }


def choose_thresholds(data: Featurised, probs: NDArray[np.float64], only: set[str]) -> dict[str, float]:
    """Per-role thresholds, one role at a time (the roles barely interact through the overlap rule)."""
    thresholds = {label: 0.5 for label in MENTION_LABELS[1:]}
    for label, key in (
        ("PRODUCER", "producers_f1"),
        ("COMMODITY", "commodities_f1"),
        ("LOCATION", "locations_f1"),
    ):
        best = (-1.0, 0.5)
        for t in THRESHOLD_GRID:
            score = entity_scores(data, probs, {**thresholds, label: t}, only)[key]
            if score > best[0]:
                best = (score, t)
        thresholds[label] = best[1]
    return thresholds


def out_of_fold(data: Featurised, c: float) -> NDArray[np.float64]:
    probs = np.zeros((len(data.y), len(MENTION_LABELS)))
    doc_groups = np.array([str(data.rows[i].get("group") or data.rows[i]["id"]) for i in data.doc_index])
    for train_idx, test_idx in GroupKFold(n_splits=5).split(data.x, data.y, doc_groups):
        model = fit(data.x[train_idx], data.y[train_idx], c)
        probs[test_idx] = model.probabilities(data.x[test_idx].astype(np.float32))
    return probs


def main() -> int:
    parser = argparse.ArgumentParser(description="Train the mention role classifier")
    parser.add_argument("--model", type=Path, default=REPO_ROOT / "models" / "entities")
    parser.add_argument(
        "--without-recogniser",
        action="store_true",
        help="candidates from the pretrained recogniser and the gazetteers only (a comparison variant)",
    )
    parser.add_argument(
        "--crossfit",
        type=Path,
        default=None,
        help="also learn from the train split, read by two recognisers each trained on the other half (kept in "
        "this folder, trained if missing), so the classifier sees the recogniser's errors on unseen text",
    )
    parser.add_argument(
        "--without-sentence",
        action="store_true",
        help="blank the sentence-embedding features (the comparison row for mentions-logistic-10's features); "
        "use with --dry-run",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the comparison, save nothing")
    args = parser.parse_args()
    started = time.time()
    recogniser = None if args.without_recogniser else args.model
    dev_rows = english(load_docs("dev"))
    parts: list[tuple[list[dict[str, Any]], Path | None]] = [(dev_rows, recogniser)]
    if args.crossfit is not None:
        parts += crossfit_parts(args.crossfit)
    encoder = SentenceEncoder.load(adapter=ModelManifest.load(args.model.parent.resolve()).encoder_adapter())
    data = Featurised(parts, encoder)
    test = Featurised([(english(load_docs("test")), recogniser)], encoder)
    if args.without_sentence:  # constant columns get unit scale and zero weight: as if they were not there
        data.x[:, -SENTENCE_WIDTH:] = 0.0
        test.x[:, -SENTENCE_WIDTH:] = 0.0
    dev_ids = {str(r["id"]) for r in dev_rows}
    print(f"candidates {len(data.y)}, roles {np.bincount(data.y, minlength=len(MENTION_LABELS)).tolist()}")
    comparison = []
    best: tuple[float, float, dict[str, float]] | None = None
    for c in C_GRID:
        probs = out_of_fold(data, c)
        thresholds = choose_thresholds(data, probs, dev_ids)
        scores = entity_scores(data, probs, thresholds, dev_ids)
        comparison.append({"C": c, "thresholds": thresholds, **scores})
        print(json.dumps(comparison[-1]))
        if best is None or scores["mean_f1"] > best[0]:
            best = (scores["mean_f1"], c, thresholds)
    assert best is not None
    _, c, thresholds = best
    model = fit(data.x, data.y, c)
    model.thresholds = thresholds
    test_scores = entity_scores(test, model.probabilities(test.x.astype(np.float32)), thresholds)
    print("corpus test", json.dumps(test_scores))
    if args.dry_run:
        return 0
    model.save(args.model / "mentions.npz")
    meta_path = args.model / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    trained_on = "corpora/wro_triage/v1 dev" + (
        " + train read by cross-fitted recognisers" if args.crossfit is not None else ""
    )
    meta.setdefault("wro_triage", {})["mentions"] = {
        "version": VERSION,
        "sentence_encoder": encoder.version,
        "C": c,
        "thresholds": thresholds,
        "trained_on": trained_on,
        "cross_validated_on_corpus_dev": comparison,
        "corpus_test": test_scores,
        "training_seconds": round(time.time() - started),
    }
    meta_path.write_text(json.dumps(meta, indent=1), encoding="utf-8")
    manifest = ModelManifest.load(args.model.parent.resolve())
    manifest.record(
        "entities",
        ENTITY_VERSION,
        args.model.resolve(),
        {"corpus_dev_cross_validated": comparison[C_GRID.index(c)], "corpus_test": test_scores},
        f"recogniser: corpora/wro_triage/v1 train; mention classifier: {trained_on}",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
