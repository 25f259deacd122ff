"""Reading, validating and describing the annotated corpus (corpora/wro_triage/v1).

One implementation serves `training/validate_corpus.py` (run in the tests) and `triage corpus stats`, so the
numbers the datasheet quotes are the numbers the checks enforce.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import combinations
from pathlib import Path
from typing import Any

from service.config import REPO_ROOT
from service.db.models import SourceType
from service.labels import EVIDENCE_STATUSES, INDICATOR_IDS, PRESENT_STATUSES, TIERS

SPLITS = ("train", "dev", "test")
ENTITY_LABELS = frozenset({"PRODUCER", "COMMODITY", "LOCATION", "BUYER", "ORIGIN", "MARKET"})
SOURCE_TYPES = frozenset(s.value for s in SourceType)
NEAR_DUPLICATE_JACCARD = 0.5
_SHINGLE = 5


def default_corpus_dir() -> Path:
    return REPO_ROOT / "corpora" / "wro_triage" / "v1"


def load_split(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_corpus(directory: Path) -> dict[str, list[dict[str, Any]]]:
    return {
        split: load_split(directory / f"{split}.jsonl")
        for split in SPLITS
        if (directory / f"{split}.jsonl").exists()
    }


def validate_document(doc: dict[str, Any]) -> list[str]:
    """Problems with one document: schema, labels, and offsets against its text."""
    problems: list[str] = []
    ident = doc.get("id", "?")
    for key in (
        "id",
        "group",
        "genre",
        "source_type",
        "language",
        "text",
        "entities",
        "sentences",
        "us_nexus",
        "tier",
        "rationale",
    ):
        if key not in doc:
            problems.append(f"{ident}: missing {key}")
    if problems:
        return problems
    text: str = doc["text"]
    if doc["tier"] not in TIERS:
        problems.append(f"{ident}: bad tier {doc['tier']!r}")
    if doc["source_type"] not in SOURCE_TYPES:
        problems.append(f"{ident}: bad source_type {doc['source_type']!r}")
    if not isinstance(doc["us_nexus"], bool):
        problems.append(f"{ident}: us_nexus must be boolean")
    for ent in doc["entities"]:
        if ent["label"] not in ENTITY_LABELS:
            problems.append(f"{ident}: bad entity label {ent['label']!r}")
        if text[ent["start"] : ent["end"]] != ent["text"]:
            problems.append(
                f"{ident}: entity offsets {ent['start']}-{ent['end']} do not give {ent['text']!r}"
            )
    previous = 0
    for sentence in doc["sentences"]:
        start, end = sentence["start"], sentence["end"]
        if not (previous <= start < end <= len(text)):
            problems.append(f"{ident}: sentence offsets {start}-{end} out of order or range")
        previous = end
        for ind in sentence["indicators"]:
            if ind["id"] not in INDICATOR_IDS:
                problems.append(f"{ident}: unknown indicator {ind['id']!r}")
            if ind["status"] not in EVIDENCE_STATUSES:
                problems.append(f"{ident}: unknown status {ind['status']!r}")
    present = sorted(
        {i["id"] for s in doc["sentences"] for i in s["indicators"] if i["status"] in PRESENT_STATUSES}
    )
    if sorted(doc.get("gold", {}).get("indicators", [])) != present:
        problems.append(f"{ident}: gold.indicators disagree with sentence labels")
    return problems


def _shingles(text: str) -> set[int]:
    words = re.findall(r"\w+", text.casefold())
    if len(words) < _SHINGLE:
        return {hash(" ".join(words))}
    return {hash(" ".join(words[i : i + _SHINGLE])) for i in range(len(words) - _SHINGLE + 1)}


def near_duplicate_pairs(
    docs: Sequence[dict[str, Any]], threshold: float = NEAR_DUPLICATE_JACCARD
) -> list[tuple[str, str, float]]:
    """Pairs of documents whose 5-word shingle sets overlap by at least `threshold` (Jaccard)."""
    shingles = [(d["id"], d.get("_split"), _shingles(d["text"])) for d in docs]
    pairs: list[tuple[str, str, float]] = []
    for (id_a, _sa, a), (id_b, _sb, b) in combinations(shingles, 2):
        smaller = min(len(a), len(b))
        if not smaller or len(a & b) / smaller < threshold:  # cheap bound before the exact ratio
            continue
        jaccard = len(a & b) / len(a | b)
        if jaccard >= threshold:
            pairs.append((id_a, id_b, round(jaccard, 3)))
    return pairs


def _indicator_counts(docs: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    doc_aff: Counter[str] = Counter()
    sent_aff: Counter[str] = Counter()
    doc_neg: Counter[str] = Counter()
    for doc in docs:
        affirmed: set[str] = set()
        negated: set[str] = set()
        for sentence in doc["sentences"]:
            for ind in sentence["indicators"]:
                if ind["status"] in PRESENT_STATUSES:
                    sent_aff[ind["id"]] += 1
                    affirmed.add(ind["id"])
                elif ind["status"] in ("negated", "remediated"):
                    negated.add(ind["id"])
        doc_aff.update(affirmed)
        doc_neg.update(negated)
    return {
        i: {
            "affirmed_documents": doc_aff[i],
            "affirmed_sentences": sent_aff[i],
            "negated_or_remediated_documents": doc_neg[i],
        }
        for i in INDICATOR_IDS
    }


def corpus_statistics(directory: Path) -> dict[str, Any]:
    """Counts, coverage, validation problems and leakage for the whole corpus."""
    from service.nlp.reference import canonical_name

    corpus = load_corpus(directory)
    docs = [dict(d, _split=split) for split, rows in corpus.items() for d in rows]
    problems = [p for d in docs for p in validate_document(d)]
    groups_by_split: dict[str, set[str]] = {s: {d["group"] for d in rows} for s, rows in corpus.items()}
    crossing = sorted(
        g for a, b in combinations(groups_by_split, 2) for g in groups_by_split[a] & groups_by_split[b]
    )
    duplicates = near_duplicate_pairs(docs)
    split_of = {d["id"]: d["_split"] for d in docs}
    cross_split_duplicates = [p for p in duplicates if split_of[p[0]] != split_of[p[1]]]
    countries: set[str] = set()
    commodities: set[str] = set()
    commodity_ids: set[str] = set()
    producers: set[str] = set()
    for doc in docs:
        for ent in doc["entities"]:
            if ent["label"] == "LOCATION" and ent.get("country"):
                countries.add(ent["country"])
            elif ent["label"] == "COMMODITY":
                commodities.add(ent.get("normalized") or ent["text"].casefold())
                if ent.get("normalized"):
                    commodity_ids.add(ent["normalized"])
            elif ent["label"] == "PRODUCER":
                producers.add(canonical_name(ent["text"]))
    tiers = Counter(d["tier"] for d in docs)
    return {
        "documents": len(docs),
        "sentences": sum(len(d["sentences"]) for d in docs),
        "labelled_sentences": sum(
            1 for d in docs for s in d["sentences"] if s["indicators"] or s.get("us_nexus")
        ),
        "splits": {
            s: {"documents": len(rows), "sentences": sum(len(d["sentences"]) for d in rows)}
            for s, rows in corpus.items()
        },
        "tiers": dict(tiers),
        "insufficient_share": round(tiers["insufficient"] / len(docs), 3) if docs else 0.0,
        "us_nexus": sum(1 for d in docs if d["us_nexus"]),
        "genres": dict(Counter(d["genre"] for d in docs)),
        "languages": dict(Counter(d["language"] for d in docs)),
        "indicators": _indicator_counts(docs),
        "countries": len(countries),
        "commodities": len(commodities),
        "commodity_ids_in_reference": len(commodity_ids),
        "producers": len(producers),
        "near_duplicate_pairs": len(duplicates),
        "leakage": {
            "groups_across_splits": crossing,
            "near_duplicates_across_splits": cross_split_duplicates,
        },
        "problems": problems,
    }
