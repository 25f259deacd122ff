"""Normalisation shared by every entity extractor: producer names linked to orders, commodity ids with HTS
headings and DOL listings, places with ISO country codes and regions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from service.contract import CommodityMention, LocationMention, ProducerMention
from service.nlp.linking import OrderLinker
from service.nlp.reference import ReferenceData, canonical_name


def plural_variants(surface: str) -> set[str]:
    variants = {surface}
    if not surface.endswith("s"):
        variants.add(surface + "s")
        if surface.endswith("y"):
            variants.add(surface[:-1] + "ies")
    return variants


@dataclass
class EntityNormalizer:
    """Turns surface spans into contract mentions with normalised, linked facts."""

    reference: ReferenceData
    linker: OrderLinker
    commodity_by_surface: dict[str, str]

    @classmethod
    def build(cls, reference: ReferenceData) -> EntityNormalizer:
        by_surface: dict[str, str] = {}
        for fact in reference.commodities.values():
            for surface in fact.surfaces:
                for variant in plural_variants(surface.casefold()):
                    by_surface.setdefault(variant, fact.id)
        return cls(reference, OrderLinker.build(reference), by_surface)

    def commodity_id(self, surface: str) -> str | None:
        """The longest known commodity name inside the mention ('frozen whiteleg shrimp' -> shrimp)."""
        key = surface.casefold()
        if key in self.commodity_by_surface:
            return self.commodity_by_surface[key]
        words = re.findall(r"[\w'-]+", key)
        for size in range(len(words), 0, -1):
            for start in range(len(words) - size + 1):
                phrase = " ".join(words[start : start + size])
                if phrase in self.commodity_by_surface:
                    return self.commodity_by_surface[phrase]
        return None

    def producer(self, surface: str, start: int, end: int, score: float) -> ProducerMention:
        orders = self.linker.link(surface)
        return ProducerMention(
            text=surface,
            start=start,
            end=end,
            normalized=canonical_name(surface),
            score=round(max(score, 0.9) if orders else score, 4),
            known_orders=orders,
        )

    def commodity(self, surface: str, start: int, end: int) -> CommodityMention:
        commodity_id = self.commodity_id(surface)
        fact = self.reference.commodities.get(commodity_id) if commodity_id else None
        return CommodityMention(
            text=surface,
            start=start,
            end=end,
            normalized=commodity_id,
            hts=list(fact.hts) if fact else [],
            parent=fact.parent if fact else None,
            dol_listed_countries=sorted(self.reference.dol_countries.get(commodity_id or "", set())),
        )

    def location(self, surface: str, start: int, end: int) -> LocationMention:
        country, region = self.reference.country_code(surface)
        return LocationMention(text=surface, start=start, end=end, country=country, region=region)
