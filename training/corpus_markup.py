"""Parse the corpus source format (inline markup written by annotators) into offset-annotated documents.

Annotators write documents as prose with inline marks, because offsets typed by hand are always wrong and
marks beside the words they label are easy to review. This module turns the marks into character offsets over
the clean text and is the single definition of the source format (see corpora/README.md).

Format of a source file (many documents per file):

    === DOC w3-017
    group: w3-g012
    genre: news
    source_type: news
    language: en
    us_nexus: yes
    tier: reasonable
    rationale: Named vessel, crew testimony of debt bondage, catch sold to a US importer.
    ---
    Text with [[Golden Reef Fishing Co.|PRODUCER]] and [[tuna|COMMODITY]] ... {{debt_bondage:first_hand}}

`[[surface|TYPE]]` marks an entity; `{{label:status; label:status}}` directly after a sentence labels that
sentence; `us_nexus` is a label without status. Standard library only, so annotators can run the checker
with any Python 3.11: `python3 training/corpus_markup.py check FILE...`.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.labels import EVIDENCE_STATUSES, INDICATOR_IDS, PRESENT_STATUSES, TIERS
from service.nlp.sentences import split_with_forced_boundaries

INDICATORS = INDICATOR_IDS
STATUSES = EVIDENCE_STATUSES
ENTITY_TYPES = ("PRODUCER", "COMMODITY", "LOCATION", "BUYER", "ORIGIN", "MARKET")
GENRES = (
    "ngo_report",
    "news",
    "wire",
    "worker_testimony",
    "e_allegation",
    "order_notice",
    "finding_notice",
    "modification_notice",
    "revocation_notice",
    "audit_summary",
    "corporate_statement",
    "trade_press",
    "legal_alert",
    "court_case",
    "government_report",
)
SOURCE_TYPES = ("ngo_report", "news", "e_allegation", "government", "company", "other")
HEADER_FIELDS = ("group", "genre", "source_type", "language", "us_nexus", "tier", "rationale")

_DOC_START = re.compile(r"^=== DOC (\S+)\s*$", re.MULTILINE)
_MARK = re.compile(r"\[\[([^\[\]|]+)\|([A-Z]+)\]\]|\{\{([^{}]*)\}\}")


class EntitySpan(TypedDict):
    start: int
    end: int
    text: str
    label: str


class IndicatorLabel(TypedDict):
    id: str
    status: str


class SentenceLabels(TypedDict):
    start: int
    end: int
    indicators: list[IndicatorLabel]
    us_nexus: bool


class MarkupError(ValueError):
    """A source document that cannot be turned into a valid annotated document."""


@dataclass
class ParsedDocument:
    """One annotated document with offsets into `text`."""

    id: str
    header: dict[str, str]
    text: str
    entities: list[EntitySpan] = field(default_factory=list)
    sentences: list[SentenceLabels] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        present = sorted(
            {
                str(ind["id"])
                for s in self.sentences
                for ind in s["indicators"]
                if ind["status"] in PRESENT_STATUSES
            },
            key=INDICATORS.index,
        )

        def surfaces(label: str) -> list[str]:
            seen: list[str] = []
            for ent in self.entities:
                if ent["label"] == label and ent["text"] not in seen:
                    seen.append(str(ent["text"]))
            return seen

        us_nexus = self.header["us_nexus"] == "yes"
        return {
            "id": self.id,
            "group": self.header["group"],
            "genre": self.header["genre"],
            "source_type": self.header["source_type"],
            "language": self.header["language"],
            "text": self.text,
            "entities": self.entities,
            "sentences": self.sentences,
            "us_nexus": us_nexus,
            "tier": self.header["tier"],
            "rationale": self.header["rationale"],
            "gold": {
                "producers": surfaces("PRODUCER"),
                "commodities": surfaces("COMMODITY"),
                "locations": surfaces("LOCATION"),
                "buyers": surfaces("BUYER"),
                "indicators": present,
                "us_nexus": us_nexus,
                "tier": self.header["tier"],
            },
        }


def _parse_header(doc_id: str, block: str) -> tuple[dict[str, str], str]:
    if "\n---\n" not in block:
        raise MarkupError(f"{doc_id}: header must end with a line '---'")
    head, body = block.split("\n---\n", 1)
    header: dict[str, str] = {}
    for line in head.strip().splitlines():
        if not line.strip():
            continue
        if ":" not in line:
            raise MarkupError(f"{doc_id}: header line without ':': {line!r}")
        key, value = line.split(":", 1)
        header[key.strip()] = value.strip()
    missing = [k for k in HEADER_FIELDS if not header.get(k)]
    if missing:
        raise MarkupError(f"{doc_id}: header misses {', '.join(missing)}")
    checks = {
        "genre": GENRES,
        "source_type": SOURCE_TYPES,
        "tier": TIERS,
        "us_nexus": ("yes", "no"),
    }
    for key, allowed in checks.items():
        if header[key] not in allowed:
            raise MarkupError(f"{doc_id}: {key} {header[key]!r} not one of {', '.join(allowed)}")
    return header, body.strip("\n")


def _parse_tag(doc_id: str, content: str) -> tuple[list[IndicatorLabel], bool]:
    indicators: list[IndicatorLabel] = []
    nexus = False
    for part in re.split(r"[;,]", content):
        part = part.strip()
        if not part:
            continue
        if part == "us_nexus":
            nexus = True
            continue
        if ":" not in part:
            raise MarkupError(f"{doc_id}: tag part {part!r} needs 'indicator:status'")
        label, status = (p.strip() for p in part.split(":", 1))
        if label not in INDICATORS:
            raise MarkupError(f"{doc_id}: unknown indicator {label!r}")
        if status not in STATUSES:
            raise MarkupError(f"{doc_id}: unknown status {status!r} (use one of {', '.join(STATUSES)})")
        if any(i["id"] == label for i in indicators):
            raise MarkupError(f"{doc_id}: indicator {label} twice in one tag")
        indicators.append({"id": label, "status": status})
    if not indicators and not nexus:
        raise MarkupError(f"{doc_id}: empty tag {{{{{content}}}}}")
    return indicators, nexus


def parse_document(doc_id: str, block: str) -> ParsedDocument:
    header, body = _parse_header(doc_id, block)
    out: list[str] = []
    length = 0
    entities: list[EntitySpan] = []
    tags: list[tuple[int, list[IndicatorLabel], bool]] = []
    pos = 0
    for match in _MARK.finditer(body):
        chunk = body[pos : match.start()]
        if match.group(3) is not None:
            chunk = chunk.rstrip(" ")
        out.append(chunk)
        length += len(chunk)
        if match.group(1) is not None:
            surface, label = match.group(1), match.group(2)
            if label not in ENTITY_TYPES:
                raise MarkupError(f"{doc_id}: unknown entity type {label!r} on {surface!r}")
            if surface != surface.strip() or not surface.strip():
                raise MarkupError(f"{doc_id}: entity {surface!r} has spaces at its edges")
            entities.append({"start": length, "end": length + len(surface), "text": surface, "label": label})
            out.append(surface)
            length += len(surface)
        else:
            indicators, nexus = _parse_tag(doc_id, match.group(3))
            if length == 0:
                raise MarkupError(f"{doc_id}: a tag must follow a sentence")
            tags.append((length, indicators, nexus))
        pos = match.end()
    out.append(body[pos:])
    text = "".join(out)
    for stray in ("[[", "]]", "{{", "}}"):
        if stray in text:
            raise MarkupError(
                f"{doc_id}: unbalanced or malformed mark near {stray!r}: "
                f"{text[max(0, text.index(stray) - 40) : text.index(stray) + 40]!r}"
            )
    if len(text.split()) < 15:
        raise MarkupError(f"{doc_id}: text too short ({len(text.split())} words)")
    spans = split_with_forced_boundaries(text, [t[0] for t in tags])
    sentences: list[SentenceLabels] = [
        {"start": s.start, "end": s.end, "indicators": [], "us_nexus": False} for s in spans
    ]
    for end, indicators, nexus in tags:
        target = next((s for s in sentences if s["start"] < end <= s["end"]), None)
        if target is None:
            raise MarkupError(f"{doc_id}: tag at offset {end} does not close a sentence")
        target_inds = target["indicators"]
        for ind in indicators:
            if not any(i["id"] == ind["id"] for i in target_inds):
                target_inds.append(ind)
        target["us_nexus"] = target["us_nexus"] or nexus
    return ParsedDocument(doc_id, header, text, entities, sentences)


def parse_file(path: Path) -> list[ParsedDocument]:
    raw = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    starts = list(_DOC_START.finditer(raw))
    if not starts:
        raise MarkupError(f"{path}: no '=== DOC id' line")
    docs: list[ParsedDocument] = []
    errors: list[str] = []
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(raw)
        try:
            docs.append(parse_document(match.group(1), raw[match.end() : end].strip("\n") + "\n"))
        except MarkupError as exc:
            errors.append(str(exc))
    if errors:
        raise MarkupError("\n".join(errors))
    return docs


def summarize(docs: list[ParsedDocument]) -> dict[str, object]:
    affirmed_docs: Counter[str] = Counter()
    affirmed_sents: Counter[str] = Counter()
    neg_docs: Counter[str] = Counter()
    tiers: Counter[str] = Counter()
    genres: Counter[str] = Counter()
    n_sent = 0
    for doc in docs:
        tiers[doc.header["tier"]] += 1
        genres[doc.header["genre"]] += 1
        n_sent += len(doc.sentences)
        doc_aff: set[str] = set()
        doc_neg: set[str] = set()
        for s in doc.sentences:
            for ind in s["indicators"]:
                if ind["status"] in PRESENT_STATUSES:
                    affirmed_sents[ind["id"]] += 1
                    doc_aff.add(ind["id"])
                elif ind["status"] in ("negated", "remediated"):
                    doc_neg.add(ind["id"])
        affirmed_docs.update(doc_aff)
        neg_docs.update(doc_neg)
    return {
        "documents": len(docs),
        "sentences": n_sent,
        "tiers": dict(tiers),
        "genres": dict(genres),
        "indicator_affirmed_docs": {i: affirmed_docs[i] for i in INDICATORS},
        "indicator_affirmed_sentences": {i: affirmed_sents[i] for i in INDICATORS},
        "indicator_negated_or_remediated_docs": {i: neg_docs[i] for i in INDICATORS},
    }


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] not in ("check", "json"):
        print("usage: corpus_markup.py check|json FILE...", file=sys.stderr)
        return 2
    all_docs: list[ParsedDocument] = []
    failed = False
    for name in argv[2:]:
        try:
            docs = parse_file(Path(name))
        except MarkupError as exc:
            print(f"ERRORS in {name}:\n{exc}", file=sys.stderr)
            failed = True
            continue
        all_docs.extend(docs)
        if argv[1] == "json":
            for doc in docs:
                print(json.dumps(doc.to_json(), ensure_ascii=False))
    ids = Counter(d.id for d in all_docs)
    dupes = [i for i, n in ids.items() if n > 1]
    if dupes:
        print(f"duplicate document ids: {dupes}", file=sys.stderr)
        failed = True
    if argv[1] == "check":
        print(json.dumps(summarize(all_docs), indent=1))
        for doc in all_docs:
            if not any(e["label"] in ("PRODUCER", "COMMODITY", "LOCATION") for e in doc.entities):
                print(f"note: {doc.id} marks no producer, commodity or location", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
