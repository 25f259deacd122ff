"""Names of workers and witnesses, found so they can be withheld from exports and from submitters' views.

A worker or witness named in a report can be punished for speaking; the triage needs what happened, not who
said it. Names come from spaCy's PERSON entities (the model the pipeline already loaded, passed in) and from
phrasings such as "a worker named X" that a small model misses. Names that belong to the case's public side
(producers, buyers, or people introduced by an official title such as "Minister" or "CEO") are kept: they are
what an investigator needs, and they are not at risk for having spoken.

Redaction replaces each name with a placeholder and maps offsets of the original text onto the redacted one,
so sentence and entity spans in an export still point at the right characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from spacy.language import Language

PLACEHOLDER = "[name withheld]"
_NAME = r"[A-ZÀ-ÖØ-Þ][\w'’-]+(?:\s+(?:bin|binti|de|da|van|al|[A-ZÀ-ÖØ-Þ][\w'’-]+)){0,3}"
_CUE = re.compile(
    r"\b(?i:(?:worker|witness|labou?rer|employee|migrant|victim|interviewee|survivor|woman|man|girl|boy|"
    r"mother|father|teenager|picker|harvester|fisher(?:man)?|crew\s+member|trabajador[a]?|testigo)s?"
    r"(?:,)?\s+(?:named|called|identified\s+as|known\s+as|llamad[oa])\s+)(?P<name>" + _NAME + ")"
)
_OFFICIAL_TITLES = frozenset(
    [
        "minister",
        "president",
        "senator",
        "secretary",
        "director",
        "ceo",
        "chairman",
        "chairwoman",
        "chair",
        "spokesperson",
        "spokesman",
        "spokeswoman",
        "official",
        "commissioner",
        "ambassador",
        "governor",
        "mayor",
        "congressman",
        "congresswoman",
        "representative",
        "manager",
        "owner",
        "founder",
        "executive",
        "chief",
        "inspector",
        "prosecutor",
        "judge",
        "officer",
        "deputy",
        "ministro",
        "presidente",
        "director-general",
    ]
)
_TITLE_WINDOW = 3


@dataclass(frozen=True)
class NameSpan:
    start: int
    end: int
    text: str
    source: Literal["ner", "cue"]


class PeopleFinder:
    """Finds private persons' names with a loaded spaCy pipeline (one per process, shared with the analysis)."""

    def __init__(self, nlp: Language) -> None:
        if "ner" not in nlp.pipe_names and not any(name.endswith("ner") for name in nlp.pipe_names):
            raise ValueError("the spaCy pipeline has no named-entity recogniser")
        self.nlp = nlp

    def find(self, text: str, public_names: Iterable[str] = ()) -> list[NameSpan]:
        """Spans of private persons' names, sorted and non-overlapping."""
        if not text.strip():
            return []
        public = [p.casefold() for p in public_names if p.strip()]
        found: list[NameSpan] = []
        doc = self.nlp(text)
        for ent in doc.ents:
            if ent.label_ != "PERSON":
                continue
            before = [t.lower_.strip(".,") for t in doc[max(0, ent.start - _TITLE_WINDOW) : ent.start]]
            if any(word in _OFFICIAL_TITLES for word in before):
                continue
            found.append(NameSpan(ent.start_char, ent.end_char, ent.text, "ner"))
        for match in _CUE.finditer(text):
            name = match.group("name")
            start = match.start("name")
            found.append(NameSpan(start, start + len(name), name, "cue"))
        kept = [
            span
            for span in found
            if not any(span.text.casefold() in p or p in span.text.casefold() for p in public)
        ]
        return _merge(kept)

    def redact(self, text: str, public_names: Iterable[str] = ()) -> Redaction:
        return Redaction.of(text, self.find(text, public_names))


def _merge(spans: list[NameSpan]) -> list[NameSpan]:
    merged: list[NameSpan] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            if span.end > last.end:
                merged[-1] = NameSpan(
                    last.start, span.end, last.text + span.text[last.end - span.start :], "ner"
                )
            continue
        merged.append(span)
    return merged


@dataclass(frozen=True)
class Redaction:
    """A text with names replaced, and the way from offsets of the original to offsets of the result."""

    original: str
    text: str
    spans: tuple[NameSpan, ...]

    @classmethod
    def of(cls, original: str, spans: list[NameSpan]) -> Redaction:
        pieces: list[str] = []
        cursor = 0
        for span in spans:
            pieces.append(original[cursor : span.start])
            pieces.append(PLACEHOLDER)
            cursor = span.end
        pieces.append(original[cursor:])
        return cls(original, "".join(pieces), tuple(spans))

    def position(self, offset: int, side: Literal["start", "end"]) -> int:
        """Where an original offset lands; inside a name it moves to the placeholder's start or end."""
        shift = 0
        for span in self.spans:
            if offset >= span.end:
                shift += len(PLACEHOLDER) - (span.end - span.start)
            elif offset > span.start:
                return span.start + shift + (len(PLACEHOLDER) if side == "end" else 0)
            else:
                break
        return offset + shift

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.position(start, "start"), self.position(end, "end")

    def excerpt(self, start: int, end: int) -> str:
        """The redacted text of what was `original[start:end]`."""
        new_start, new_end = self.span(start, end)
        return self.text[new_start:new_end]
