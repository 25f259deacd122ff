"""Sentence segmentation with exact character offsets.

Pure Python on purpose: the corpus tooling, the training scripts and the service must cut text into the
same sentences, and evidence offsets must index the original string, so the splitter never rewrites text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Abbreviations that end in a full stop but rarely end a sentence in this domain (company forms, titles,
# months, legal citations). Lower-cased, without the trailing dot.
_ABBREVIATIONS = frozenset(
    [
        "co",
        "corp",
        "inc",
        "ltd",
        "bhd",
        "sdn",
        "pte",
        "pty",
        "pvt",
        "rs",
        "dist",
        "incl",
        "excl",
        "ref",
        "reg",
        "tel",
        "ave",
        "rd",
        "llc",
        "plc",
        "no",
        "nos",
        "vol",
        "art",
        "sec",
        "secs",
        "para",
        "paras",
        "fig",
        "figs",
        "approx",
        "est",
        "dept",
        "govt",
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "mt",
        "ft",
        "gen",
        "gov",
        "sen",
        "rep",
        "hon",
        "rev",
        "capt",
        "col",
        "lt",
        "sgt",
        "messrs",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "e.g",
        "i.e",
        "etc",
        "vs",
        "cf",
        "al",
        "ibid",
        "viz",
        "op",
        "cit",
        "u.s",
        "u.k",
        "u.n",
        "e.u",
        "u.s.c",
        "c.f.r",
        "p.r.c",
        "s.a",
        "s.r.l",
        "s.a.s",
        "pt",
        "tbk",
    ]
)

_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+)")
_NEXT_START = re.compile(r"\s+([\"'“‘(\[]?)([A-Z0-9À-ÖØ-Þ•\-–—*])")
# Submitters often type in lower case; a lower-case start counts after a full word, not after a short token.
_NEXT_LOWER = re.compile(r"\s+([a-zß-öø-ÿ])")
_TOKEN_BEFORE = re.compile(r"(\S+)$")


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence as offsets into the original text; `text` is exactly `source[start:end]`."""

    start: int
    end: int
    text: str


def _is_abbreviation(token: str) -> bool:
    core = token.rstrip(".!?\"'”’)]").lstrip("\"'“‘([")
    low = core.lower()
    if low in _ABBREVIATIONS:
        return True
    # Initials ("J.", "A.B.") and dotted acronyms ("U.S.A.") are not sentence ends.
    return bool(re.fullmatch(r"(?:[A-Za-z]\.)*[A-Za-z]", core))


def _candidate_ends(text: str) -> list[int]:
    """Offsets just after sentence-final punctuation that is followed by a plausible sentence start."""
    ends: list[int] = []
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        punct_start = match.start()
        before = _TOKEN_BEFORE.search(text, 0, match.end())
        token = before.group(1) if before else ""
        if text[punct_start] == "." and _is_abbreviation(token):
            continue
        if _NEXT_START.match(text, end) is None:
            word = re.sub(r"\W", "", token)
            closes_quote = match.group(0)[-1] in "\"'”’)]"
            if _NEXT_LOWER.match(text, end) is None or len(word) < 3 or word.isdigit() or closes_quote:
                continue
        ends.append(end)
    return ends


def split_sentences(text: str) -> list[Sentence]:
    """Split on sentence punctuation and on line breaks; trims surrounding white space from each span."""
    cut_points = set(_candidate_ends(text))
    for match in re.finditer(r"\n", text):
        cut_points.add(match.start())
    for match in re.finditer(r"[。！？]+[」』”]?", text):
        cut_points.add(match.end())
    sentences: list[Sentence] = []
    start = 0
    for cut in [*sorted(cut_points), len(text)]:
        _append_trimmed(text, start, cut, sentences)
        start = cut
    return sentences


def _append_trimmed(text: str, start: int, end: int, out: list[Sentence]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        out.append(Sentence(start, end, text[start:end]))


def split_with_forced_boundaries(text: str, forced: list[int]) -> list[Sentence]:
    """Split as `split_sentences`, but also cut at each offset in `forced` (used by the corpus builder,
    whose annotators mark the end of each labelled sentence)."""
    spans = split_sentences(text)
    cuts = sorted(set(forced))
    out: list[Sentence] = []
    for span in spans:
        inner = [c for c in cuts if span.start < c < span.end]
        start = span.start
        for cut in [*inner, span.end]:
            _append_trimmed(text, start, cut, out)
            start = cut
    return out
