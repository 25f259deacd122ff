"""Trained ILO indicator tagger: linear heads over MiniLM sentence embeddings with neighbour context.

Weights are plain arrays (no pickles) so the artefact is small, inspectable and safe to load. A sentence's
indicator probabilities come from one head; a second head gives its evidence status, and only affirmed,
first-hand and authority-reported sentences can make an indicator present.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
from numpy.typing import NDArray

from service.contract import COERCION, INDICATOR_IDS, PRESENT_STATUSES, Evidence, EvidenceStatus, IndicatorResult
from service.labels import EVIDENCE_STATUSES
from service.nlp.cues import ALL_ELEVEN_INDICATORS
from service.nlp.evidence_status import STATUS_CUE_NAMES, classify_status, is_policy, status_cues
from service.nlp.models.encoder import with_context
from service.nlp.rules.indicators import lexicon_hits, tag_indicators
from service.nlp.sentences import Sentence

# The status head's output order is the label order of service.labels.
STATUS_CLASSES = cast(tuple[EvidenceStatus, ...], EVIDENCE_STATUSES)
MAX_EVIDENCE = 5
# Document-level aggregations of counted sentence scores (see `aggregate`); `max` is the original one.
AGGREGATIONS = ("max", "noisy_or", "topk_mean", "length_discount", "min_evidence", "lexicon_vote")
# Context a sentence is read in: `neighbours` = the sentence beside the mean of the previous and next sentence;
# `wide` adds the mean of the sentences up to 3 away and the mean of the whole document.
CONTEXTS = ("neighbours", "wide")
WIDE_WINDOW = 3
# How the status head decides whether a sentence counts (see `IndicatorModel.sentence_weights`).
STATUS_GATES = ("argmax", "mass", "mass_soft")
# Which of the status head's outputs are statuses that make an indicator present.
_COUNTING = np.array([c in PRESENT_STATUSES for c in STATUS_CLASSES])


def sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(x, -30, 30))), dtype=np.float64)


def softmax(x: NDArray[np.float64]) -> NDArray[np.float64]:
    z = x - x.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float64)


def context_embeddings(
    embeddings: NDArray[np.float32], boundaries: list[int], context: str = "neighbours"
) -> NDArray[np.float32]:
    """Sentence embeddings with their context, documents given by `boundaries` (start indices plus the total).
    The first columns are always `with_context`'s (sentence, neighbours), which the nexus head also reads."""
    base = with_context(embeddings, boundaries)
    if context == "neighbours":
        return base
    if context != "wide":
        raise ValueError(f"unknown context {context!r}")
    window = np.zeros_like(embeddings)
    document = np.zeros_like(embeddings)
    for start, end in zip(boundaries[:-1], boundaries[1:], strict=True):
        if end <= start:
            continue
        document[start:end] = embeddings[start:end].mean(axis=0)
        for i in range(start, end):
            lo, hi = max(start, i - WIDE_WINDOW), min(end, i + WIDE_WINDOW + 1)
            if hi - lo > 1:
                window[i] = (embeddings[lo:hi].sum(axis=0) - embeddings[i]) / (hi - lo - 1)
    return np.hstack([base, window, document]).astype(np.float32)


def indicator_features(context_embeddings: NDArray[np.float32], sentences: Sequence[str], use_lexicon: bool
                       ) -> NDArray[np.float32]:
    if not use_lexicon:
        return context_embeddings
    hits = np.array([lexicon_hits(s) for s in sentences], dtype=np.float32).reshape(-1, len(INDICATOR_IDS))
    return np.hstack([context_embeddings, hits]).astype(np.float32)


def aggregate(
    probs: NDArray[np.float64], lexicon: NDArray[np.float64], method: str, param: float
) -> NDArray[np.float64]:
    """One document's score per indicator from its counted sentences' scores `probs` (sentences, 11), which are
    zero for sentences whose status does not count, and their lexicon hits `lexicon` (sentences, 11).

    - `max`: the strongest sentence;
    - `noisy_or`: 1 - prod(1 - p) over sentences scoring at least `param` (the strongest sentence if none does);
    - `topk_mean`: mean of the `param` strongest sentences (missing ones count as 0);
    - `length_discount`: max ** (1 + n / `param`), so a long document needs a stronger sentence;
    - `min_evidence`: the strongest sentence, halved unless it is corroborated by a second sentence scoring at
      least `param` or by a lexicon hit in it;
    - `lexicon_vote`: the strongest sentence after scaling sentences without a lexicon hit by `param`.
    """
    n = probs.shape[0]
    if n == 0:
        return np.zeros(probs.shape[1])
    best = probs.max(axis=0)
    if method == "max":
        return np.asarray(best, dtype=np.float64)
    if method == "noisy_or":
        kept = np.where(probs >= param, probs, 0.0)
        return np.asarray(np.maximum(1.0 - np.prod(1.0 - kept, axis=0), best), dtype=np.float64)
    if method == "topk_mean":
        k = int(param)
        top = -np.sort(-probs, axis=0)[:k]
        return np.asarray(top.sum(axis=0) / k, dtype=np.float64)
    if method == "length_discount":
        return np.asarray(best ** (1.0 + n / param), dtype=np.float64)
    if method == "min_evidence":
        second = -np.sort(-probs, axis=0)[1] if n > 1 else np.zeros(probs.shape[1])
        at_best = lexicon[probs.argmax(axis=0), np.arange(probs.shape[1])]
        corroborated = (second >= param) | (at_best > 0)
        return np.asarray(np.where(corroborated, best, best * 0.5), dtype=np.float64)
    if method == "lexicon_vote":
        return np.asarray((probs * np.where(lexicon > 0, 1.0, param)).max(axis=0), dtype=np.float64)
    raise ValueError(f"unknown aggregation {method!r}")


