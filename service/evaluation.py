"""The evaluation metrics of CONTRACT.md, implemented in the project.

`triage eval` must print the same numbers as the team's reference scorer, so these follow its definitions
exactly (lenient entity matching, document-level indicator F1 and AUC, nexus accuracy, tier metrics); a test
checks the two agree on the development set.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from service.contract import INDICATOR_IDS

TIERS = ("insufficient", "reasonable", "conclusive")
ENTITY_TYPES = ("producers", "commodities", "locations")
_STOP = frozenset(
    {
        "the",
        "a",
        "an",
        "of",
        "and",
        "its",
        "their",
        "co",
        "ltd",
        "inc",
        "corp",
        "company",
        "limited",
        "sdn",
        "bhd",
    }
)


def norm_tokens(text: str) -> tuple[str, ...]:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
    tokens = re.findall(r"[a-z0-9]+", ascii_text)
    tokens = [t[:-1] if len(t) > 3 and t.endswith("s") and not t.endswith("ss") else t for t in tokens]
    kept = [t for t in tokens if t not in _STOP]
    return tuple(kept or tokens)


def lenient_match(a: str, b: str) -> bool:
    """Equal after normalisation, or one's tokens a contiguous run inside the other's."""
    ta, tb = norm_tokens(a), norm_tokens(b)
    if not ta or not tb:
        return False
    if ta == tb:
        return True
    short, long_ = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    return any(long_[i : i + len(short)] == short for i in range(len(long_) - len(short) + 1))


def _dedupe(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item and not any(norm_tokens(item) == norm_tokens(o) for o in out):
            out.append(item)
    return out


def entity_counts(gold: Sequence[str], pred: Sequence[str]) -> tuple[int, int, int, int]:
    """(matched gold, gold, counted predictions, matched predictions); aliases of matched gold are free."""
    gold_d, pred_d = _dedupe(gold), _dedupe(pred)
    used: set[int] = set()
    tp = 0
    for g in gold_d:
        for j, p in enumerate(pred_d):
            if j not in used and lenient_match(g, p):
                used.add(j)
                tp += 1
                break
    extra_ok = sum(
        1 for j, p in enumerate(pred_d) if j not in used and any(lenient_match(g, p) for g in gold_d)
    )
    return tp, len(gold_d), len(pred_d) - extra_ok, tp


def roc_auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    pos = [s for s, label in zip(scores, labels, strict=True) if label]
    neg = [s for s, label in zip(scores, labels, strict=True) if not label]
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def calibration_bins(
    scores: Sequence[float], labels: Sequence[bool], bins: int = 10
) -> list[tuple[float, float, int]]:
    """(mean predicted probability, observed frequency, count) for each non-empty equal-width bin."""
    out: list[tuple[float, float, int]] = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [i for i, s in enumerate(scores) if low <= s < high or (b == bins - 1 and s == 1.0)]
        if members:
            confidence = sum(scores[i] for i in members) / len(members)
            frequency = sum(1.0 for i in members if labels[i]) / len(members)
            out.append((confidence, frequency, len(members)))
    return out


def expected_calibration_error(scores: Sequence[float], labels: Sequence[bool], bins: int = 10) -> float:
    """Mean gap between predicted probability and observed frequency over equal-width bins, weighted by bin size."""
    return sum(n / len(scores) * abs(c - f) for c, f, n in calibration_bins(scores, labels, bins))


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two label sequences; None when chance agreement is total (one class only)."""
    if len(a) != len(b) or not a:
        raise ValueError("need two non-empty sequences of equal length")
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[k] * count_b[k] for k in set(count_a) | set(count_b)) / (n * n)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0


def _pred_texts(pred: Mapping[str, Any], key: str) -> list[str]:
    ents = pred.get("entities", {}).get(key, [])
    return [e["text"] if isinstance(e, dict) else str(e) for e in ents]


