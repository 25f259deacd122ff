"""Train the US-nexus sentence head and the WRO-bar assessment over interpretable factors.

Factors come from the shipped entity and indicator stages run on the corpus documents, so the assessment learns
from the same inputs it sees in service. Regularisation is chosen on the corpus dev split; the corpus test split
is reported. The shared development set is never used here.

usage: python training/train_assessment.py [--out models/assessment]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.config import REPO_ROOT, Settings
from service.evaluation import expected_calibration_error
from service.nlp.models.assessment import FACTOR_NAMES, AssessmentModel, NexusModel, document_factors
from service.nlp.models.encoder import with_context
from service.nlp.pipeline import Pipeline
from service.nlp.sentences import Sentence, split_sentences
from training.datasets import embed_cached, english, load_docs, load_extra, sentence_set

VERSION = "assessment-logistic-1"


def document_features(
    pipeline: Pipeline, docs: list[dict[str, Any]]
) -> list[tuple[list[Sentence], NDArray[np.float32]]]:
    """Sentences and encoder features of each document, with embeddings from the on-disk cache."""
    encoder = pipeline.encoder
    assert encoder is not None
    split = [split_sentences(d["text"]) for d in docs]
    features = pipeline.sentence_features_for(split, embed=lambda texts: embed_cached(encoder, texts))
    assert features is not None
    return list(zip(split, features, strict=True))


def train_nexus(
    pipeline: Pipeline, train_docs: list[dict[str, Any]], dev_docs: list[dict[str, Any]]
) -> NexusModel:
    assert pipeline.encoder is not None
    data = sentence_set(train_docs)
    x = with_context(embed_cached(pipeline.encoder, data.texts), data.boundaries)
    head = LogisticRegression(C=2.0, class_weight="balanced", max_iter=3000)
    head.fit(x, data.nexus)
    model = NexusModel(head.coef_[0].astype(np.float64), float(head.intercept_[0]), 0.5)
    dev = sentence_set(dev_docs)
    xd = with_context(embed_cached(pipeline.encoder, dev.texts), dev.boundaries)
    probs = head.predict_proba(xd)[:, 1]
    doc_max = np.array(
        [
            probs[s:e].max() if e > s else 0.0
            for s, e in zip(dev.boundaries[:-1], dev.boundaries[1:], strict=True)
        ]
    )
    gold = np.array([d["us_nexus"] for d in dev_docs])
    best = max(np.arange(0.3, 0.96, 0.025), key=lambda t: float(np.mean((doc_max >= t) == gold)))
    model.threshold = float(best)
    return model


def factor_matrix(
    pipeline: Pipeline, nexus: NexusModel, docs: list[dict[str, Any]]
) -> tuple[NDArray[np.float64], list[bool]]:
    """Factors of each document from the shipped stages, and the nexus decision."""
    assert pipeline.indicator_model is not None
    rows = []
    nexus_present = []
    spacy_docs = pipeline.nlp.pipe([d["text"] for d in docs], batch_size=16)
    for doc, spacy_doc, (sentences, features) in zip(
        docs, spacy_docs, document_features(pipeline, docs), strict=True
    ):
        entities = pipeline.entities.extract(spacy_doc)
        indicators = pipeline.indicator_model.tag(sentences, features)
        nexus_result = nexus.assess(sentences, features)
        factors = document_factors(doc["text"], sentences, entities, indicators, nexus_result.score)
        rows.append([factors[name] for name in FACTOR_NAMES])
        nexus_present.append(nexus_result.present)
    return np.array(rows, dtype=np.float64), nexus_present


def main() -> int:
    parser = argparse.ArgumentParser(description="Train the assessment")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "models" / "assessment")
    parser.add_argument(
        "--extra-train", type=Path, action="append", help="corpus-format JSONL added to the train split"
    )
    args = parser.parse_args()
    started = time.time()
    pipeline = Pipeline.load(Settings(pipeline="models"), with_trained_assessment=False)
    splits = {name: english(load_docs(name)) for name in ("train", "dev", "test")}
    splits["train"] += english(load_extra(args.extra_train))
    nexus = train_nexus(pipeline, splits["train"], splits["dev"])
    matrices = {name: factor_matrix(pipeline, nexus, docs) for name, docs in splits.items()}
    x = {name: m for name, (m, _) in matrices.items()}
    tiers = {name: np.array([d["tier"] for d in docs]) for name, docs in splits.items()}
    mean = x["train"].mean(axis=0)
    scale = x["train"].std(axis=0) + 1e-6
    z = {name: (m - mean) / scale for name, m in x.items()}
    bar = {name: (t != "insufficient").astype(np.int8) for name, t in tiers.items()}
    best: tuple[float, float] | None = None
    for c in (0.05, 0.1, 0.3, 1.0, 3.0):
        model = LogisticRegression(C=c, max_iter=2000).fit(z["train"], bar["train"])
        accuracy = float(np.mean(model.predict(z["dev"]) == bar["dev"]))
        auc = float(roc_auc_score(bar["dev"], model.predict_proba(z["dev"])[:, 1]))
        print(f"C={c}: dev bar accuracy {accuracy:.3f} auc {auc:.3f}")
        if best is None or accuracy + auc > best[0]:
            best = (accuracy + auc, c)
    assert best is not None
    bar_model = LogisticRegression(C=best[1], max_iter=2000).fit(
        np.vstack([z["train"], z["dev"]]), np.concatenate([bar["train"], bar["dev"]])
    )
    met = {name: tiers[name] != "insufficient" for name in tiers}
    conclusive_model = LogisticRegression(C=best[1], max_iter=2000, class_weight="balanced").fit(
        np.vstack([z["train"][met["train"]], z["dev"][met["dev"]]]),
        np.concatenate(
            [tiers["train"][met["train"]] == "conclusive", tiers["dev"][met["dev"]] == "conclusive"]
        ),
    )
    model = AssessmentModel(
        mean=mean,
        scale=scale,
        bar_weights=bar_model.coef_[0],
        bar_bias=float(bar_model.intercept_[0]),
        conclusive_weights=conclusive_model.coef_[0],
        conclusive_bias=float(conclusive_model.intercept_[0]),
        nexus=nexus,
        version=VERSION,
    )
    test_docs = splits["test"]
    scores = bar_model.predict_proba(z["test"])[:, 1]
    conclusive_p = conclusive_model.predict_proba(z["test"])[:, 1]
    predicted = np.where(
        scores < 0.5, "insufficient", np.where(conclusive_p >= 0.5, "conclusive", "reasonable")
    )
    nexus_pred = matrices["test"][1]
    test_metrics = {
        "tier_accuracy": round(float(np.mean(predicted == tiers["test"])), 3),
        "wro_bar_auc": round(float(roc_auc_score(bar["test"], scores)), 3),
        "wro_bar_ece": round(float(expected_calibration_error(list(scores), list(bar["test"]))), 3),
        "us_nexus_accuracy": round(
            float(np.mean(np.array(nexus_pred) == np.array([d["us_nexus"] for d in test_docs]))), 3
        ),
    }
    print("corpus test:", test_metrics)
    coefficients = {
        name: round(float(w), 3) for name, w in zip(FACTOR_NAMES, bar_model.coef_[0], strict=True)
    }
    model.save(
        args.out,
        {
            "trained_on": "corpora/wro_triage/v1 train+dev (C chosen on dev)",
            "regularisation_C": best[1],
            "bar_coefficients_standardised": coefficients,
            "corpus_test": test_metrics,
            "nexus_threshold": nexus.threshold,
            "seconds": round(time.time() - started, 1),
        },
    )
    from service.nlp.models.manifest import ModelManifest

    manifest = ModelManifest.load(args.out.parent)
    manifest.record(
        "assessment", VERSION, args.out, {"corpus_test": test_metrics}, "corpora/wro_triage/v1 train+dev"
    )
    print(json.dumps(coefficients, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
