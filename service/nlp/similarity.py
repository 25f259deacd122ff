"""Document vectors for recognising one story told by several sources.

Re-reports of one investigation (a news piece retelling an NGO report, a press release quoting it) share
entities with genuinely independent sources, so entity keys alone overstate corroboration. A mean of the
sentence encoder's vectors over the opening of a document is cheap (one encoder call) and separates
"the same story again" from "another account of the same producer" well enough to count sources.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from service.nlp.models.encoder import SentenceEncoder
from service.nlp.sentences import split_sentences

# The lede carries the story (who, what, where); the rest would cost encoder time and dilute the vector.
OPENING_SENTENCES = 8


@dataclass
class DocumentEmbedder:
    encoder: SentenceEncoder

    @classmethod
    def load(cls, threads: int, encoder: SentenceEncoder | None = None) -> DocumentEmbedder:
        """Reuse the pipeline's encoder when it has one, so the weights are in memory once."""
        return cls(encoder=encoder or SentenceEncoder.load(threads=threads))

    @property
    def version(self) -> str:
        return f"doc-mean-{OPENING_SENTENCES}/{self.encoder.version}"

    def embed(self, text: str) -> list[float]:
        sentences = [s.text for s in split_sentences(text)[:OPENING_SENTENCES]] or [text[:2000]]
        vectors = self.encoder.encode(sentences)
        return [round(float(v), 6) for v in unit(vectors.mean(axis=0))]


def unit(vector: NDArray[np.float32]) -> NDArray[np.float32]:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    return float(np.dot(unit(np.asarray(a, dtype=np.float32)), unit(np.asarray(b, dtype=np.float32))))


def story_clusters(vectors: Sequence[Sequence[float] | None], threshold: float) -> list[int]:
    """A cluster label per document: documents joined (transitively) when their cosine reaches
    `threshold`; a document without a vector is its own story."""
    labels = list(range(len(vectors)))

    def root(i: int) -> int:
        while labels[i] != i:
            labels[i] = labels[labels[i]]
            i = labels[i]
        return i

    for i, a in enumerate(vectors):
        if a is None:
            continue
        for j in range(i):
            b = vectors[j]
            if b is not None and cosine(a, b) >= threshold:
                labels[root(i)] = root(j)
    return [root(i) for i in range(len(vectors))]
