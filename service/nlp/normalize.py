"""Normalisation shared by every entity extractor: producer names linked to orders, commodity ids with HTS
headings and DOL listings, places with ISO country codes and regions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from service.contract import CommodityMention, Entities, LocationMention, ProducerMention
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

    def merge_aliases(self, entities: Entities) -> Entities:
        """Give a document's short forms and acronyms of a producer ("Kenari Agro", "KAH" for "Kenari Agro
        Holdings Bhd") the full name's canonical form and orders, so the reader sees one producer, and an order
        found under the full name is not missed under the short one."""
        full_names = sorted(entities.producers, key=lambda p: -len(p.normalized.split()))
        merged: list[ProducerMention] = []
        for producer in entities.producers:
            parent = next((f for f in full_names if f is not producer and _alias_of(producer, f)), None)
            if parent is None:
                merged.append(producer)
                continue
            merged.append(
                producer.model_copy(
                    update={
                        "normalized": parent.normalized,
                        "known_orders": producer.known_orders or parent.known_orders,
                    }
                )
            )
        return entities.model_copy(update={"producers": merged})

    def location(self, surface: str, start: int, end: int) -> LocationMention:
        country, region = self.reference.country_code(surface)
        return LocationMention(text=surface, start=start, end=end, country=country, region=region)


def _alias_of(short: ProducerMention, full: ProducerMention) -> bool:
    """`short` is an acronym of `full`'s name (with or without its legal form) or the start of it."""
    short_tokens, full_tokens = short.normalized.split(), full.normalized.split()
    if len(full_tokens) <= len(short_tokens):
        return False
    letters = re.sub(r"[^A-Za-z]", "", short.text)
    if short.text.strip(" .").replace(".", "").isupper() and 2 <= len(letters) <= 6:
        every_word = re.findall(r"[A-Za-z0-9]+", full.text)
        initials = {"".join(t[0] for t in full_tokens), "".join(w[0] for w in every_word).lower()}
        return letters.lower() in initials
    return full_tokens[: len(short_tokens)] == short_tokens
