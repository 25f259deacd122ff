"""Build corpora/wro_triage/v1/{train,dev,test}.jsonl from the annotated sources in src/.

Splits are assigned per document group (versions of one story or case share a group) by a stable hash, so a
case never straddles splits and re-running the build gives the same files. Entities get normalised fields
(country codes, commodity ids) from the reference tables so statistics and training see the same ids as the
service.

usage: python training/build_corpus.py [--check]   (--check: fail if the built files are out of date)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.config import Settings
from service.nlp.normalize import EntityNormalizer
from service.nlp.reference import load_reference
from training.corpus_markup import ParsedDocument, parse_file

CORPUS_DIR = Path(__file__).resolve().parents[1] / "corpora" / "wro_triage" / "v1"
SOURCE_DIR = CORPUS_DIR / "src"
EXCLUDED_SOURCES = {"example"}
# Share of groups per split; the hash of the group id decides, so membership never depends on file order.
SPLIT_BOUNDS = (("train", 0.70), ("dev", 0.85), ("test", 1.0))


def split_of(group: str) -> str:
    fraction = int(hashlib.sha256(group.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return next(name for name, bound in SPLIT_BOUNDS if fraction <= bound)


def normalise(doc: ParsedDocument, normalizer: EntityNormalizer) -> dict[str, Any]:
    row = doc.to_json()
    for entity in row["entities"]:
        if entity["label"] in ("LOCATION", "ORIGIN", "MARKET"):
            country, region = normalizer.reference.country_code(entity["text"])
            entity["country"] = country
            entity["region"] = region
        elif entity["label"] == "COMMODITY":
            entity["normalized"] = normalizer.commodity_id(entity["text"])
    row["split"] = split_of(str(row["group"]))
    row["source_file"] = f"{doc.header.get('_file', '')}"
    return row


def build() -> dict[str, list[dict[str, Any]]]:
    normalizer = EntityNormalizer.build(load_reference(Settings().reference_dir))
    splits: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in SPLIT_BOUNDS}
    for path in sorted(SOURCE_DIR.glob("*/*.md")):
        if path.parent.name in EXCLUDED_SOURCES:
            continue
        for doc in parse_file(path):
            doc.header["_file"] = str(path.relative_to(CORPUS_DIR))
            row = normalise(doc, normalizer)
            splits[row["split"]].append(row)
    return splits


def serialise(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="fail if the built files differ from the sources"
    )
    args = parser.parse_args()
    splits = build()
    stale = []
    for name, rows in splits.items():
        path = CORPUS_DIR / f"{name}.jsonl"
        content = serialise(rows)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != content:
                stale.append(path.name)
        else:
            path.write_text(content, encoding="utf-8")
        print(f"{name}: {len(rows)} documents")
    if stale:
        print(f"out of date: {', '.join(stale)}; run `make corpus`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
