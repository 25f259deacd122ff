"""Inter-annotator agreement on a blind 10% sample of the corpus (Cohen's kappa per label).

`sample` writes the sampled documents' plain text (no marks, no tier or nexus) for a second annotator;
`score` compares the second annotator's marked-up files (second_pass*.md) with the first annotation and prints
kappa per label:
sentence-level indicators, evidence status, sentence and document US nexus, tier, and token-level entities.

usage: python training/agreement.py sample [--fraction 0.1] [--prefixes gcbp,gtip --name gov]
       python training/agreement.py score [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.contract import INDICATOR_IDS, PRESENT_STATUSES
from service.corpus import load_corpus
from service.evaluation import cohen_kappa
from training.build_corpus import CORPUS_DIR
from training.corpus_markup import ParsedDocument, parse_file

AGREEMENT_DIR = CORPUS_DIR / "agreement"
BLIND_INPUT = AGREEMENT_DIR / "blind_input.md"
SEED = 307


def sample_documents(fraction: float, prefixes: set[str] | None = None) -> list[dict[str, Any]]:
    """A stratified sample: the same fraction of every writer's slice (id prefix), by a fixed seed."""
    rows = [row for split in load_corpus(CORPUS_DIR).values() for row in split]
    if prefixes:
        rows = [row for row in rows if row["id"].split("-")[0] in prefixes]
    rng = random.Random(SEED)
    by_source: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: r["id"]):
        by_source.setdefault(row["id"].split("-")[0], []).append(row)
    chosen: list[dict[str, Any]] = []
    for docs in by_source.values():
        chosen += rng.sample(docs, math.ceil(len(docs) * fraction))
    return sorted(chosen, key=lambda r: r["id"])


def write_blind_input(fraction: float, prefixes: set[str] | None = None, name: str = "") -> int:
    docs = sample_documents(fraction, prefixes)
    AGREEMENT_DIR.mkdir(parents=True, exist_ok=True)
    parts = [
        f"=== DOC {d['id']}\ngroup: {d['group']}\ngenre: {d['genre']}\nsource_type: {d['source_type']}\n"
        f"language: {d['language']}\n---\n{d['text']}\n"
        for d in docs
    ]
    target = BLIND_INPUT.with_name(f"blind_input{'_' + name if name else ''}.md")
    target.write_text("\n".join(parts), encoding="utf-8")
    return len(docs)


def _token_labels(text: str, entities: Sequence[Mapping[str, Any]], label: str) -> list[bool]:
    spans = [(e["start"], e["end"]) for e in entities if e["label"] == label]
    return [any(s <= m.start() < e for s, e in spans) for m in re.finditer(r"\S+", text)]


def _sentence_of(first: dict[str, Any], offset: int) -> int | None:
    for index, sentence in enumerate(first["sentences"]):
        if sentence["start"] <= offset <= sentence["end"]:
            return index
    return None


def _project(first: dict[str, Any], second: ParsedDocument) -> list[dict[str, str]]:
    """Second annotator's labels mapped onto the first annotation's sentences, by overlap of offsets."""
    projected: list[dict[str, str]] = [{} for _ in first["sentences"]]
    nexus = [False] * len(first["sentences"])
    for sentence in second.sentences:
        index = _sentence_of(first, sentence["end"] - 1)
        if index is None:
            continue
        for ind in sentence["indicators"]:
            projected[index][ind["id"]] = ind["status"]
        nexus[index] = nexus[index] or bool(sentence["us_nexus"])
    for index, flag in enumerate(nexus):
        if flag:
            projected[index]["us_nexus"] = "yes"
    return projected


