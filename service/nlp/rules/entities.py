"""Rules baseline for entities: spaCy's generic NER plus gazetteers from the reference data.

Kept runnable as `--pipeline rules` so every trained extractor is measured against it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from service.contract import BuyerMention, CommodityMention, Entities, LocationMention, ProducerMention
from service.nlp.normalize import EntityNormalizer
from service.nlp.reference import ReferenceData

if TYPE_CHECKING:
    from service.nlp.models.mentions import SentenceVectors

# Organisations that are never producers: agencies, courts, NGOs, media, standards bodies.
_NOT_PRODUCER = re.compile(
    r"\b(customs|cbp|border protection|department|ministry|government|agency|commission|council|bureau|office|"
    r"court|police|university|reuters|associated press|news|times|post|journal|watch|amnesty|foundation|"
    r"institute|withhold release order|finding|ilo|united nations|un|dhs|dol|ilab|congress|senate|house|"
    r"state|federal|register|embassy|union|association|federation|coalition|network|initiative|alliance|"
    r"tariff|act|uflpa|trafficking|labor|labour|forced|usmca|wto|europe|eu|the u\.s\.)\b",
    re.IGNORECASE,
)
_BUYER_CUE = re.compile(
    r"\b(sold to|sells to|supplier(s)? (to|of|for)|supplies|supplying|sources? from|sourced by|buyers?|"
    r"brands?|retailers?|importers?|imported by|customers?|purchased by|distributors?)\b",
    re.IGNORECASE,
)
_ORIGIN_CUE = re.compile(
    r"\b(from|recruited in|recruited from|migrants? from|workers? from|home in|hometown|returned to|"
    r"villages? in|native)\s*$",
    re.IGNORECASE,
)
_MARKET_NAMES = {"us", "united states", "u.s.", "america", "usa", "united states of america", "washington"}


def commodity_matcher(nlp: Language, normalizer: EntityNormalizer) -> PhraseMatcher:
    """Gazetteer of every commodity name, synonym and plural in the reference vocabulary."""
    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    matcher.add("COMMODITY", [nlp.make_doc(s) for s in normalizer.commodity_by_surface])
    return matcher


def producer_matcher(nlp: Language, reference: ReferenceData) -> PhraseMatcher:
    """Gazetteer of producers named in CBP orders and on the UFLPA Entity List."""
    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    names = {n for order in reference.orders if not order.region_wide for n in order.names}
    matcher.add("PRODUCER", [nlp.make_doc(n) for n in names])
    return matcher


@dataclass
class RulesEntityExtractor:
    """Gazetteer and generic-NER extraction of producers, commodities, locations and buyers."""

    reference: ReferenceData
    commodity_matcher: PhraseMatcher
    producer_matcher: PhraseMatcher
    normalizer: EntityNormalizer

    @classmethod
    def build(cls, nlp: Language, reference: ReferenceData) -> RulesEntityExtractor:
        normalizer = EntityNormalizer.build(reference)
        return cls(
            reference, commodity_matcher(nlp, normalizer), producer_matcher(nlp, reference), normalizer
        )

    needs_sentence_vectors = False

    def extract_all(
        self, docs: Sequence[Doc], sentence_vectors: Sequence[SentenceVectors] | None = None
    ) -> list[Entities]:
        return [self.extract(doc) for doc in docs]

    def extract(self, doc: Doc) -> Entities:
        text = doc.text
        producers: dict[str, ProducerMention] = {}
        buyers: dict[str, BuyerMention] = {}
        locations: dict[str, LocationMention] = {}
        commodities: dict[str, CommodityMention] = {}
        taken: list[tuple[int, int]] = []

        for _match_id, start, end in sorted(self.producer_matcher(doc), key=lambda m: (m[1], -(m[2] - m[1]))):
            span = doc[start:end]
            if any(s <= span.start_char < e for s, e in taken):
                continue
            taken.append((span.start_char, span.end_char))
            self._add_producer(producers, span.text, span.start_char, span.end_char, 0.9)

        for ent in doc.ents:
            if any(s <= ent.start_char < e or s < ent.end_char <= e for s, e in taken):
                continue
            if ent.label_ == "ORG":
                surface = ent.text.strip()
                if _NOT_PRODUCER.search(surface) or len(surface) < 3:
                    continue
                before = text[max(0, ent.start_char - 60) : ent.start_char]
                if _BUYER_CUE.search(before):
                    buyers.setdefault(
                        surface, BuyerMention(text=surface, start=ent.start_char, end=ent.end_char)
                    )
                else:
                    self._add_producer(producers, surface, ent.start_char, ent.end_char, 0.55)
            elif ent.label_ in ("GPE", "LOC"):
                surface = ent.text.strip()
                if surface.casefold().removeprefix("the ") in _MARKET_NAMES:
                    continue
                before = text[max(0, ent.start_char - 40) : ent.start_char]
                if _ORIGIN_CUE.search(before):
                    continue
                if surface not in locations:
                    locations[surface] = self.normalizer.location(surface, ent.start_char, ent.end_char)

        for _match_id, start, end in self.commodity_matcher(doc):
            span = doc[start:end]
            surface = span.text
            if surface.casefold() in (c.casefold() for c in commodities):
                continue
            if any(
                c.start <= span.start_char and span.end_char <= c.end and c.text != surface
                for c in commodities.values()
            ):
                continue
            commodities[surface] = self.normalizer.commodity(surface, span.start_char, span.end_char)
        # Drop commodity mentions contained in a longer one ("oil" inside "palm oil").
        kept = [
            c
            for c in commodities.values()
            if not any(o is not c and o.start <= c.start and c.end <= o.end for o in commodities.values())
        ]
        return Entities(
            producers=list(producers.values()),
            commodities=sorted(kept, key=lambda c: c.start),
            locations=list(locations.values()),
            buyers=list(buyers.values()),
        )

    def _add_producer(
        self, producers: dict[str, ProducerMention], surface: str, start: int, end: int, score: float
    ) -> None:
        if surface not in producers:
            producers[surface] = self.normalizer.producer(surface, start, end, score)
