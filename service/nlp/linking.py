"""Link producer mentions to CBP orders and the UFLPA Entity List.

An existing order is the first thing an investigator needs to know about a producer, and documents spell names
loosely (no legal suffix, typos, transliterations), so matching is fuzzy over canonical names.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process

from service.contract import KnownOrder
from service.nlp.reference import KnownOrderFact, ReferenceData, canonical_name

MATCH_THRESHOLD = 88.0


@dataclass
class OrderLinker:
    """Fuzzy index of every name and alias on the order lists."""

    keys: list[str]
    facts: list[KnownOrderFact]

    @classmethod
    def build(cls, reference: ReferenceData) -> OrderLinker:
        keys: list[str] = []
        facts: list[KnownOrderFact] = []
        for order in reference.orders:
            if order.region_wide:
                continue
            for name in order.names:
                key = canonical_name(name)
                if len(key) >= 4:
                    keys.append(key)
                    facts.append(order)
        return cls(keys, facts)

    def link(self, mention: str) -> list[KnownOrder]:
        key = canonical_name(mention)
        if len(key) < 4:
            return []
        hits = process.extract(
            key, self.keys, scorer=fuzz.token_sort_ratio, limit=8, score_cutoff=MATCH_THRESHOLD
        )
        seen: set[str] = set()
        out: list[KnownOrder] = []
        for _key, _score, index in hits:
            fact = self.facts[index]
            if fact.id in seen:
                continue
            seen.add(fact.id)
            out.append(
                KnownOrder(id=fact.id, type=fact.type, status=fact.status, date=fact.date, entity=fact.entity)
            )
        return out