@dataclass
class IndicatorModel:
    """Sentence heads, per-label document thresholds and Platt calibration of document scores."""

    weights: NDArray[np.float64]  # (features, 11), or (hidden units, 11) after a hidden layer
    bias: NDArray[np.float64]  # (11,)
    status_weights: NDArray[np.float64]  # (features, 6)
    status_bias: NDArray[np.float64]  # (6,)
    thresholds: NDArray[np.float64]  # (11,) on the raw document score
    platt: NDArray[np.float64]  # (11, 2): a, b of sigmoid(a * logit(raw) + b)
    use_lexicon: bool
    version: str
    rules_veto: bool = False
    aggregation: str = "max"
    aggregation_param: float = 0.0
    rules_weight: float = 0.0  # share of the rules baseline's document score in the document score
    context: str = "neighbours"  # see CONTEXTS
    policy_veto: bool = False  # a policy or supplier-rule sentence (evidence_status.is_policy) is hypothetical
    # The head's negated or remediated reading needs an explicit scoped cue (evidence_status) to stand.
    cue_gated_discount: bool = False
    hidden_weights: NDArray[np.float64] | None = None  # (features, hidden units): an MLP's ReLU layer, if any
    hidden_bias: NDArray[np.float64] | None = None
    status_gate: str = "argmax"  # see STATUS_GATES and `sentence_weights`
    # The status head also reads the cue patterns (evidence_status.status_cues) as features.
    status_cue_features: bool = False
    # A counting sentence that says all eleven indicators were found (cues.ALL_ELEVEN_INDICATORS, guide 4.3) is
    # evidence for each of them, whatever the head makes of a count it has seen a handful of times.
    all_indicator_statements: bool = False

    def head_statuses(self, probabilities: NDArray[np.float64]) -> list[EvidenceStatus]:
        """The status head's own reading of each sentence from its `status_probabilities`, before any cue
        overrides it.

        `argmax` takes the likeliest of the six statuses. Whether a sentence counts is a two-way question, though,
        and the three counting statuses split their mass three ways: a sentence read as 0.3 affirmed, 0.2
        first-hand, 0.15 reported and 0.35 negated is mostly evidence, yet argmax calls it negated. `mass` and
        `mass_soft` first decide counts-or-not on the summed mass of each side, then take the likeliest status on
        the winning side."""
        if self.status_gate == "argmax":
            return [STATUS_CLASSES[s] for s in probabilities.argmax(axis=1)]
        if self.status_gate not in STATUS_GATES:
            raise ValueError(f"unknown status gate {self.status_gate!r}")
        counts = probabilities[:, _COUNTING].sum(axis=1) >= 0.5
        side = np.where(counts[:, None], _COUNTING[None, :], ~_COUNTING[None, :])
        return [STATUS_CLASSES[s] for s in np.where(side, probabilities, -1.0).argmax(axis=1)]

    def sentence_weights(
        self, features: NDArray[np.float32], texts: Sequence[str]
    ) -> tuple[list[EvidenceStatus], NDArray[np.float64]]:
        """Each sentence's status and the weight (0 to 1) its indicator scores carry into the document vote: 1 for
        a counting status and 0 otherwise, except under `mass_soft`, where a counting sentence weighs its summed
        counting-status mass, so a sentence the head is unsure about cannot carry a document alone."""
        probabilities = self.status_probabilities(features, texts)
        statuses = self._statuses(probabilities, texts)
        counted = np.array([s in PRESENT_STATUSES for s in statuses], dtype=np.float64)
        if self.status_gate == "mass_soft":
            counted = counted * probabilities[:, _COUNTING].sum(axis=1)
        return statuses, counted

    def sentence_statuses(self, features: NDArray[np.float32], texts: Sequence[str]) -> list[EvidenceStatus]:
        """The status head's reading of each sentence (`head_statuses`); with `rules_veto`, an explicit negation
        or remediation cue (scoped, see evidence_status) overrides a head that reads the sentence as evidence, and
        with `policy_veto` so does a policy's or supplier rule's voice.

        With `cue_gated_discount` the override runs the other way too: restriction of movement is told in
        negative words ("stopped them from leaving", "not allowed ashore"), and the head, which has seen many
        denials about leaving, reads such sentences as negated. Without a scoped negation or remediation cue,
        the sentence takes the cue reading instead (affirmed, reported, first-hand or hypothetical)."""
        return self._statuses(self.status_probabilities(features, texts), texts)

    def _statuses(self, probabilities: NDArray[np.float64], texts: Sequence[str]) -> list[EvidenceStatus]:
        statuses = self.head_statuses(probabilities)
        if self.rules_veto:
            for i, text in enumerate(texts):
                if statuses[i] in PRESENT_STATUSES:
                    cue = classify_status(text)
                    if cue in ("negated", "remediated"):
                        statuses[i] = cue
                    elif self.policy_veto and is_policy(text):
                        statuses[i] = "hypothetical"
                elif self.cue_gated_discount and statuses[i] in ("negated", "remediated"):
                    cue = classify_status(text)
                    if cue not in ("negated", "remediated"):
                        policy = self.policy_veto and is_policy(text)
                        statuses[i] = "hypothetical" if policy else cue
        return statuses

    @classmethod
    def load(cls, folder: Path) -> IndicatorModel:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        with np.load(folder / "heads.npz") as arrays:
            hidden = "hidden_weights" in arrays.files
            return cls(
                weights=arrays["weights"],
                bias=arrays["bias"],
                status_weights=arrays["status_weights"],
                status_bias=arrays["status_bias"],
                thresholds=arrays["thresholds"],
                platt=arrays["platt"],
                use_lexicon=bool(meta["use_lexicon"]),
                version=str(meta["version"]),
                rules_veto=bool(meta.get("rules_veto", False)),
                aggregation=str(meta.get("aggregation", "max")),
                aggregation_param=float(meta.get("aggregation_param", 0.0)),
                rules_weight=float(meta.get("rules_weight", 0.0)),
                context=str(meta.get("context", "neighbours")),
                policy_veto=bool(meta.get("policy_veto", False)),
                cue_gated_discount=bool(meta.get("cue_gated_discount", False)),
                hidden_weights=arrays["hidden_weights"] if hidden else None,
                hidden_bias=arrays["hidden_bias"] if hidden else None,
                status_gate=str(meta.get("status_gate", "argmax")),
                status_cue_features=bool(meta.get("status_cue_features", False)),
                all_indicator_statements=bool(meta.get("all_indicator_statements", False)),
            )

    def save(self, folder: Path, extra_meta: dict[str, object]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, NDArray[np.float64] | NDArray[np.float32]] = {
            "weights": self.weights.astype(np.float32),
            "bias": self.bias,
            "status_weights": self.status_weights.astype(np.float32),
            "status_bias": self.status_bias,
            "thresholds": self.thresholds,
            "platt": self.platt,
        }
        if self.hidden_weights is not None and self.hidden_bias is not None:
            arrays["hidden_weights"] = self.hidden_weights.astype(np.float32)
            arrays["hidden_bias"] = self.hidden_bias
        np.savez_compressed(folder / "heads.npz", **arrays)  # type: ignore[arg-type]
        meta = {"version": self.version, "use_lexicon": self.use_lexicon, "rules_veto": self.rules_veto,
                "aggregation": self.aggregation, "aggregation_param": self.aggregation_param,
                "rules_weight": self.rules_weight, "context": self.context,
            "policy_veto": self.policy_veto, "cue_gated_discount": self.cue_gated_discount,
                "status_gate": self.status_gate, "status_cue_features": self.status_cue_features,
                "all_indicator_statements": self.all_indicator_statements,
                "labels": list(INDICATOR_IDS),
                "status_classes": list(STATUS_CLASSES), **extra_meta}
        (folder / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")

    def features(
        self, embeddings: NDArray[np.float32], boundaries: list[int], texts: Sequence[str]
    ) -> NDArray[np.float32]:
        """The heads' input for stacked sentence embeddings of documents (`boundaries` as in with_context)."""
        return indicator_features(context_embeddings(embeddings, boundaries, self.context), texts, self.use_lexicon)

    def sentence_probabilities(self, features: NDArray[np.float32]) -> NDArray[np.float64]:
        x = features.astype(np.float64)
        if self.hidden_weights is not None and self.hidden_bias is not None:
            x = np.maximum(x @ self.hidden_weights + self.hidden_bias, 0.0)
        return sigmoid(x @ self.weights + self.bias)

    def status_inputs(self, features: NDArray[np.float32], texts: Sequence[str]) -> NDArray[np.float32]:
        """The status head's input: the sentence features, and the cue patterns when `status_cue_features`.
        Sentence embeddings blur negation, while the regex cues see it but cannot tell a denial from abuse told in
        negative words; the head learns how far to trust each cue."""
        if not self.status_cue_features:
            return features
        cues = np.array([status_cues(t) for t in texts], dtype=np.float32).reshape(-1, len(STATUS_CUE_NAMES))
        return np.hstack([features, cues]).astype(np.float32)

    def status_probabilities(self, features: NDArray[np.float32], texts: Sequence[str]) -> NDArray[np.float64]:
        inputs = self.status_inputs(features, texts).astype(np.float64)
        return softmax(inputs @ self.status_weights + self.status_bias)

    def lexicon_matrix(self, sentences: Sequence[Sentence], features: NDArray[np.float32]) -> NDArray[np.float64]:
        """Lexicon hits (sentences, 11): the last feature columns of a hybrid model, else computed."""
        if self.use_lexicon:
            return np.asarray(features[:, -len(INDICATOR_IDS) :], dtype=np.float64)
        return np.array([lexicon_hits(s.text) for s in sentences], dtype=np.float64).reshape(-1, len(INDICATOR_IDS))

    def calibrate(self, raw: NDArray[np.float64]) -> NDArray[np.float64]:
        clipped = np.clip(raw, 1e-6, 1 - 1e-6)
        logit = np.log(clipped / (1 - clipped))
        return sigmoid(self.platt[:, 0] * logit + self.platt[:, 1])

    def document_scores(self, sentences: Sequence[Sentence], features: NDArray[np.float32]) -> NDArray[np.float64]:
        """The uncalibrated document score per indicator (what the thresholds apply to)."""
        if not sentences:
            return np.zeros(len(INDICATOR_IDS))
        return self._document_scores(sentences, features)[0]

    def _document_scores(
        self, sentences: Sequence[Sentence], features: NDArray[np.float32]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], list[EvidenceStatus], list[IndicatorResult]]:
        probs = self.sentence_probabilities(features)
        if self.all_indicator_statements:
            for j, sentence in enumerate(sentences):
                if ALL_ELEVEN_INDICATORS.search(sentence.text):
                    probs[j] = 1.0
        statuses, weight = self.sentence_weights(features, [s.text for s in sentences])
        # A sentence the status head reads as negated, remediated or hypothetical cannot carry the decision.
        effective = probs * weight[:, None]
        raw = aggregate(effective, self.lexicon_matrix(sentences, features) * (weight > 0)[:, None],
                        self.aggregation, self.aggregation_param)
        rules = tag_indicators(sentences) if self.rules_weight > 0 else []
        if rules:
            raw = (1 - self.rules_weight) * raw + self.rules_weight * np.array([r.score for r in rules])
        return raw, probs, statuses, rules

    def tag(self, sentences: Sequence[Sentence], features: NDArray[np.float32]) -> list[IndicatorResult]:
        """Indicator decisions for one document from its sentences' features."""
        if not sentences:
            return [
                IndicatorResult(id=i, present=False, score=0.0,
                                dimension="coercion" if i in COERCION else "involuntariness")
                for i in INDICATOR_IDS
            ]
        raw, probs, statuses, rules = self._document_scores(sentences, features)
        counted = np.array([s in PRESENT_STATUSES for s in statuses])
        calibrated = self.calibrate(raw)
        results: list[IndicatorResult] = []
        for k, indicator in enumerate(INDICATOR_IDS):
            present = bool(raw[k] >= self.thresholds[k])
            # Aggregations that can exceed the strongest sentence list the sentences that contributed.
            cut = self.thresholds[k]
            if self.aggregation == "noisy_or":
                cut = min(cut, max(self.aggregation_param, 0.3))
            order = np.argsort(-probs[:, k])
            evidence: list[Evidence] = []
            discounted: list[Evidence] = []
            for j in order[: MAX_EVIDENCE * 2]:
                if probs[j, k] < cut:
                    break
                sentence = sentences[j]
                item = Evidence(start=sentence.start, end=sentence.end, text=sentence.text,
                                score=round(float(probs[j, k]), 4), status=statuses[j])
                target = evidence if counted[j] else discounted
                if len(target) < MAX_EVIDENCE:
                    target.append(item)
            if present and not evidence and rules:
                # The vote can pass with the rules' share; their (status-checked) sentences are the evidence.
                evidence = list(rules[k].evidence)
            results.append(
                IndicatorResult(
                    id=indicator,
                    present=present and bool(evidence),
                    score=round(float(calibrated[k]), 4),
                    dimension="coercion" if indicator in COERCION else "involuntariness",
                    evidence=evidence if present else [],
                    discounted=discounted,
                )
            )
        return results
