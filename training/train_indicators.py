"""Train the indicator tagger (sentence heads over MiniLM embeddings) and its evidence-status head.

Variants are compared on the corpus dev split (document-level micro and macro F1 with per-label thresholds
chosen on that split); the best is refitted and saved to models/indicators/ with its comparison table. The
shared development set is never used here: `triage eval` measures the shipped model on it afterwards.

usage: python training/train_indicators.py [--out models/indicators]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import itertools

from service.config import REPO_ROOT
from service.contract import INDICATOR_IDS
from service.nlp.models.encoder import SentenceEncoder, with_context
from service.nlp.models.indicators import STATUS_CLASSES, IndicatorModel, indicator_features
from training.datasets import SentenceSet, embed_cached, english, load_docs, load_extra, sentence_set

VERSION = "indicators-minilm-linear-1"


@dataclass
class Variant:
    name: str
    context: bool
    lexicon: bool
    c: float
    discount_weight: float = 1.0
    rules_veto: bool = False


VARIANTS = [
    Variant("sentence only, C=2", context=False, lexicon=False, c=2.0),
    Variant("sentence+context, C=0.5", context=True, lexicon=False, c=0.5),
    Variant("sentence+context, C=2", context=True, lexicon=False, c=2.0),
    Variant("sentence+context, C=8", context=True, lexicon=False, c=8.0),
    Variant("sentence+context+lexicon (hybrid), C=2", context=True, lexicon=True, c=2.0),
    Variant("sentence+context+lexicon (hybrid), C=8", context=True, lexicon=True, c=8.0),
    Variant("hybrid, C=2, discounted mentions x3", context=True, lexicon=True, c=2.0, discount_weight=3.0),
    Variant("hybrid, C=2, discounted mentions x6", context=True, lexicon=True, c=2.0, discount_weight=6.0),
    Variant(
        "hybrid, C=2, + rules negation/remediation veto", context=True, lexicon=True, c=2.0, rules_veto=True
    ),
    Variant(
        "hybrid, C=2, x3, + rules veto",
        context=True,
        lexicon=True,
        c=2.0,
        discount_weight=3.0,
        rules_veto=True,
    ),
    Variant(
        "hybrid, C=2, x6, + rules veto",
        context=True,
        lexicon=True,
        c=2.0,
        discount_weight=6.0,
        rules_veto=True,
    ),
]


def build_features(encoder: SentenceEncoder, data: SentenceSet, variant: Variant) -> NDArray[np.float32]:
    embeddings = embed_cached(encoder, data.texts)
    if variant.context:
        base = with_context(embeddings, data.boundaries)
    else:
        base = np.hstack([embeddings, np.zeros_like(embeddings)]).astype(np.float32)
    return indicator_features(base, data.texts, variant.lexicon)


def fit_heads(
    x: NDArray[np.float32], y: NDArray[np.int8], mentioned: NDArray[np.int8], c: float, discount_weight: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """One logistic head per indicator; negated, remediated and hypothetical mentions of an indicator are its
    hardest negatives, so they weigh `discount_weight` times an ordinary sentence."""
    weights = np.zeros((x.shape[1], y.shape[1]))
    bias = np.zeros(y.shape[1])
    for k in range(y.shape[1]):
        head = LogisticRegression(C=c, class_weight="balanced", max_iter=3000)
        sample_weight = np.where((mentioned[:, k] == 1) & (y[:, k] == 0), discount_weight, 1.0)
        head.fit(x, y[:, k], sample_weight=sample_weight)
        weights[:, k] = head.coef_[0]
        bias[k] = head.intercept_[0]
    return weights, bias


def fit_status(
    x: NDArray[np.float32], status: list[str | None], c: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    rows = [i for i, s in enumerate(status) if s is not None]
    target = np.array([STATUS_CLASSES.index(str(status[i])) for i in rows])
    head = LogisticRegression(C=c, class_weight="balanced", max_iter=3000)
    head.fit(x[rows], target)
    weights = np.zeros((x.shape[1], len(STATUS_CLASSES)))
    bias = np.full(len(STATUS_CLASSES), -30.0)
    for column, cls in enumerate(head.classes_):
        weights[:, cls] = head.coef_[column]
        bias[cls] = head.intercept_[column]
    return weights, bias


def doc_raw_scores(
    model: IndicatorModel, x: NDArray[np.float32], boundaries: list[int], texts: list[str]
) -> NDArray[np.float64]:
    probs = model.sentence_probabilities(x)
    statuses = model.sentence_statuses(x, texts)
    counted = np.array([s in ("affirmed", "first_hand", "reported") for s in statuses])
    effective = probs * counted[:, None]
    out = np.zeros((len(boundaries) - 1, len(INDICATOR_IDS)))
    for d, (start, end) in enumerate(itertools.pairwise(boundaries)):
        if end > start:
            out[d] = effective[start:end].max(axis=0)
    return out


def choose_thresholds(raw: NDArray[np.float64], gold: NDArray[np.int8]) -> NDArray[np.float64]:
    thresholds = np.full(raw.shape[1], 0.5)
    for k in range(raw.shape[1]):
        best = (-1.0, 0.5)
        for t in np.arange(0.2, 0.96, 0.025):
            score = f1_score(gold[:, k], raw[:, k] >= t, zero_division=0.0)
            if score > best[0]:
                best = (float(score), float(t))
        thresholds[k] = best[1]
    return thresholds


def fit_platt(raw: NDArray[np.float64], gold: NDArray[np.int8]) -> NDArray[np.float64]:
    platt = np.tile([1.0, 0.0], (raw.shape[1], 1))
    clipped = np.clip(raw, 1e-6, 1 - 1e-6)
    logit = np.log(clipped / (1 - clipped))
    for k in range(raw.shape[1]):
        if gold[:, k].min() == gold[:, k].max():
            continue
        lr = LogisticRegression(C=10.0)
        lr.fit(logit[:, [k]], gold[:, k])
        platt[k] = [lr.coef_[0, 0], lr.intercept_[0]]
    return platt


def doc_metrics(
    pred: NDArray[np.bool_], scores: NDArray[np.float64], gold: NDArray[np.int8]
) -> dict[str, Any]:
    per_label = {
        i: round(float(f1_score(gold[:, k], pred[:, k], zero_division=0.0)), 3)
        for k, i in enumerate(INDICATOR_IDS)
    }
    aucs = [
        roc_auc_score(gold[:, k], scores[:, k])
        for k in range(gold.shape[1])
        if 0 < gold[:, k].sum() < len(gold)
    ]
    return {
        "micro_f1": round(float(f1_score(gold, pred, average="micro", zero_division=0.0)), 3),
        "macro_f1": round(float(np.mean(list(per_label.values()))), 3),
        "mean_auc": round(float(np.mean(aucs)), 3),
        "per_label_f1": per_label,
    }


def train_variant(
    encoder: SentenceEncoder, train: SentenceSet, dev: SentenceSet, variant: Variant
) -> tuple[IndicatorModel, dict[str, Any]]:
    x_train = build_features(encoder, train, variant)
    weights, bias = fit_heads(x_train, train.labels, train.mentioned, variant.c, variant.discount_weight)
    status_w, status_b = fit_status(x_train, train.status, variant.c)
    model = IndicatorModel(
        weights,
        bias,
        status_w,
        status_b,
        np.full(11, 0.5),
        np.tile([1.0, 0.0], (11, 1)),
        variant.lexicon,
        VERSION,
        variant.rules_veto,
    )
    x_dev = build_features(encoder, dev, variant)
    raw = doc_raw_scores(model, x_dev, dev.boundaries, dev.texts)
    gold = dev.doc_labels()
    model.thresholds = choose_thresholds(raw, gold)
    model.platt = fit_platt(raw, gold)
    metrics = doc_metrics(raw >= model.thresholds, model.calibrate(raw), gold)
    dev_status = [i for i, s in enumerate(dev.status) if s is not None]
    predicted_status = model.status_probabilities(x_dev[dev_status]).argmax(axis=1)
    metrics["status_accuracy"] = round(
        float(
            np.mean(
                [
                    STATUS_CLASSES[p] == dev.status[i]
                    for p, i in zip(predicted_status, dev_status, strict=True)
                ]
            )
        ),
        3,
    )
    metrics["discounted_fire_rate"] = discounted_fire_rate(model, x_dev, dev)
    return model, metrics


def discounted_fire_rate(model: IndicatorModel, x: NDArray[np.float32], data: SentenceSet) -> float:
    """Share of negated, remediated or hypothetical mentions of an indicator on which the tagger would count
    that sentence as evidence for it: the error the product must not make."""
    probs = model.sentence_probabilities(x)
    statuses = model.sentence_statuses(x, data.texts)
    counted = np.array([s in ("affirmed", "first_hand", "reported") for s in statuses])
    discounted = (data.mentioned == 1) & (data.labels == 0)
    fired = (probs >= model.thresholds) & counted[:, None] & discounted
    return round(float(fired.sum() / max(int(discounted.sum()), 1)), 3)


def main() -> int:
    parser = argparse.ArgumentParser(description="Train the indicator tagger")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "models" / "indicators")
    parser.add_argument("--encoder-adapter", type=Path, default=None, help="LoRA adapter folder for MiniLM")
    parser.add_argument(
        "--extra-train", type=Path, action="append", help="corpus-format JSONL added to the train split"
    )
    args = parser.parse_args()
    encoder = SentenceEncoder.load(threads=2, adapter=args.encoder_adapter)
    train = sentence_set(english(load_docs("train") + load_extra(args.extra_train)))
    dev = sentence_set(english(load_docs("dev")))
    test = sentence_set(english(load_docs("test")))
    print(
        f"train {len(train.docs)} docs / {len(train.texts)} sentences; dev {len(dev.docs)}; test {len(test.docs)}"
    )
    started = time.time()
    comparison = []
    best: tuple[float, IndicatorModel, Variant, dict[str, Any]] | None = None
    for variant in VARIANTS:
        model, metrics = train_variant(encoder, train, dev, variant)
        print(
            f"{variant.name:45s} dev micro {metrics['micro_f1']} macro {metrics['macro_f1']} "
            f"auc {metrics['mean_auc']} status acc {metrics['status_accuracy']} "
            f"discounted fire rate {metrics['discounted_fire_rate']}"
        )
        comparison.append(
            {"variant": variant.name, **{k: v for k, v in metrics.items() if k != "per_label_f1"}}
        )
        key = metrics["micro_f1"] + metrics["macro_f1"] - metrics["discounted_fire_rate"]
        if best is None or key > best[0]:
            best = (key, model, variant, metrics)
    assert best is not None
    _, model, variant, dev_metrics = best
    x_test = build_features(encoder, test, variant)
    raw = doc_raw_scores(model, x_test, test.boundaries, test.texts)
    test_metrics = doc_metrics(raw >= model.thresholds, model.calibrate(raw), test.doc_labels())
    print(
        f"chosen: {variant.name}; corpus test micro {test_metrics['micro_f1']} macro {test_metrics['macro_f1']} "
        f"auc {test_metrics['mean_auc']}"
    )
    model.save(
        args.out,
        {
            "variant": variant.name,
            "base_model": encoder.version,
            "trained_on": "corpora/wro_triage/v1 train split (English documents)",
            "thresholds_and_calibration_on": "corpora/wro_triage/v1 dev split",
            "comparison_on_corpus_dev": comparison,
            "corpus_dev": dev_metrics,
            "corpus_test": test_metrics,
            "train_documents": len(train.docs),
            "train_sentences": len(train.texts),
            "seconds": round(time.time() - started, 1),
        },
    )
    from service.nlp.models.manifest import ModelManifest

    manifest = ModelManifest.load(args.out.parent)
    manifest.record(
        "indicators",
        VERSION,
        args.out,
        {"corpus_test": {k: v for k, v in test_metrics.items() if k != "per_label_f1"}},
        "corpora/wro_triage/v1 train (heads), dev (thresholds, calibration)",
    )
    print(json.dumps({"corpus_test": test_metrics}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
