"""Trained US-nexus head and the WRO-bar assessment: logistic models over interpretable factors.

The assessment must be inspectable — investigators need to see why a document lands where it does — so it is
a pair of logistic regressions over named factors (evidence, specificity, nexus, authority, currency), and each
factor's contribution to the WRO-bar score is reported in `factors`. The weights are fitted under sign constraints
from domain knowledge (BAR_SIGNS, CONCLUSIVE_SIGNS): an order, a Finding, a named producer or nexus evidence can
only raise the score; a lifted order, a company's own voice or trade news can only lower it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from service.contract import (
    COERCION,
    INVOLUNTARINESS,
    PRESENT_STATUSES,
    Assessment,
    Entities,
    IndicatorResult,
    NexusEvidence,
    UsNexus,
)
from service.nlp.cues import (
    COMPANY_VOICE,
    COURT,
    FINDING,
    FINDING_NOTICE,
    FORCED_LABOR,
    GOVERNMENT_VOICE,
    LIFTED,
    ORDER,
    SEIZURE,
    TRADE_NEWS,
    lead,
)
from service.nlp.evidence_status import classify_status
from service.nlp.models.indicators import sigmoid
from service.nlp.rules.assessment import CUSTOMS_ACTION_CUE, TRADE_ROUTE_CUE, missing_elements, nexus_cue
from service.nlp.rules.indicators import tag_indicators
from service.nlp.sentences import Sentence

# Every factor the service can compute. A trained assessment reads the subset its variant names (chosen on the
# corpus dev split by training/train_assessment.py and stored in its meta.json); the rest stay available for
# comparisons and retraining.
CANDIDATE_FACTORS: tuple[str, ...] = (
    "indicators_present",
    "any_indicator_present",
    "indicators_log",
    "max_indicator_score",
    "ilo_both_dimensions",
    "first_hand_evidence",
    "authority_evidence",
    "discounted_mentions",
    "any_discounted",
    "producer_named",
    "commodity_named",
    "location_named",
    "known_order_linked",
    "us_nexus_score",
    "order_in_text",
    "finding_in_text",
    "finding_cue",
    "seizure_in_text",
    "court_action",
    "lifted_or_remediated",
    "company_voice",
    "trade_news",
    "length_log_sentences",
    "rules_any_indicator",
    "rules_both_dimensions",
    "forced_labor_stated",
    "government_voice",
    "goods_specific",
    "government_specific_goods",
)

# Domain knowledge as signs of the WRO-bar weights: +1 can only raise the score, -1 can only lower it, 0 is free.
# Evidence, specificity, nexus and government action raise it; lifted orders, a company's own voice, trade news
# and mentions the text itself discounts lower it. Court action is free: convictions for domestic servitude
# are not goods in trade, a forfeiture under a Finding is.
BAR_SIGNS: dict[str, int] = {
    "indicators_present": 1,
    "any_indicator_present": 1,
    "indicators_log": 1,
    "max_indicator_score": 1,
    "ilo_both_dimensions": 1,
    "first_hand_evidence": 1,
    "authority_evidence": 1,
    "discounted_mentions": -1,
    "any_discounted": -1,
    "producer_named": 1,
    "commodity_named": 1,
    "location_named": 1,
    "known_order_linked": 1,
    "us_nexus_score": 1,
    "order_in_text": 1,
    "finding_in_text": 1,
    "finding_cue": 1,
    "seizure_in_text": 1,
    "court_action": 0,
    "lifted_or_remediated": -1,
    "company_voice": -1,
    "trade_news": -1,
    "length_log_sentences": 0,
    "rules_any_indicator": 1,
    "rules_both_dimensions": 1,
    "forced_labor_stated": 1,
    "government_voice": 1,
    "goods_specific": 1,
    "government_specific_goods": 1,
}
# Signs of the Finding-bar weights (among documents that meet the WRO bar): a Finding, a seizure under it and
# authority evidence can only raise it, lifted orders, company voice and trade news only lower it; an order
# in the text is free, since a WRO without a Finding is the reasonable tier.
CONCLUSIVE_SIGNS: dict[str, int] = {
    **BAR_SIGNS,
    "order_in_text": 0,
    "us_nexus_score": 0,
    "location_named": 0,
    "commodity_named": 0,
    "goods_specific": 0,
    "government_specific_goods": 0,
}


def candidate_factors(
    text: str,
    sentences: Sequence[Sentence],
    entities: Entities,
    indicators: Sequence[IndicatorResult],
    nexus_score: float,
    names: Sequence[str] = CANDIDATE_FACTORS,
) -> dict[str, float]:
    """The interpretable factors of one document named in `names`, all numeric."""
    present = [i for i in indicators if i.present]
    statuses = {e.status for i in present for e in i.evidence}
    opening = lead(text)
    discounted = sum(len(i.discounted) for i in indicators)
    out = {
        "indicators_present": float(min(len(present), 6)),
        "any_indicator_present": float(bool(present)),
        "indicators_log": math.log1p(len(present)),
        "max_indicator_score": max((i.score for i in indicators), default=0.0),
        "ilo_both_dimensions": float(
            any(i.id in INVOLUNTARINESS for i in present) and any(i.id in COERCION for i in present)
        ),
        "first_hand_evidence": float("first_hand" in statuses),
        "authority_evidence": float("reported" in statuses),
        "discounted_mentions": float(min(discounted, 5)),
        "any_discounted": float(discounted > 0),
        "producer_named": float(bool(entities.producers)),
        "commodity_named": float(bool(entities.commodities)),
        "location_named": float(bool(entities.locations)),
        "known_order_linked": float(any(p.known_orders for p in entities.producers)),
        "us_nexus_score": nexus_score,
        "order_in_text": float(bool(ORDER.search(text))),
        "finding_in_text": float(bool(FINDING.search(text))),
        "finding_cue": float(bool(FINDING.search(text) or FINDING_NOTICE.search(text))),
        "seizure_in_text": float(bool(SEIZURE.search(text))),
        "court_action": float(bool(COURT.search(text))),
        "lifted_or_remediated": float(bool(LIFTED.search(opening))),
        "company_voice": float(bool(COMPANY_VOICE.search(text))),
        "trade_news": float(bool(TRADE_NEWS.search(opening))),
        "length_log_sentences": math.log1p(len(sentences)),
        "government_voice": float(bool(GOVERNMENT_VOICE.search(opening))),
    }
    # DOMAIN.md's specificity: a named producer or site, or a specific commodity from a specific place.
    out["goods_specific"] = float(
        bool(entities.producers) or bool(entities.commodities and entities.locations)
    )
    out["government_specific_goods"] = out["goods_specific"] * out["government_voice"]
    if "forced_labor_stated" in names:
        out["forced_labor_stated"] = float(
            any(
                FORCED_LABOR.search(s.text) and classify_status(s.text) in PRESENT_STATUSES for s in sentences
            )
        )
    if any(name.startswith("rules_") for name in names):
        rules_present = [i for i in tag_indicators(sentences) if i.present]
        out["rules_any_indicator"] = float(bool(rules_present))
        out["rules_both_dimensions"] = float(
            any(i.id in INVOLUNTARINESS for i in rules_present)
            and any(i.id in COERCION for i in rules_present)
        )
    return {name: out[name] for name in names}


# Document inputs of the nexus model's second stage: the sentence head's strongest logit, and whether any sentence
# carries the rules layer's trade-route or customs-action cue. The cue is a document fact the sentence head sees
# only through its embedding: written documents mark the one sentence that shows the route, while a customs notice
# shows it in every sentence that names CBP.
NEXUS_DOCUMENT_INPUTS: tuple[str, ...] = ("head_logit", "trade_route_cue", "customs_action_cue")


@dataclass
class NexusModel:
    """US-market nexus: a sentence head over encoder features, and optionally a document-level logistic stage
    over the head's strongest sentence and the rules layer's cues (NEXUS_DOCUMENT_INPUTS)."""

    weights: NDArray[np.float64]
    bias: float
    threshold: float
    document_weights: NDArray[np.float64] | None = None
    document_bias: float = 0.0

    def sentence_probabilities(self, features: NDArray[np.float32]) -> NDArray[np.float64]:
        return sigmoid(features[:, : self.weights.shape[0]].astype(np.float64) @ self.weights + self.bias)

    @staticmethod
    def document_inputs(cues: Sequence[float], probs: NDArray[np.float64]) -> NDArray[np.float64]:
        """NEXUS_DOCUMENT_INPUTS of one document, from its sentences' `nexus_cue` and head probabilities."""
        top = float(np.clip(probs.max(), 1e-4, 1 - 1e-4)) if len(probs) else 1e-4
        return np.array(
            [math.log(top / (1 - top)), float(TRADE_ROUTE_CUE in cues), float(CUSTOMS_ACTION_CUE in cues)],
            dtype=np.float64,
        )

    def assess(self, sentences: Sequence[Sentence], features: NDArray[np.float32]) -> UsNexus:
        if not sentences:
            return UsNexus(present=False, score=0.0)
        probs = self.sentence_probabilities(features)
        if self.document_weights is None:
            score = float(probs.max())
            present = score >= self.threshold
            shown = [j for j in range(len(sentences)) if probs[j] >= self.threshold]
        else:
            cues = [nexus_cue(s.text) for s in sentences]
            inputs = self.document_inputs(cues, probs)
            score = float(sigmoid(np.array([inputs @ self.document_weights + self.document_bias]))[0])
            present = score >= 0.5
            # Evidence: the sentences the head trusts, then those carrying a cue the document stage weighed.
            shown = [
                j for j in range(len(sentences)) if probs[j] >= self.threshold or (present and cues[j] > 0)
            ]
        shown.sort(key=lambda j: -probs[j])
        evidence = [
            NexusEvidence(
                start=sentences[j].start,
                end=sentences[j].end,
                text=sentences[j].text,
                score=round(float(probs[j]), 4),
            )
            for j in shown[:5]
        ]
        return UsNexus(present=present, score=round(score, 4), evidence=evidence)


