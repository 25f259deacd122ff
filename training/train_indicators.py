"""Train the indicator tagger (sentence heads over MiniLM embeddings, evidence-status head, document vote).

One deterministic command rebuilds the shipped model: every head recipe in RECIPES is trained on the corpus train
split and scored on the corpus dev split with the shipped document vote (the strongest counted sentence, halved
unless corroborated by a second sentence >= 0.5 or a lexicon hit, mixed 0.7 / 0.3 with the rules baseline's score;
see training/compare_aggregation.py). The best recipe by the key below is refitted into models/indicators/: per-label
thresholds and Platt calibration on the whole corpus dev split, corpus test reported, manifest entry recorded.
RECIPES[0] is version 2's recipe exactly (the reference); the others also apply the policy veto (a sentence in a
policy's or supplier rule's voice cannot count as evidence, see evidence_status.is_policy).

Selection key, fixed before the version 3 runs: views of the corpus dev split that resemble real government
documents, each scored with per-label thresholds chosen on one half of its documents and applied to the other
(2-fold, 10 random splits): all dev documents; the government-register documents (genres order/finding/
modification/revocation notice, government report, court case, or a `g*` slice); 165 concatenations of 3 dev
documents of different groups; 100 concatenations of 6. Key = mean over the four views of (micro-F1 + macro-F1) / 2.
A recipe whose discounted fire rate (share of negated, remediated or hypothetical mentions of an indicator whose
sentence the tagger counts at p >= 0.5) exceeds version 2's by more than 0.01 is not eligible.
The shared development set is never used here: `triage eval` measures the shipped model on it afterwards.

usage: python training/train_indicators.py [--out models/indicators] [--json var/eval/indicator_recipes.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
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

from service.config import REPO_ROOT
from service.contract import INDICATOR_IDS
from service.corpus import load_split
from service.nlp.models.encoder import SentenceEncoder
from service.nlp.models.indicators import STATUS_CLASSES, IndicatorModel
from service.nlp.rules.indicators import rules_scores
from service.nlp.sentences import Sentence
from training.compare_aggregation import best_thresholds
from training.datasets import (
    SentenceSet,
    embed_cached,
    english,
    government_register,
    load_docs,
    load_extra,
    sentence_set,
)

VERSION = "indicators-minilm-14"
# The document vote chosen for version 2 (training/compare_aggregation.py), kept for every recipe.
AGGREGATION, AGGREGATION_PARAM, RULES_WEIGHT = "min_evidence", 0.5, 0.3
FIRE_RATE_TOLERANCE = 0.01
# Denials, policies, fixes and hypotheticals written for selection only (not the tests' sentences, not corpus
# documents): a recipe that counts more of them than the best recipe does is not eligible.
PROBE_FILE = REPO_ROOT / "training" / "probes" / "discounted_mentions.jsonl"
# Probe sentences (of 66) a recipe may switch on beyond the fewest that any recipe eligible by fire rate does.
PROBE_TOLERANCE = 2


@dataclass(frozen=True)
class Recipe:
    """How the sentence heads are trained. `class_weight`: `balanced` (positives and negatives weigh the same in
    total), `sqrt` (positives weigh sqrt(negatives / positives)) or `none`; `hard_negative_weight`: weight of
    sentences where an indicator's lexicon matches but the sentence is not labelled with it at all (generic,
    definitional or off-topic mentions); `discount_weight`: weight of negated, remediated and hypothetical
    mentions, the hardest negatives."""

    name: str
    context: str = "neighbours"
    class_weight: str = "balanced"
    hard_negative_weight: float = 1.0
    discount_weight: float = 6.0
    c: float = 2.0
    head: str = "linear"  # or "mlp": one ReLU layer of MLP_HIDDEN units shared by the 11 outputs
    policy_veto: bool = True  # see IndicatorModel.policy_veto
    cue_gated_discount: bool = False  # see IndicatorModel.cue_gated_discount
    status_gate: str = "argmax"  # see IndicatorModel.head_statuses
    status_cue_features: bool = False  # see IndicatorModel.status_inputs


RECIPES = [
    Recipe("version 2 recipe (balanced, neighbours)", policy_veto=False),
    Recipe("version 2 recipe + policy veto"),
    Recipe("class weighting: none", class_weight="none"),
    Recipe("class weighting: sqrt", class_weight="sqrt"),
    Recipe("hard negatives (lexicon hit, unlabelled) x3", hard_negative_weight=3.0),
    Recipe("wide context (+/-3 window, document mean)", context="wide"),
    Recipe("wide context + hard negatives x3", context="wide", hard_negative_weight=3.0),
    Recipe("class weighting: sqrt + hard negatives x3", class_weight="sqrt", hard_negative_weight=3.0),
    Recipe(
        "wide context + sqrt + hard negatives x3",
        context="wide",
        class_weight="sqrt",
        hard_negative_weight=3.0,
    ),
    Recipe("MLP head", head="mlp"),
    Recipe(
        "MLP head, wide context + hard negatives x3", context="wide", hard_negative_weight=3.0, head="mlp"
    ),
    # Added in the eighth round, before their runs: the status head's negated/remediated readings need a cue.
    Recipe(
        "wide context + hard negatives x3, cue-gated discounts",
        context="wide",
        hard_negative_weight=3.0,
        cue_gated_discount=True,
    ),
    Recipe(
        "MLP head, wide context + hard negatives x3, cue-gated discounts",
        context="wide",
        hard_negative_weight=3.0,
        head="mlp",
        cue_gated_discount=True,
    ),
    # Added in the ninth round, before their runs: counts-or-not decided on summed status mass.
    Recipe(
        "MLP head, wide context + hard negatives x3, status mass gate",
        context="wide",
        hard_negative_weight=3.0,
        head="mlp",
        status_gate="mass",
    ),
    Recipe(
        "MLP head, wide context + hard negatives x3, soft status mass",
        context="wide",
        hard_negative_weight=3.0,
        head="mlp",
        status_gate="mass_soft",
    ),
    Recipe(
        "MLP head, wide context + hard negatives x3, cue features in the status head",
        context="wide",
        hard_negative_weight=3.0,
        head="mlp",
        status_cue_features=True,
    ),
    Recipe(
        "MLP head, wide context + hard negatives x3, status cue features + mass gate",
        context="wide",
        hard_negative_weight=3.0,
        head="mlp",
        status_gate="mass",
        status_cue_features=True,
    ),
]
# The MLP's settings, fixed before its runs (not tuned): hidden units, epochs, batch, learning rate, weight decay,
# dropout and seed.
MLP_HIDDEN, MLP_EPOCHS, MLP_BATCH, MLP_LR, MLP_DECAY, MLP_DROPOUT, MLP_SEED = (
    256,
    20,
    128,
    1e-3,
    1e-4,
    0.2,
    307,
)


def empty_model(recipe: Recipe, n_features: int) -> IndicatorModel:
    return IndicatorModel(
        weights=np.zeros((n_features, len(INDICATOR_IDS))),
        bias=np.zeros(len(INDICATOR_IDS)),
        status_weights=np.zeros((n_features, len(STATUS_CLASSES))),
        status_bias=np.zeros(len(STATUS_CLASSES)),
        thresholds=np.full(len(INDICATOR_IDS), 0.5),
        platt=np.tile([1.0, 0.0], (len(INDICATOR_IDS), 1)),
        use_lexicon=True,
        version=VERSION,
        rules_veto=True,
        aggregation=AGGREGATION,
        aggregation_param=AGGREGATION_PARAM,
        rules_weight=RULES_WEIGHT,
        context=recipe.context,
        policy_veto=recipe.policy_veto,
        cue_gated_discount=recipe.cue_gated_discount,
        status_gate=recipe.status_gate,
        status_cue_features=recipe.status_cue_features,
        all_indicator_statements=True,
    )


def set_features(model: IndicatorModel, encoder: SentenceEncoder, data: SentenceSet) -> NDArray[np.float32]:
    return model.features(embed_cached(encoder, data.texts), data.boundaries, data.texts)


def sample_weights(x: NDArray[np.float32], data: SentenceSet, recipe: Recipe) -> NDArray[np.float64]:
    """(sentences, 11) weights of each sentence for each indicator's head, before class weighting
    (the lexicon hits are x's last 11 columns)."""
    y, mentioned = data.labels, data.mentioned
    lexicon = x[:, -len(INDICATOR_IDS) :] > 0
    weight = np.where((mentioned == 1) & (y == 0), recipe.discount_weight, 1.0)
    weight = np.where(lexicon & (mentioned == 0), recipe.hard_negative_weight, weight)
    positives = y == 1
    if recipe.class_weight == "sqrt":
        weight = weight * np.where(
            positives, np.sqrt((~positives).sum(axis=0) / np.maximum(positives.sum(axis=0), 1)), 1.0
        )
    return np.asarray(weight, dtype=np.float64)


def fit_heads(
    x: NDArray[np.float32], data: SentenceSet, recipe: Recipe
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """One logistic head per indicator, weighted as the recipe says."""
    y = data.labels
    weight = sample_weights(x, data, recipe)
    weights = np.zeros((x.shape[1], y.shape[1]))
    bias = np.zeros(y.shape[1])
    for k in range(y.shape[1]):
        balanced = "balanced" if recipe.class_weight == "balanced" else None
        head = LogisticRegression(C=recipe.c, class_weight=balanced, max_iter=3000)
        head.fit(x, y[:, k], sample_weight=weight[:, k])
        weights[:, k] = head.coef_[0]
        bias[k] = head.intercept_[0]
    return weights, bias


def fit_mlp(
    x: NDArray[np.float32], data: SentenceSet, recipe: Recipe
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """A shared ReLU layer and 11 sigmoid outputs, trained with the recipe's per-indicator weights in the loss
    (balanced class weighting as sklearn's); returns hidden weights, hidden bias, output weights, output bias."""
    import torch

    y = data.labels.astype(np.float64)
    weight = sample_weights(x, data, recipe)
    if recipe.class_weight == "balanced":
        positives = y.sum(axis=0)
        weight = weight * np.where(y == 1, len(y) / (2 * positives), len(y) / (2 * (len(y) - positives)))
    weight = weight / weight.mean(axis=0)
    torch.manual_seed(MLP_SEED)
    hidden = torch.nn.Linear(x.shape[1], MLP_HIDDEN)
    output = torch.nn.Linear(MLP_HIDDEN, y.shape[1])
    net = torch.nn.Sequential(hidden, torch.nn.ReLU(), torch.nn.Dropout(MLP_DROPOUT), output)
    optimiser = torch.optim.AdamW(net.parameters(), lr=MLP_LR, weight_decay=MLP_DECAY)
    tx, ty, tw = (torch.tensor(a, dtype=torch.float32) for a in (x, y, weight))
    generator = torch.Generator().manual_seed(MLP_SEED)
    net.train()
    for _ in range(MLP_EPOCHS):
        for batch in torch.split(torch.randperm(len(tx), generator=generator), MLP_BATCH):
            optimiser.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                net(tx[batch]), ty[batch], weight=tw[batch]
            )
            loss.backward()  # type: ignore[no-untyped-call]
            optimiser.step()
    net.eval()

    def array(t: torch.Tensor) -> NDArray[np.float64]:
        return np.asarray(t.detach().numpy(), dtype=np.float64)

    return array(hidden.weight.T), array(hidden.bias), array(output.weight.T), array(output.bias)


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


def train_recipe(encoder: SentenceEncoder, train: SentenceSet, recipe: Recipe) -> IndicatorModel:
    probe = empty_model(recipe, 0)
    x = set_features(probe, encoder, train)
    model = empty_model(recipe, x.shape[1])
    if recipe.head == "mlp":
        model.hidden_weights, model.hidden_bias, model.weights, model.bias = fit_mlp(x, train, recipe)
    else:
        model.weights, model.bias = fit_heads(x, train, recipe)
    model.status_weights, model.status_bias = fit_status(
        model.status_inputs(x, train.texts), train.status, recipe.c
    )
    return model


@dataclass
class DevScores:
    """A model's per-document sentence scores on the corpus dev split (status-counted)."""

    probs: list[NDArray[np.float64]]
    lexicon: list[NDArray[np.float64]]
    status_accuracy: float
    discounted_fire_rate: float


def dev_scores(model: IndicatorModel, encoder: SentenceEncoder, data: SentenceSet) -> DevScores:
    x = set_features(model, encoder, data)
    probs = model.sentence_probabilities(x)
    statuses, weight = model.sentence_weights(x, data.texts)
    effective = probs * weight[:, None]
    lexicon = model.lexicon_matrix([], x) * (weight > 0)[:, None]
    labelled = [i for i, s in enumerate(data.status) if s is not None]
    status_accuracy = float(np.mean([statuses[i] == data.status[i] for i in labelled]))
    discounted = (data.mentioned == 1) & (data.labels == 0)
    fired = (effective >= 0.5) & discounted
    spans = list(itertools.pairwise(data.boundaries))
    return DevScores(
        [effective[s:e] for s, e in spans],
        [lexicon[s:e] for s, e in spans],
        round(status_accuracy, 3),
        round(float(fired.sum() / max(int(discounted.sum()), 1)), 3),
    )


def load_probes(path: Path = PROBE_FILE) -> list[dict[str, str]]:
    """Probe sentences, one JSON object per line: indicator, form (denial, policy, remediated, hypothetical),
    text."""
    return load_split(path)


def probe_switch_ons(
    model: IndicatorModel,
    encoder: SentenceEncoder,
    probes: list[dict[str, str]],
    thresholds: NDArray[np.float64],
) -> list[str]:
    """The probe sentences that switch their indicator on, each read as a one-sentence document (a short
    e-allegation) through the model's own decision (`tag`) with the given thresholds."""
    texts = [probe["text"] for probe in probes]
    embeddings = embed_cached(encoder, texts)
    thresholded = dataclasses.replace(model, thresholds=thresholds)
    fired: list[str] = []
    for k, (probe, text) in enumerate(zip(probes, texts, strict=True)):
        features = thresholded.features(embeddings[k : k + 1], [0, 1], [text])
        results = thresholded.tag([Sentence(0, len(text), text)], features)
        if next(r for r in results if r.id == probe["indicator"]).present:
            fired.append(text)
    return fired


def evaluate(scores: DevScores, data: SentenceSet, rules: NDArray[np.float64]) -> dict[str, Any]:
    """The selection key and its parts (see the module docstring)."""
    from training.compare_aggregation import DocView, concatenated, cross_validated

    docs = data.docs
    full = DocView("dev (all)", scores.probs, scores.lexicon, rules, data.doc_labels())
    gov = [i for i, d in enumerate(docs) if government_register(d)]
    groups = [str(d["group"]) for d in docs]
    views = [
        full,
        DocView(
            "dev (government register)",
            [full.probs[i] for i in gov],
            [full.lexicon[i] for i in gov],
            rules[gov],
            full.gold[gov],
        ),
        concatenated(full, groups, size=3, count=165),
        concatenated(full, groups, size=6, count=100),
    ]
    row: dict[str, Any] = {}
    parts = []
    for view in views:
        result = cross_validated(view, "rules_mix_min_evidence", 1 - RULES_WEIGHT)
        row[view.name] = result
        parts.append((result["micro_f1"] + result["macro_f1"]) / 2)
    row["key"] = round(float(np.mean(parts)), 4)
    row["status_accuracy"] = scores.status_accuracy
    row["discounted_fire_rate"] = scores.discounted_fire_rate
    return row


def document_raw(model: IndicatorModel, encoder: SentenceEncoder, data: SentenceSet) -> NDArray[np.float64]:
    """Document scores through the model's own code path (`document_scores`), on the corpus sentences."""
    x = set_features(model, encoder, data)
    out = np.zeros((len(data.docs), len(INDICATOR_IDS)))
    for d, (doc, (s, e)) in enumerate(zip(data.docs, itertools.pairwise(data.boundaries), strict=True)):
        sentences = [
            Sentence(t["start"], t["end"], doc["text"][t["start"] : t["end"]]) for t in doc["sentences"]
        ]
        out[d] = model.document_scores(sentences, x[s:e])
    return out


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


def choose(table: list[dict[str, Any]], recipes: list[Recipe]) -> int:
    """Index of the best eligible recipe by the key (RECIPES[0] is version 2's recipe, the reference).

    Eligible: a discounted fire rate on the corpus dev split within FIRE_RATE_TOLERANCE of the reference's, and no
    more than PROBE_TOLERANCE probe sentences switched on beyond the fewest any recipe eligible by fire rate
    switches on. The probe (training/probes/) holds denials told as good conditions, fixes told as events and
    risks in modal verbs, which carry few of the cues the corpus's fire rate rewards; the tenth round's probing found
    the shipped tagger switching on 15 of its 66.

    Cue-gated recipes are measured but never ship: a true denial that names no cue the regexes know ("inspectors
    found the dormitories clean, spacious and well ventilated") then counts as evidence. The ninth round's key
    picked one, and the shipped model failed the test that no negated, policy or remediated mention switches an
    indicator on, which is a requirement of the product, not a trade-off for the key."""
    limit = table[0]["discounted_fire_rate"] + FIRE_RATE_TOLERANCE
    eligible = [
        i
        for i, row in enumerate(table)
        if row["discounted_fire_rate"] <= limit and not recipes[i].cue_gated_discount
    ]
    fewest = min(table[i]["probe_switch_ons"] for i in eligible)
    eligible = [i for i in eligible if table[i]["probe_switch_ons"] <= fewest + PROBE_TOLERANCE]
    return max(eligible, key=lambda i: table[i]["key"])


def main() -> int:
    parser = argparse.ArgumentParser(description="Train the indicator tagger")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "models" / "indicators")
    parser.add_argument("--json", type=Path, default=REPO_ROOT / "var" / "eval" / "indicator_recipes.json")
    parser.add_argument("--encoder-adapter", type=Path, default=None, help="LoRA adapter folder for MiniLM")
    parser.add_argument(
        "--extra-train", type=Path, action="append", help="corpus-format JSONL added to the train split"
    )
    parser.add_argument(
        "--only", type=int, action="append", help="train only these RECIPES indices (0 always)"
    )
    args = parser.parse_args()
    encoder = SentenceEncoder.load(threads=2, adapter=args.encoder_adapter)
    train = sentence_set(english(load_docs("train") + load_extra(args.extra_train)))
    dev = sentence_set(english(load_docs("dev")))
    test = sentence_set(english(load_docs("test")))
    print(
        f"train {len(train.docs)} docs / {len(train.texts)} sentences; dev {len(dev.docs)}; test {len(test.docs)}"
    )
    rules = np.array(
        [rules_scores(dev.texts[s:e]) for s, e in itertools.pairwise(dev.boundaries)], dtype=np.float64
    )
    started = time.time()
    chosen = sorted({0, *(args.only or range(len(RECIPES)))})
    recipes = [RECIPES[i] for i in chosen]
    probes = load_probes()
    gold = dev.doc_labels()
    table: list[dict[str, Any]] = []
    models: list[IndicatorModel] = []
    dev_raw: list[NDArray[np.float64]] = []  # each recipe's document scores on dev, reused for the chosen one
    for recipe in recipes:
        began = time.time()
        model = train_recipe(encoder, train, recipe)
        row = {"recipe": recipe.name, **evaluate(dev_scores(model, encoder, dev), dev, rules)}
        dev_raw.append(document_raw(model, encoder, dev))
        switched_on = probe_switch_ons(model, encoder, probes, best_thresholds(dev_raw[-1], gold))
        row["probe_switch_ons"] = len(switched_on)
        table.append(row)
        models.append(model)
        print(
            f"{recipe.name:55s} key {row['key']:.4f} | "
            + " | ".join(
                f"{name[:16]} {row[name]['micro_f1']:.3f}/{row[name]['macro_f1']:.3f}/{row[name]['mean_auc']:.3f}"
                f" fp {row[name]['fp_per_doc']:.2f}"
                for name in row
                if isinstance(row[name], dict)
            )
            + f" | status {row['status_accuracy']} discounted fire {row['discounted_fire_rate']}"
            + f" probe {row['probe_switch_ons']}"
            + f" ({time.time() - began:.0f}s)",
            flush=True,
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(table, indent=1), encoding="utf-8")
    best = choose(table, recipes)
    recipe, model = recipes[best], models[best]
    print(f"best by key: {recipe.name} ({table[best]['key']})")
    raw = dev_raw[best]
    model.thresholds = best_thresholds(raw, gold)
    model.platt = fit_platt(raw, gold)
    dev_metrics = doc_metrics(raw >= model.thresholds, model.calibrate(raw), gold)
    raw_test = document_raw(model, encoder, test)
    test_metrics = doc_metrics(raw_test >= model.thresholds, model.calibrate(raw_test), test.doc_labels())
    print(f"chosen: {recipe.name}; corpus dev {dev_metrics}; corpus test {test_metrics}")
    print(f"{time.time() - started:.0f}s")
    model.save(
        args.out,
        {
            "recipe": recipe.name,
            "base_model": encoder.version,
            "trained_on": "corpora/wro_triage/v1 train split (English documents)",
            "thresholds_and_calibration_on": "corpora/wro_triage/v1 dev split",
            "recipe_comparison_on_corpus_dev": table,
            "corpus_dev": dev_metrics,
            "corpus_test": test_metrics,
            "train_documents": len(train.docs),
            "train_sentences": len(train.texts),
        },
    )
    from service.nlp.models.manifest import ModelManifest

    manifest = ModelManifest.load(args.out.parent)
    manifest.record(
        "indicators",
        VERSION,
        args.out,
        {"corpus_test": {k: v for k, v in test_metrics.items() if k != "per_label_f1"}},
        "corpora/wro_triage/v1 train (heads), dev (recipe, thresholds, calibration)",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
