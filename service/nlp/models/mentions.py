"""Mention role classifier: decides, for every candidate span, whether it is a producer, buyer, commodity,
production location, workers' origin, market or none of these.

Why a second stage: the corpus-trained recogniser finds the spans well on our own documents, but on real
government prose it takes people, agencies and producers for places and misses plain commodity words. spaCy's
pretrained recogniser (trained on news) and the reference gazetteers find spans the corpus model misses and
know a person from a place. This stage pools the candidates of all three and learns, from documents the
recogniser never trained on, how far to trust each source in each context (its contextual vectors are the
pretrained model's, so they do not share the recogniser's blind spots). Since `mentions-logistic-11` it also
reads the sentence encoder's embedding of the candidate's sentence: what the sentence is about decides whether
a place is where goods are made or where a court sat.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from service.nlp.reference import ReferenceData

MENTION_LABELS = ("NONE", "PRODUCER", "BUYER", "COMMODITY", "LOCATION", "ORIGIN", "MARKET")
TRAINED_LABELS = MENTION_LABELS[1:]
GENERIC_LABELS = ("ORG", "GPE", "LOC", "FAC", "NORP", "PERSON", "PRODUCT", "OTHER")
GAZETTEERS = ("commodity", "order", "country", "region", "market")
SOURCES = (
    *(f"trained:{label}" for label in TRAINED_LABELS),
    *(f"generic:{label}" for label in GENERIC_LABELS),
    *(f"gazetteer:{name}" for name in GAZETTEERS),
    "phrase:commodity",
)
# spaCy components the mention reader leaves out of the pretrained pipeline: it needs the recogniser, the
# contextual vectors and the part-of-speech tags that delimit goods phrases, not the parse.
GENERIC_EXCLUDE = ["parser", "lemmatizer", "attribute_ruler"]
# Words after which government and NGO prose names the goods ("imports of raw cane sugar", "a producer of
# silica-based products") and participles before which it names them ("tomato paste produced by", "seafood
# harvested by"). Goods outside the reference vocabulary are found only this way.
_GOODS_AFTER = frozenset(
    [
        "imports",
        "import",
        "importation",
        "shipments",
        "shipment",
        "exports",
        "export",
        "production",
        "producer",
        "producers",
        "manufacturer",
        "manufacturers",
        "exporter",
        "exporters",
        "supplier",
        "suppliers",
        "maker",
        "makers",
        "processor",
        "processors",
        "harvesting",
        "processing",
        "entries",
        "consignments",
        "cargo",
        "order",
        "wro",
        "finding",
        "ban",
        "detentions",
        "seizures",
        "seizure",
        "detention",
    ]
)
_GOODS_BEFORE = frozenset(
    [
        "produced",
        "manufactured",
        "harvested",
        "mined",
        "grown",
        "made",
        "processed",
        "caught",
        "picked",
        "cultivated",
        "assembled",
        "sewn",
        "woven",
        "packed",
        "imported",
        "exported",
        "detained",
    ]
)
_NOUN_TAGS = frozenset({"NN", "NNS"})
_MODIFIER_TAGS = frozenset({"NN", "NNS", "JJ", "NNP", "HYPH", "VBN", "VBG"})
_MAX_PHRASE = 6
_MARKET_NAMES = frozenset({"us", "u.s.", "united states", "america", "usa", "united states of america"})
_LEGAL_FORM = re.compile(
    r"\b(co|corp|corporation|company|ltd|limited|inc|llc|plc|gmbh|sa|s\.a|bhd|sdn|pte|group|holdings?|"
    r"industr(y|ies)|enterprises?)\b\.?",
    re.IGNORECASE,
)
_SITE_WORD = re.compile(
    r"\b(farms?|factory|factories|plantations?|estates?|mines?|mills?|vessels?|fleet|fishing|seafood|"
    r"garments?|textiles?|apparel|rubber|gloves?|mining|agricultur\w*|foods?|fisheries)\b",
    re.IGNORECASE,
)
_CONTEXT_TOKENS = 4
_TENSOR_WIDTH = 96
# Width of the sentence encoder's embeddings (all-MiniLM-L6-v2; `encoder.EMBEDDING_DIM`, not imported here so that
# this module stays free of torch).
SENTENCE_WIDTH = 384
# Cue words of the sentence a place is named in: where goods are made, where they are sold, where workers come
# from. They carry the role in any register, where the contextual vectors learn mostly our own corpus's style.
_PRODUCTION_CUE = re.compile(
    r"\b(produc\w*|manufactur\w*|harvest\w*|mined?|mining|grown|grow\w*|farms?|plantations?|estates?|"
    r"factor(y|ies)|facilit(y|ies)|mills?|vessels?|fishing|processing|processed|made|workers?|labou?r)\b",
    re.IGNORECASE,
)
_MARKET_CUE = re.compile(
    r"\b(import\w*|export\w*|ports?|entry|market\w*|consumers?|retail\w*|shipped|shipments?|sold|"
    r"customs|border)\b",
    re.IGNORECASE,
)
_ORIGIN_CUE = re.compile(
    r"\b(migrants?|recruit\w*|nationals?|citizens?|home|hometowns?|villages?|returned|deport\w*|"
    r"origin)\b",
    re.IGNORECASE,
)
_SENTENCE_CUES = (_PRODUCTION_CUE, _MARKET_CUE, _ORIGIN_CUE)
_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n")
_PLACE_SOURCES = frozenset({"generic:GPE", "generic:LOC", "gazetteer:country", "gazetteer:region"})
_COMMODITY_SOURCES = frozenset({"trained:COMMODITY", "gazetteer:commodity"})
_PRODUCER_SOURCES = frozenset({"trained:PRODUCER", "gazetteer:order"})


@dataclass(frozen=True)
class SentenceVectors:
    """The sentence encoder's embedding of each sentence of one text, with the sentences' start offsets.

    Why the mention stage reads them: a sentence embedding says what the sentence is about (goods being made,
    a court case, a shelter, a conference) in a way the pretrained tagger's 96-wide token vectors and the cue
    words do not, and the encoder was trained on far more than our corpus. The pipeline has them already for the
    indicator heads, so they cost nothing extra in service."""

    starts: list[int]
    vectors: NDArray[np.float32]  # (sentences, SENTENCE_WIDTH)

    def of(self, offset: int) -> NDArray[np.float32]:
        """The embedding of the sentence holding `offset` (zeros for a text with no sentences)."""
        if not self.starts:
            return np.zeros(SENTENCE_WIDTH, dtype=np.float32)
        return np.asarray(self.vectors[max(bisect_right(self.starts, offset) - 1, 0)], dtype=np.float32)


@dataclass(frozen=True)
class Candidate:
    """One candidate span and the sources that proposed exactly this span."""

    start: int
    end: int
    text: str
    sources: frozenset[str]


def _generic_label(label: str) -> str:
    return label if label in GENERIC_LABELS else "OTHER"


def candidates(
    trained_doc: Doc | None,
    generic_doc: Doc,
    commodity_gazetteer: PhraseMatcher,
    order_gazetteer: PhraseMatcher,
    reference: ReferenceData,
) -> list[Candidate]:
    """Every span proposed by the corpus recogniser, the pretrained recogniser or a gazetteer."""
    proposed: dict[tuple[int, int], set[str]] = {}

    def propose(start: int, end: int, source: str) -> None:
        proposed.setdefault((start, end), set()).add(source)

    if trained_doc is not None:
        for ent in trained_doc.ents:
            propose(ent.start_char, ent.end_char, f"trained:{ent.label_}")
    for ent in generic_doc.ents:
        if ent.label_ in ("DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"):
            continue
        propose(ent.start_char, ent.end_char, f"generic:{_generic_label(ent.label_)}")
    for _id, start, end in commodity_gazetteer(generic_doc):
        span = generic_doc[start:end]
        propose(span.start_char, span.end_char, "gazetteer:commodity")
    for _id, start, end in order_gazetteer(generic_doc):
        span = generic_doc[start:end]
        propose(span.start_char, span.end_char, "gazetteer:order")
    for start, end in goods_phrases(generic_doc):
        span = generic_doc[start:end]
        propose(span.start_char, span.end_char, "phrase:commodity")
    text = generic_doc.text
    out: list[Candidate] = []
    for (start, end), sources in sorted(proposed.items()):
        surface = text[start:end]
        country, region = reference.country_code(surface)
        if region is not None:
            sources.add("gazetteer:region")
        elif country is not None:
            sources.add("gazetteer:country")
        if surface.strip().casefold().removeprefix("the ") in _MARKET_NAMES:
            sources.add("gazetteer:market")
        out.append(Candidate(start, end, surface, frozenset(sources)))
    return out


def goods_phrases(doc: Doc) -> list[tuple[int, int]]:
    """Token ranges of noun phrases in the slots where prose names goods; empty without part-of-speech tags."""
    if not doc.has_annotation("TAG"):
        return []
    found: list[tuple[int, int]] = []
    for token in doc:
        word = token.lower_
        if word in ("of", "on") and token.i > 0 and doc[token.i - 1].lower_ in _GOODS_AFTER:
            end = token.i + 1
            while end < len(doc) and end - token.i <= _MAX_PHRASE and doc[end].tag_ in _MODIFIER_TAGS:
                end += 1
            while end > token.i + 1 and doc[end - 1].tag_ not in _NOUN_TAGS:
                end -= 1
            if end > token.i + 1:
                found.append((token.i + 1, end))
        elif word in _GOODS_BEFORE and token.tag_ == "VBN":
            start = token.i
            while (
                start > 0
                and token.i - start < _MAX_PHRASE
                and doc[start - 1].tag_ in _MODIFIER_TAGS - {"VBN"}
            ):
                start -= 1
            while start < token.i and doc[start].tag_ not in _NOUN_TAGS | {"JJ", "NN"}:
                start += 1
            if start < token.i and doc[token.i - 1].tag_ in _NOUN_TAGS:
                found.append((start, token.i))
    return found


def _token_range(doc: Doc, start: int, end: int) -> tuple[int, int]:
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None:  # only at whitespace edges; fall back to the nearest token
        index = min(range(len(doc)), key=lambda i: abs(doc[i].idx - start)) if len(doc) else 0
        return index, min(index + 1, len(doc))
    return span.start, span.end


def _mean_rows(tensor: NDArray[np.float32], start: int, end: int) -> NDArray[np.float32]:
    start, end = max(start, 0), min(end, tensor.shape[0])
    if end <= start:
        return np.zeros(_TENSOR_WIDTH, dtype=np.float32)
    return np.asarray(tensor[start:end].mean(axis=0), dtype=np.float32)


def _dateline(text: str, start: int, end: int) -> bool:
    """A place in a dateline ("KANSAS CITY, Mo. –", "WASHINGTON —") says where the text was issued."""
    line_start = text.rfind("\n", 0, start) + 1
    if start - line_start > 40:
        return False
    rest = text[end : end + 30]
    return bool(re.match(r"\s*(,\s*[A-Z][A-Za-z.]{1,12}\s*)?[—–-]", rest)) or (
        text[start:end].isupper() and start - line_start < 3
    )


def _sentence_bounds(text: str) -> list[int]:
    """Character offsets where sentences (or lines) end: enough to ask which candidates share a sentence."""
    return [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]


_N_SHAPE = 14
_N_RELATIONAL = 11
N_FEATURES = len(SOURCES) * 2 + _N_SHAPE + _N_RELATIONAL + _TENSOR_WIDTH * 3 + SENTENCE_WIDTH


def _relational(
    cands: Sequence[Candidate], text: str, sentence_of: list[int], bounds: list[int]
) -> NDArray[np.float32]:
    """What a candidate's sentence and document say about its role: does it share a sentence with goods or a
    producer, which cue words surround it, and is it the place the document keeps returning to. These read the
    same in a CBP notice and in an NGO report, where the contextual vectors mostly know our corpus."""
    out = np.zeros((len(cands), _N_RELATIONAL), dtype=np.float32)
    places = Counter(c.text.casefold() for c in cands if c.sources & _PLACE_SOURCES)
    top_place = max(places.values(), default=0)
    total_places = max(sum(places.values()), 1)
    by_sentence: dict[int, list[Candidate]] = {}
    for cand, sentence in zip(cands, sentence_of, strict=True):
        by_sentence.setdefault(sentence, []).append(cand)
    cues: dict[int, list[float]] = {}  # production, market, origin cue words in each sentence
    for sentence in by_sentence:
        sentence_text = text[bounds[sentence - 1] if sentence > 0 else 0 : bounds[sentence]]
        cues[sentence] = [float(bool(cue.search(sentence_text))) for cue in _SENTENCE_CUES]
    for row, (cand, sentence) in enumerate(zip(cands, sentence_of, strict=True)):
        begin = bounds[sentence - 1] if sentence > 0 else 0
        others = [o for o in by_sentence[sentence] if not (o.start < cand.end and cand.start < o.end)]
        commodity_gaps = [abs(o.start - cand.start) for o in others if o.sources & _COMMODITY_SOURCES]
        vector = out[row]
        vector[0] = float(bool(commodity_gaps))
        vector[1] = math.log1p(min(commodity_gaps)) / 6 if commodity_gaps else 1.5
        vector[2] = float(any(o.sources & _PRODUCER_SOURCES or _LEGAL_FORM.search(o.text) for o in others))
        vector[3:6] = cues[sentence]
        before = text[max(begin, cand.start - 12) : cand.start].casefold().split()
        vector[6] = float(bool(before) and before[-1] in ("in", "at", "of"))
        vector[7] = float(bool(before) and before[-1] in ("from",))
        vector[8] = float(bool(before) and before[-1] in ("to", "into"))
        count = places.get(cand.text.casefold(), 0)
        vector[9] = count / total_places
        vector[10] = float(count > 0 and count == top_place)
    return out


def mention_features(
    cands: Sequence[Candidate], generic_doc: Doc, sentence_vectors: SentenceVectors
) -> NDArray[np.float32]:
    """One row per candidate: its own sources, the sources of overlapping spans, shape, position, frequency,
    the pretrained model's contextual vectors over the span and a few tokens either side, and the sentence
    encoder's embedding of the candidate's sentence."""
    if sentence_vectors.vectors.shape[1:] != (SENTENCE_WIDTH,):
        raise ValueError(f"sentence vectors must be {SENTENCE_WIDTH} wide, got {sentence_vectors.vectors.shape}")
    text = generic_doc.text
    raw = generic_doc.tensor
    if raw is None or getattr(raw, "shape", (0, 0))[-1] != _TENSOR_WIDTH:
        tensor = np.zeros((len(generic_doc), _TENSOR_WIDTH), dtype=np.float32)
    else:
        tensor = np.asarray(raw, dtype=np.float32)
    counts = Counter(c.text.casefold() for c in cands)
    first_seen: dict[str, int] = {}
    for c in cands:
        first_seen.setdefault(c.text.casefold(), c.start)
    index = {s: i for i, s in enumerate(SOURCES)}
    ordered = sorted(cands, key=lambda c: c.start)
    starts = [c.start for c in ordered]
    longest = max((c.end - c.start for c in cands), default=0)
    rows = np.zeros((len(cands), N_FEATURES), dtype=np.float32)
    length = max(len(text), 1)
    bounds = _sentence_bounds(text)
    sentence_of = [bisect_left(bounds, c.start + 1) for c in cands]
    relational = _relational(cands, text, sentence_of, bounds)
    for row, cand in enumerate(cands):
        vector = rows[row]
        for source in cand.sources:
            if source in index:
                vector[index[source]] = 1.0
        # Only candidates starting within the longest span before this one can overlap it: a long document's
        # hundreds of candidates are not compared pairwise.
        for other in ordered[bisect_left(starts, cand.start - longest) : bisect_left(starts, cand.end)]:
            if other is cand or other.end <= cand.start:
                continue
            for source in other.sources:
                if source in index:
                    vector[len(SOURCES) + index[source]] = 1.0
        surface = cand.text
        words = surface.split()
        base = 2 * len(SOURCES)
        vector[base + 0] = math.log1p(len(words))
        vector[base + 1] = float(surface.istitle())
        vector[base + 2] = float(surface.isupper() and len(surface) > 1)
        vector[base + 3] = float(surface.islower())
        vector[base + 4] = float(any(ch.isdigit() for ch in surface))
        vector[base + 5] = float(bool(_LEGAL_FORM.search(surface)))
        vector[base + 6] = float(bool(_SITE_WORD.search(surface)))
        vector[base + 7] = cand.start / length
        vector[base + 8] = float(cand.start < 200)
        vector[base + 9] = float(_dateline(text, cand.start, cand.end))
        vector[base + 10] = math.log1p(counts[surface.casefold()])
        vector[base + 11] = float(first_seen[surface.casefold()] == cand.start)
        vector[base + 12] = math.log1p(len(text) / 1000)
        vector[base + 13] = float(len(cand.sources))
        vector[base + _N_SHAPE : base + _N_SHAPE + _N_RELATIONAL] = relational[row]
        first, last = _token_range(generic_doc, cand.start, cand.end)
        tensor_base = base + _N_SHAPE + _N_RELATIONAL
        vector[tensor_base : tensor_base + _TENSOR_WIDTH] = _mean_rows(tensor, first, last)
        vector[tensor_base + _TENSOR_WIDTH : tensor_base + 2 * _TENSOR_WIDTH] = _mean_rows(
            tensor, first - _CONTEXT_TOKENS, first
        )
        vector[tensor_base + 2 * _TENSOR_WIDTH : tensor_base + 3 * _TENSOR_WIDTH] = _mean_rows(
            tensor, last, last + _CONTEXT_TOKENS
        )
        vector[tensor_base + 3 * _TENSOR_WIDTH :] = sentence_vectors.of(cand.start)
    return rows


@dataclass
class MentionClassifier:
    """Multinomial logistic model over standardised mention features, with a minimum probability per role."""

    version: str
    mean: NDArray[np.float64]
    scale: NDArray[np.float64]
    coef: NDArray[np.float64]  # (labels, features)
    intercept: NDArray[np.float64]  # (labels,)
    thresholds: dict[str, float]

    @classmethod
    def load(cls, path: Path, version: str, thresholds: dict[str, float]) -> MentionClassifier:
        with np.load(path) as stored:
            model = cls(
                version,
                stored["mean"].astype(np.float64),
                stored["scale"].astype(np.float64),
                stored["coef"].astype(np.float64),
                stored["intercept"].astype(np.float64),
                dict(thresholds),
            )
        if model.coef.shape != (len(MENTION_LABELS), N_FEATURES):
            raise ValueError(f"mention classifier expects {N_FEATURES} features, got {model.coef.shape}")
        return model

    def save(self, path: Path) -> None:
        np.savez(path, mean=self.mean, scale=self.scale, coef=self.coef, intercept=self.intercept)

    def probabilities(self, features: NDArray[np.float32]) -> NDArray[np.float64]:
        if features.shape[0] == 0:
            return np.zeros((0, len(MENTION_LABELS)))
        logits = ((features - self.mean) / self.scale) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True), dtype=np.float64)


def decide(
    cands: Sequence[Candidate], probs: NDArray[np.float64], thresholds: dict[str, float]
) -> list[tuple[Candidate, str, float]]:
    """Each candidate's role where its probability clears the role's threshold. Overlapping candidates keep
    only the most probable reading, so one stretch of text has one role, except that a span containing others
    of the same role wins over them."""
    chosen: list[tuple[Candidate, str, float]] = []
    for cand, row in zip(cands, probs, strict=True):
        best = int(np.argmax(row[1:])) + 1
        label = MENTION_LABELS[best]
        if row[best] >= thresholds.get(label, 0.5):
            chosen.append((cand, label, float(row[best])))
    chosen.sort(key=lambda item: -item[2])
    kept: list[tuple[Candidate, str, float]] = []
    for cand, label, prob in chosen:
        clashes = [k for k in kept if k[0].start < cand.end and cand.start < k[0].end]
        # A longer span with the same role holds the whole name ("Top Glove Corporation Bhd", not "Glove").
        if clashes and all(
            k[1] == label and cand.start <= k[0].start and k[0].end <= cand.end for k in clashes
        ):
            kept = [k for k in kept if k not in clashes]
        elif clashes:
            continue
        kept.append((cand, label, prob))
    kept.sort(key=lambda item: item[0].start)
    return kept