@dataclass
class AssessmentModel:
    """WRO-bar and Finding-bar logistic models over standardised factors."""

    mean: NDArray[np.float64]
    scale: NDArray[np.float64]
    bar_weights: NDArray[np.float64]
    bar_bias: float
    conclusive_weights: NDArray[np.float64]
    conclusive_bias: float
    nexus: NexusModel
    version: str
    factors: tuple[str, ...]  # the variant's factors, in weight order
    # Each factor's range in the training documents. Inputs are clipped to it because a linear weight learned on
    # the written corpus (3 to 83 sentences) says nothing about a report ten times longer; without the bounds
    # (models before assessment-14) inputs are used as they are. `factors` shows the document's own value, and
    # its contribution is computed from the clipped one.
    lower: NDArray[np.float64] | None = None
    upper: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        unknown = set(self.factors) - set(CANDIDATE_FACTORS)
        if unknown or len(self.factors) != self.bar_weights.shape[0]:
            raise ValueError(f"assessment model factors do not match the service: {sorted(unknown)}")
        for bound in (self.lower, self.upper):
            if bound is not None and bound.shape != self.bar_weights.shape:
                raise ValueError("assessment model factor bounds do not match its factors")

    @classmethod
    def load(cls, folder: Path) -> AssessmentModel:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        with np.load(folder / "weights.npz") as arrays:
            return cls(
                mean=arrays["mean"],
                scale=arrays["scale"],
                bar_weights=arrays["bar_weights"],
                bar_bias=float(arrays["bar_bias"]),
                conclusive_weights=arrays["conclusive_weights"],
                conclusive_bias=float(arrays["conclusive_bias"]),
                nexus=NexusModel(
                    arrays["nexus_weights"],
                    float(arrays["nexus_bias"]),
                    float(arrays["nexus_threshold"]),
                    arrays.get("nexus_document_weights"),
                    float(arrays.get("nexus_document_bias", 0.0)),
                ),
                version=str(meta["version"]),
                factors=tuple(str(name) for name in meta["factors"]),
                lower=arrays.get("lower"),
                upper=arrays.get("upper"),
            )

    def save(self, folder: Path, extra_meta: dict[str, object]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, NDArray[np.float64] | NDArray[np.float32]] = {
            "mean": self.mean,
            "scale": self.scale,
            "bar_weights": self.bar_weights,
            "bar_bias": np.array(self.bar_bias),
            "conclusive_weights": self.conclusive_weights,
            "conclusive_bias": np.array(self.conclusive_bias),
            "nexus_weights": self.nexus.weights.astype(np.float32),
            "nexus_bias": np.array(self.nexus.bias),
            "nexus_threshold": np.array(self.nexus.threshold),
        }
        if self.lower is not None and self.upper is not None:
            arrays["lower"], arrays["upper"] = self.lower, self.upper
        if self.nexus.document_weights is not None:
            arrays["nexus_document_weights"] = self.nexus.document_weights
            arrays["nexus_document_bias"] = np.array(self.nexus.document_bias)
        np.savez_compressed(folder / "weights.npz", allow_pickle=False, **arrays)
        meta = {"version": self.version, "factors": list(self.factors), **extra_meta}
        (folder / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")

    def vector(self, factors: dict[str, float]) -> NDArray[np.float64]:
        raw = np.array([factors[name] for name in self.factors], dtype=np.float64)
        if self.lower is not None and self.upper is not None:
            raw = np.clip(raw, self.lower, self.upper)
        return np.asarray((raw - self.mean) / self.scale, dtype=np.float64)

    def assess(
        self,
        text: str,
        sentences: Sequence[Sentence],
        entities: Entities,
        indicators: Sequence[IndicatorResult],
        nexus: UsNexus,
    ) -> Assessment:
        factors = candidate_factors(text, sentences, entities, indicators, nexus.score, self.factors)
        x = self.vector(factors)
        bar_logit = float(x @ self.bar_weights + self.bar_bias)
        score = 1.0 / (1.0 + math.exp(-bar_logit))
        conclusive = 1.0 / (1.0 + math.exp(-float(x @ self.conclusive_weights + self.conclusive_bias)))
        tier = "insufficient" if score < 0.5 else ("conclusive" if conclusive >= 0.5 else "reasonable")
        present = [i for i in indicators if i.present]
        involuntary = any(i.id in INVOLUNTARINESS for i in present)
        coercion = any(i.id in COERCION for i in present)
        shown: dict[str, float | int | str | bool | None] = {
            name: round(value, 3) for name, value in factors.items()
        }
        for name, weight, value in zip(self.factors, self.bar_weights, x, strict=True):
            shown[f"contribution_{name}"] = round(float(weight * value), 3)
        shown["finding_bar_probability"] = round(conclusive, 3)
        # The import element is shown even when the tier does not read it (DOMAIN.md: tier and US nexus are
        # separate judgements), so the reader sees both; it has no contribution then.
        shown.setdefault("us_nexus_score", round(nexus.score, 3))
        return Assessment(
            tier=tier,
            score=round(score, 4),
            missing=missing_elements(entities, present, nexus, involuntary, coercion),
            factors=shown,
            ilo_involuntariness=involuntary,
            ilo_coercion=coercion,
        )
