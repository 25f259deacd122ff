"""Corpus splits as sentence matrices for the sentence-level heads, with an embedding cache.

Embedding ~15k sentences takes minutes on two cores, and several heads (indicators, evidence status, nexus) and
experiments reuse them, so embeddings are cached on disk by sentence hash under var/cache/ (not committed).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from service.config import REPO_ROOT
from service.contract import INDICATOR_IDS, PRESENT_STATUSES
from service.corpus import load_split
from service.nlp.models.encoder import SentenceEncoder, with_context
from service.nlp.models.indicators import STATUS_CLASSES
from training.build_corpus import CORPUS_DIR

CACHE_DIR = REPO_ROOT / "var" / "cache"


@dataclass
class SentenceSet:
    """Sentences of a list of documents with labels and document boundaries."""

    docs: list[dict[str, Any]]
    texts: list[str]
    boundaries: list[int]  # start index of each document's sentences, plus the total
    labels: NDArray[np.int8]  # (n, 11): 1 where the indicator is present (affirmed/first-hand/reported)
    mentioned: NDArray[np.int8]  # (n, 11): 1 where the indicator is labelled with any status
    status: list[str | None]  # the status of a sentence's labels (most evidential first), None if unlabelled
    nexus: NDArray[np.int8]  # (n,): sentence evidences the US-market nexus

    def doc_labels(self) -> NDArray[np.int8]:
        out = np.zeros((len(self.docs), len(INDICATOR_IDS)), dtype=np.int8)
        for d, doc in enumerate(self.docs):
            for i, indicator in enumerate(INDICATOR_IDS):
                out[d, i] = indicator in doc["gold"]["indicators"]
        return out


# Genres of the documents most like the real target (US government prose); the `g*` slices were written in it.
GOVERNMENT_GENRES = frozenset(
    {
        "order_notice",
        "finding_notice",
        "modification_notice",
        "revocation_notice",
        "government_report",
        "court_case",
    }
)


def government_register(doc: dict[str, Any]) -> bool:
    """Whether a corpus document is in the government register, the view model selection stresses because the
    product is judged on real government documents."""
    return doc.get("genre") in GOVERNMENT_GENRES or str(doc.get("group", "")).startswith("g")


def load_docs(split: str, directory: Path = CORPUS_DIR) -> list[dict[str, Any]]:
    return load_split(directory / f"{split}.jsonl")


def load_extra(paths: list[Path] | None) -> list[dict[str, Any]]:
    """Extra training documents in the corpus format, e.g. reviewers' decisions from
    `triage export-decisions`; they only ever join the train split."""
    docs: list[dict[str, Any]] = []
    for path in paths or []:
        docs += load_split(path)
    return docs


def english(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs if d["language"] == "en"]


def sentence_set(docs: list[dict[str, Any]]) -> SentenceSet:
    texts: list[str] = []
    boundaries = [0]
    labels: list[list[int]] = []
    mentioned: list[list[int]] = []
    status: list[str | None] = []
    nexus: list[int] = []
    for doc in docs:
        for sentence in doc["sentences"]:
            texts.append(doc["text"][sentence["start"] : sentence["end"]])
            by_id = {i["id"]: i["status"] for i in sentence["indicators"]}
            labels.append([int(by_id.get(i) in PRESENT_STATUSES) for i in INDICATOR_IDS])
            mentioned.append([int(i in by_id) for i in INDICATOR_IDS])
            statuses = sorted(set(by_id.values()), key=STATUS_CLASSES.index)
            status.append(statuses[0] if statuses else None)
            nexus.append(int(sentence.get("us_nexus", False)))
        boundaries.append(len(texts))
    return SentenceSet(
        docs=docs,
        texts=texts,
        boundaries=boundaries,
        labels=np.array(labels, dtype=np.int8).reshape(-1, len(INDICATOR_IDS)),
        mentioned=np.array(mentioned, dtype=np.int8).reshape(-1, len(INDICATOR_IDS)),
        status=status,
        nexus=np.array(nexus, dtype=np.int8),
    )


def embed_cached(encoder: SentenceEncoder, texts: list[str]) -> NDArray[np.float32]:
    """Embeddings for `texts`, computing only those not yet in the cache."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    cache_file = CACHE_DIR / f"embeddings-{hashlib.sha256(encoder.version.encode()).hexdigest()[:10]}.npz"
    cache: dict[str, NDArray[np.float32]] = {}
    if cache_file.exists():
        with np.load(cache_file) as stored:
            cache = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))
    keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
    todo = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in cache}.items())
    if todo:
        vectors = encoder.encode([t for _, t in todo])
        cache.update({k: v for (k, _), v in zip(todo, vectors, strict=True)})
        np.savez(cache_file, keys=np.array(list(cache)), vectors=np.stack(list(cache.values())))
    return np.stack([cache[k] for k in keys]).astype(np.float32)


def features(encoder: SentenceEncoder, data: SentenceSet) -> NDArray[np.float32]:
    return with_context(embed_cached(encoder, data.texts), data.boundaries)
