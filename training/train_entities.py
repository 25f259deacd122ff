"""Train the entity recogniser (PRODUCER, COMMODITY, LOCATION, BUYER, ORIGIN, MARKET) on the corpus.

ORIGIN (workers' home places) and MARKET (buyer countries) are learnt as labels of their own so the model can
tell a production site from the other roles a place name plays; only LOCATION becomes `locations` in the
contract. The tok2vec layer is sourced from the packaged en_core_web_sm (training/entities.cfg).

usage: python training/train_entities.py [--out models/entities] [--max-steps N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import spacy
from spacy.tokens import DocBin

from service.config import REPO_ROOT
from training.datasets import english, load_docs

VERSION = "entities-spacy-ner-11"
CONFIG = Path(__file__).resolve().parent / "entities.cfg"
LABELS = ("PRODUCER", "COMMODITY", "LOCATION", "BUYER", "ORIGIN", "MARKET")


def to_docbin(nlp: spacy.language.Language, docs: list[dict[str, Any]]) -> tuple[DocBin, int]:
    """Corpus documents as spaCy Docs with entity spans; spans that do not align to tokens are counted."""
    bin_ = DocBin(store_user_data=False)
    misaligned = 0
    for row in docs:
        doc = nlp.make_doc(row["text"])
        spans: list[spacy.tokens.Span] = []
        for ent in sorted(row["entities"], key=lambda e: (e["start"], -e["end"])):
            span = doc.char_span(ent["start"], ent["end"], label=ent["label"], alignment_mode="contract")
            if span is None or (spans and span.start < spans[-1].end):
                misaligned += 1
                continue
            spans.append(span)
        doc.ents = spans
        bin_.add(doc)
    return bin_, misaligned


def train_recogniser(
    train_docs: list[dict[str, Any]], dev_docs: list[dict[str, Any]], out: Path, max_steps: int | None = None
) -> dict[str, Any]:
    """Train a recogniser on `train_docs` (checkpoint chosen on `dev_docs`) into `out`; returns its meta."""
    from spacy.cli.train import train

    nlp = spacy.blank("en")
    work = Path(tempfile.mkdtemp(prefix="triage-ner-"))
    counts = {}
    for split, docs in (("train", train_docs), ("dev", dev_docs)):
        bin_, misaligned = to_docbin(nlp, docs)
        bin_.to_disk(work / f"{split}.spacy")
        counts[split] = {"documents": len(bin_), "misaligned_spans": misaligned}
    print(counts)
    overrides: dict[str, Any] = {
        "paths.train": str(work / "train.spacy"),
        "paths.dev": str(work / "dev.spacy"),
    }
    if max_steps:
        overrides["training.max_steps"] = max_steps
    started = time.time()
    train(CONFIG, work / "output", overrides=overrides)
    best = work / "output" / "model-best"
    meta: dict[str, Any] = json.loads((best / "meta.json").read_text(encoding="utf-8"))
    meta["name"] = "wro_triage_entities"
    meta["version"] = VERSION.rsplit("-", 1)[-1] + ".0.0"
    meta["description"] = (
        "PRODUCER/COMMODITY/LOCATION/BUYER/ORIGIN/MARKET recogniser trained on corpora/wro_triage/v1"
    )
    meta["wro_triage"] = {
        "version": VERSION,
        "training_seconds": round(time.time() - started),
        "data": counts,
    }
    (best / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(best, out)
    shutil.rmtree(work, ignore_errors=True)
    return meta


def main() -> int:
    parser = argparse.ArgumentParser(description="Train the entity recogniser")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "models" / "entities")
    parser.add_argument("--max-steps", type=int, default=None)
    args = parser.parse_args()
    meta = train_recogniser(english(load_docs("train")), english(load_docs("dev")), args.out, args.max_steps)
    print(f"saved {args.out}: dev ents_f {meta['performance']['ents_f']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
