"""Link producer mentions to CBP orders and the UFLPA Entity List.

An existing order is the first thing an investigator needs to know about a producer, and documents spell names
loosely (no legal suffix, typos, transliterations), so matching is fuzzy over canonical names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from service.contract import KnownOrder
from service.nlp.reference import KnownOrderFact, ReferenceData, canonical_name

MATCH_THRESHOLD = 88.0


MIN_FUZZY_LENGTH = 4


@dataclass
class OrderLinker:
    """Fuzzy index of every name and alias on the order lists; names too short to match fuzzily ("FGV",
    "YTY") are matched exactly, since one changed letter of a three-letter name is another company."""

    keys: list[str]
    facts: list[KnownOrderFact]
    short_keys: dict[str, list[KnownOrderFact]]

    @classmethod
    def build(cls, reference: ReferenceData) -> OrderLinker:
        keys: list[str] = []
        facts: list[KnownOrderFact] = []
        short_keys: dict[str, list[KnownOrderFact]] = {}
        for order in reference.orders:
            if order.region_wide:
                continue
            for name in order.names:
                key = canonical_name(name)
                if len(key) >= MIN_FUZZY_LENGTH:
                    keys.append(key)
                    facts.append(order)
                elif len(key) >= 2:
                    short_keys.setdefault(key, []).append(order)
        return cls(keys, facts, short_keys)

    def link(self, mention: str) -> list[KnownOrder]:
        key = canonical_name(mention)
        if len(key) < MIN_FUZZY_LENGTH:
            return _known(self.short_keys.get(key, []))
        hits = process.extract(
            key, self.keys, scorer=fuzz.token_sort_ratio, limit=8, score_cutoff=MATCH_THRESHOLD
        )
        return _known(self.facts[index] for _key, _score, index in hits)


def _known(facts: Iterable[KnownOrderFact]) -> list[KnownOrder]:
    """Contract records of the orders, each once, best match first."""
    seen: set[str] = set()
    out: list[KnownOrder] = []
    for fact in facts:
        if fact.id in seen:
            continue
        seen.add(fact.id)
        out.append(
            KnownOrder(id=fact.id, type=fact.type, status=fact.status, date=fact.date, entity=fact.entity)
        )
    return out