def score() -> dict[str, Any]:
    firsts = {row["id"]: row for split in load_corpus(CORPUS_DIR).values() for row in split}
    seconds = {
        doc.id: doc for path in sorted(AGREEMENT_DIR.glob("second_pass*.md")) for doc in parse_file(path)
    }
    common = sorted(set(seconds) & set(firsts))
    sentence_pairs: dict[str, tuple[list[bool], list[bool]]] = {i: ([], []) for i in INDICATOR_IDS}
    document_pairs: dict[str, tuple[list[bool], list[bool]]] = {i: ([], []) for i in INDICATOR_IDS}
    status_a: list[str] = []
    status_b: list[str] = []
    nexus_sent: tuple[list[bool], list[bool]] = ([], [])
    entity_pairs: dict[str, tuple[list[bool], list[bool]]] = {
        label: ([], []) for label in ("PRODUCER", "COMMODITY", "LOCATION", "BUYER")
    }
    tiers: tuple[list[str], list[str]] = ([], [])
    nexus_doc: tuple[list[bool], list[bool]] = ([], [])
    for doc_id in common:
        first, second = firsts[doc_id], seconds[doc_id]
        if second.text != first["text"]:
            raise ValueError(f"{doc_id}: the second annotator changed the text")
        projected = _project(first, second)
        for sentence, other in zip(first["sentences"], projected, strict=True):
            mine = {i["id"]: i["status"] for i in sentence["indicators"]}
            for indicator in INDICATOR_IDS:
                sentence_pairs[indicator][0].append(mine.get(indicator) in PRESENT_STATUSES)
                sentence_pairs[indicator][1].append(other.get(indicator) in PRESENT_STATUSES)
                if indicator in mine and indicator in other:
                    status_a.append(mine[indicator])
                    status_b.append(other[indicator])
            nexus_sent[0].append(bool(sentence["us_nexus"]))
            nexus_sent[1].append("us_nexus" in other)
        second_present = {
            i["id"] for s in second.sentences for i in s["indicators"] if i["status"] in PRESENT_STATUSES
        }
        for indicator in INDICATOR_IDS:
            document_pairs[indicator][0].append(indicator in first["gold"]["indicators"])
            document_pairs[indicator][1].append(indicator in second_present)
        for label, (a, b) in entity_pairs.items():
            a += _token_labels(first["text"], first["entities"], label)
            b += _token_labels(second.text, second.entities, label)
        tiers[0].append(first["tier"])
        tiers[1].append(second.header["tier"])
        nexus_doc[0].append(first["us_nexus"])
        nexus_doc[1].append(second.header["us_nexus"] == "yes")

    def kappa(pair: tuple[Sequence[Hashable], Sequence[Hashable]]) -> float | None:
        value = cohen_kappa(pair[0], pair[1])
        return round(value, 3) if value is not None else None

    return {
        "documents": len(common),
        "sentences": len(nexus_sent[0]),
        "indicator_sentence_kappa": {i: kappa(p) for i, p in sentence_pairs.items()},
        "indicator_document_kappa": {i: kappa(p) for i, p in document_pairs.items()},
        "evidence_status_kappa": kappa((status_a, status_b)) if status_a else None,
        "evidence_status_pairs": len(status_a),
        "us_nexus_sentence_kappa": kappa(nexus_sent),
        "us_nexus_document_kappa": kappa(nexus_doc),
        "tier_kappa": kappa(tiers),
        "tier_agreement": round(sum(a == b for a, b in zip(*tiers, strict=True)) / len(common), 3)
        if common
        else None,
        "entity_token_kappa": {label: kappa(p) for label, p in entity_pairs.items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="Inter-annotator agreement")
    parser.add_argument("command", choices=["sample", "score"])
    parser.add_argument("--fraction", type=float, default=0.1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--prefixes", default="", help="comma-separated writer slices to sample from (default all)"
    )
    parser.add_argument("--name", default="", help="suffix of the blind input file (blind_input_<name>.md)")
    args = parser.parse_args()
    if args.command == "sample":
        prefixes = {p for p in args.prefixes.split(",") if p} or None
        print(f"wrote {write_blind_input(args.fraction, prefixes, args.name)} documents to {AGREEMENT_DIR}")
        return 0
    result = score()
    print(json.dumps(result, indent=None if args.json else 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
