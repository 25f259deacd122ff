"""Validate the annotated corpus and print its statistics.

Checks schema, offsets against the text, label ids, that the built splits match the sources, leakage across
splits (shared groups, near-duplicates by word shingles) and the coverage targets the corpus was built to meet.
Exit status 1 on any problem, so the test suite and CI catch a broken corpus.

usage: python training/validate_corpus.py [--json] [--no-targets]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.corpus import corpus_statistics, default_corpus_dir

TARGETS = {
    "documents": 800,
    "sentences": 6000,
    "countries": 40,
    "commodities": 80,
    "producers": 150,
}
PER_INDICATOR = {"affirmed_documents": 60, "affirmed_sentences": 150, "negated_or_remediated_documents": 15}
MIN_INSUFFICIENT_SHARE = 0.35


def target_failures(stats: dict[str, Any]) -> list[str]:
    failures = [
        f"{key}: {stats[key]} < {minimum}" for key, minimum in TARGETS.items() if stats[key] < minimum
    ]
    for indicator, counts in stats["indicators"].items():
        failures += [
            f"{indicator} {key}: {counts[key]} < {minimum}"
            for key, minimum in PER_INDICATOR.items()
            if counts[key] < minimum
        ]
    if stats["insufficient_share"] < MIN_INSUFFICIENT_SHARE:
        failures.append(f"insufficient share {stats['insufficient_share']} < {MIN_INSUFFICIENT_SHARE}")
    if not stats["tiers"].get("conclusive"):
        failures.append("no conclusive documents")
    return failures


def validate(directory: Path, targets: bool = True) -> tuple[dict[str, Any], list[str]]:
    from training.build_corpus import CORPUS_DIR, build, serialise

    stats = corpus_statistics(directory)
    failures = list(stats["problems"])
    leakage = stats["leakage"]
    failures += [f"group in more than one split: {g}" for g in leakage["groups_across_splits"]]
    failures += [
        f"near-duplicate across splits: {a} ~ {b} ({j})"
        for a, b, j in leakage["near_duplicates_across_splits"]
    ]
    if directory.resolve() == CORPUS_DIR.resolve():
        for name, rows in build().items():
            path = directory / f"{name}.jsonl"
            if not path.exists() or path.read_text(encoding="utf-8") != serialise(rows):
                failures.append(f"{name}.jsonl is out of date with src/: run `make corpus`")
    if targets:
        failures += target_failures(stats)
    return stats, failures


def main() -> int:
    parser = argparse.ArgumentParser(description="Validate the WRO Triage corpus")
    parser.add_argument("--dir", type=Path, default=default_corpus_dir())
    parser.add_argument("--json", action="store_true", help="print statistics as JSON")
    parser.add_argument("--no-targets", action="store_true", help="skip the coverage targets")
    args = parser.parse_args()
    stats, failures = validate(args.dir, targets=not args.no_targets)
    stats = {k: v for k, v in stats.items() if k != "problems"}
    if args.json:
        print(json.dumps(stats, indent=1))
    else:
        for key in (
            "documents",
            "sentences",
            "labelled_sentences",
            "tiers",
            "insufficient_share",
            "countries",
            "commodities",
            "producers",
            "near_duplicate_pairs",
        ):
            print(f"{key}: {stats[key]}")
        for indicator, counts in stats["indicators"].items():
            print(f"  {indicator}: {counts}")
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