def score_predictions(
    gold_rows: Sequence[Mapping[str, Any]], preds: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """All metrics for one run, under the reference scorer's key names."""
    res: dict[str, Any] = {"documents": len(gold_rows), "missing_predictions": 0}
    ent = {t: [0, 0, 0, 0] for t in ENTITY_TYPES}
    ind = {i: [0, 0, 0] for i in INDICATOR_IDS}
    ind_scores: dict[str, tuple[list[float], list[bool]]] = {i: ([], []) for i in INDICATOR_IDS}
    nexus_correct = 0
    confusion = {(g, p): 0 for g in TIERS for p in TIERS}
    bar_scores: list[float] = []
    bar_labels: list[bool] = []
    for row in gold_rows:
        gold = row["gold"]
        pred = preds.get(str(row["id"]))
        if pred is None:
            res["missing_predictions"] += 1
            pred = {}
        for t in ENTITY_TYPES:
            counts = entity_counts(gold.get(t, []), _pred_texts(pred, t))
            for k in range(4):
                ent[t][k] += counts[k]
        gold_ind = set(gold.get("indicators", []))
        pred_ind = {i["id"] for i in pred.get("indicators", []) if i.get("present")}
        score_of = {
            i["id"]: float(i.get("score", 1.0 if i.get("present") else 0.0))
            for i in pred.get("indicators", [])
        }
        for i in INDICATOR_IDS:
            ind[i][0] += i in gold_ind and i in pred_ind
            ind[i][1] += i not in gold_ind and i in pred_ind
            ind[i][2] += i in gold_ind and i not in pred_ind
            ind_scores[i][0].append(score_of.get(i, 0.0))
            ind_scores[i][1].append(i in gold_ind)
        nexus = pred.get("us_nexus", {})
        pred_nexus = bool(nexus.get("present")) if isinstance(nexus, dict) else bool(nexus)
        nexus_correct += pred_nexus == bool(gold.get("us_nexus"))
        assessment = pred.get("assessment", {})
        tier = assessment.get("tier", "insufficient")
        tier = tier if tier in TIERS else "insufficient"
        confusion[(gold["tier"], tier)] += 1
        bar_scores.append(float(assessment.get("score", 1.0 if tier != "insufficient" else 0.0)))
        bar_labels.append(gold["tier"] != "insufficient")

    total = [0, 0, 0, 0]
    for t in ENTITY_TYPES:
        tp_g, n_g, n_p, tp_p = ent[t]
        p = tp_p / n_p if n_p else (1.0 if n_g == 0 else 0.0)
        r = tp_g / n_g if n_g else 1.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        res[f"{t}_p"], res[f"{t}_r"], res[f"{t}_f1"] = round(p, 3), round(r, 3), round(f, 3)
        total = [x + y for x, y in zip(total, ent[t], strict=True)]
    tp_g, n_g, n_p, tp_p = total
    p_all = tp_p / n_p if n_p else (1.0 if n_g == 0 else 0.0)
    r_all = tp_g / n_g if n_g else 1.0
    res["entities_f1"] = round(2 * p_all * r_all / (p_all + r_all), 3) if p_all + r_all else 0.0

    tp = sum(v[0] for v in ind.values())
    fp = sum(v[1] for v in ind.values())
    fn = sum(v[2] for v in ind.values())
    mp = round(tp / (tp + fp), 3) if tp + fp else 0.0
    mr = round(tp / (tp + fn), 3) if tp + fn else 0.0
    res["indicators_micro_p"], res["indicators_micro_r"] = mp, mr
    res["indicators_micro_f1"] = round(2 * mp * mr / (mp + mr), 3) if mp + mr else 0.0
    per: dict[str, float] = {}
    for i, (a, b, c) in ind.items():
        if a + b + c == 0:
            continue
        p_i = a / (a + b) if a + b else 0.0
        r_i = a / (a + c) if a + c else 0.0
        per[i] = round(2 * p_i * r_i / (p_i + r_i), 3) if p_i + r_i else 0.0
    res["indicators_macro_f1"] = round(sum(per.values()) / len(per), 3) if per else 0.0
    res["indicators_per_label_f1"] = per
    aucs = [a for a in (roc_auc(*ind_scores[i]) for i in INDICATOR_IDS) if a is not None]
    res["indicators_mean_auc"] = round(sum(aucs) / len(aucs), 3) if aucs else None
    res["us_nexus_accuracy"] = round(nexus_correct / len(gold_rows), 3) if gold_rows else 0.0
    correct = sum(confusion[(t, t)] for t in TIERS)
    res["tier_accuracy"] = round(correct / len(gold_rows), 3) if gold_rows else 0.0
    f1s = []
    for t in TIERS:
        tp_t = confusion[(t, t)]
        fp_t = sum(confusion[(g, t)] for g in TIERS if g != t)
        fn_t = sum(confusion[(t, p)] for p in TIERS if p != t)
        if tp_t + fp_t + fn_t:
            f1s.append(_f1(tp_t, fp_t, fn_t))
    res["tier_macro_f1"] = round(sum(f1s) / len(f1s), 3) if f1s else 0.0
    bar_pred = [s >= 0.5 for s in bar_scores]
    btp = sum(p and label for p, label in zip(bar_pred, bar_labels, strict=True))
    bfp = sum(p and not label for p, label in zip(bar_pred, bar_labels, strict=True))
    bfn = sum(label and not p for p, label in zip(bar_pred, bar_labels, strict=True))
    res["wro_bar_f1"] = round(_f1(btp, bfp, bfn), 3)
    bar_auc = roc_auc(bar_scores, bar_labels)
    res["wro_bar_auc"] = round(bar_auc, 3) if bar_auc is not None else None
    res["tier_confusion"] = {f"{g}->{p}": n for (g, p), n in confusion.items() if n}
    return res


HEADLINE = (
    "producers_f1",
    "commodities_f1",
    "locations_f1",
    "indicators_micro_f1",
    "indicators_macro_f1",
    "indicators_mean_auc",
    "us_nexus_accuracy",
    "tier_accuracy",
    "tier_macro_f1",
    "wro_bar_f1",
    "wro_bar_auc",
)


def reliability_plot(
    scores: Sequence[float], labels: Sequence[bool], path: Path, title: str, bins: int = 10
) -> None:
    """Save a reliability diagram (predicted probability vs observed frequency) as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    binned = calibration_bins(scores, labels, bins)
    centres = [c for c, _, _ in binned]
    frequencies = [f for _, f, _ in binned]
    counts = [n for _, _, n in binned]
    figure, axis = plt.subplots(figsize=(5, 5))
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    axis.plot(centres, frequencies, marker="o", label="WRO-bar score")
    for x, y, n in zip(centres, frequencies, counts, strict=True):
        axis.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=8)
    axis.set_xlabel("predicted probability that the WRO bar is met")
    axis.set_ylabel("observed share meeting the bar")
    axis.set_title(title)
    axis.legend(loc="upper left")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)
