"""Shipment records as structured evidence: US nexus from consignee, importer, port and tariff code, and the
producer and commodity from the shipper and product columns.

A bill of lading naming a US consignee is better nexus evidence than any sentence saying goods "reach American
consumers", and it says so in a known column, so these rows are judged by their columns rather than by the
sentence patterns used for prose.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from service.contract import BuyerMention, Entities, NexusEvidence, UsNexus
from service.ingest.tables import ShipmentRow
from service.nlp.normalize import EntityNormalizer

_STATES = (
    "Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia|Hawaii|Idaho|"
    "Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts|Michigan|Minnesota|"
    "Mississippi|Missouri|Montana|Nebraska|Nevada|New Hampshire|New Jersey|New Mexico|New York|North Carolina|"
    "North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|Rhode Island|South Carolina|South Dakota|Tennessee|Texas|"
    "Utah|Vermont|Virginia|Washington|West Virginia|Wisconsin|Wyoming|Puerto Rico"
)
_STATE_CODES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|"
    "OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC|PR"
)
US_PLACE = re.compile(
    rf"\b(USA|U\.S\.A?\.?|US|United States( of America)?|{_STATES})\b|\b({_STATE_CODES})\s+\d{{5}}(-\d{{4}})?\b"
)
# HTSUS codes have ten digits (heading.subheading.statistical suffix); six-digit HS codes are international.
_HTSUS = re.compile(r"^\d{4}\.?\d{2}\.?\d{2}\.?\d{2}$")

# How strongly each column, when it points to the United States, shows that the goods reach it.
US_PARTY = 0.85
US_PORT = 0.8
UNLADING_PORT = 0.6
HTSUS_CODE = 0.5
_PARTIES = ("consignee", "importer")
_MAX_EVIDENCE = 3


def _row_score(row: ShipmentRow) -> float:
    weights: list[float] = []
    if any(US_PLACE.search(row.fields.get(role, "")) for role in _PARTIES):
        weights.append(US_PARTY)
    port = row.fields.get("port_of_unlading", "")
    if US_PLACE.search(port):
        weights.append(US_PORT)
    elif port:
        # "Port of unlading" is a US customs term: the US port where the goods came off the vessel.
        weights.append(UNLADING_PORT)
    if _HTSUS.match(row.fields.get("hts_code", "").strip()):
        weights.append(HTSUS_CODE)
    miss = 1.0
    for weight in weights:
        miss *= 1.0 - weight
    return 1.0 - miss


def shipment_nexus(rows: Sequence[ShipmentRow], text: str) -> list[NexusEvidence]:
    """One piece of evidence per distinct trade lane (same parties, port and goods), strongest first."""
    seen: set[tuple[str, ...]] = set()
    evidence: list[NexusEvidence] = []
    for row in rows:
        score = _row_score(row)
        if score <= 0:
            continue
        lane = tuple(
            row.fields.get(k, "")
            for k in (
                "consignee",
                "importer",
                "shipper",
                "port_of_unlading",
                "hts_code",
                "product_description",
            )
        )
        if lane in seen:
            continue
        seen.add(lane)
        evidence.append(
            NexusEvidence(
                start=row.start,
                end=row.end,
                text=text[row.start : row.end],
                score=round(score, 4),
                source="shipment_record",
                fields=dict(row.fields),
            )
        )
    evidence.sort(key=lambda e: -e.score)
    return evidence


def merge_nexus(nexus: UsNexus, records: Sequence[NexusEvidence]) -> UsNexus:
    """The text's nexus and the shipment records' combined as independent signals (noisy-or); the records
    come first in the evidence because they are the stronger kind."""
    if not records:
        return nexus
    miss = 1.0 - nexus.score
    for item in records:
        miss *= 1.0 - item.score
    score = round(1.0 - miss, 4)
    evidence = [*records[:_MAX_EVIDENCE], *nexus.evidence][:5]
    return UsNexus(present=score >= 0.5, score=score, evidence=evidence)


def shipment_entities(
    entities: Entities, rows: Sequence[ShipmentRow], text: str, normalizer: EntityNormalizer
) -> Entities:
    """Add the shipper as a producer (linked to known orders), consignees and importers as buyers, and the
    product and tariff columns as commodities; drop 'producers' that are really the consignee's name."""
    if not rows:
        return entities
    # Inside a row the columns say what each cell is: a name is a producer only in the shipper column and goods
    # only in the product column; NER's guesses elsewhere in a row (labels, consignees, ports) are dropped.
    row_spans = [(row.start, row.end) for row in rows]
    shipper_spans = [row.spans["shipper"] for row in rows if "shipper" in row.spans]
    product_spans = [row.spans["product_description"] for row in rows if "product_description" in row.spans]

    def keep(start: int, end: int, allowed: list[tuple[int, int]]) -> bool:
        in_row = any(s <= start < e for s, e in row_spans)
        return not in_row or any(s <= start and end <= e for s, e in allowed)

    producers = [p for p in entities.producers if keep(p.start, p.end, shipper_spans)]
    commodities = [c for c in entities.commodities if keep(c.start, c.end, product_spans)]
    buyers = list(entities.buyers)
    for row in rows:
        if "shipper" in row.spans:
            start, end = row.spans["shipper"]
            surface = text[start:end]
            if not any(p.text.casefold() == surface.casefold() for p in producers):
                producers.append(normalizer.producer(surface, start, end, 0.8))
        for role in _PARTIES:
            if role in row.spans:
                start, end = row.spans[role]
                surface = text[start:end]
                if not any(b.text.casefold() == surface.casefold() for b in buyers):
                    buyers.append(BuyerMention(text=surface, start=start, end=end))
        known = {c.normalized for c in commodities if c.normalized}
        if "product_description" in row.spans:
            start, end = row.spans["product_description"]
            mention = normalizer.commodity(text[start:end], start, end)
            if mention.normalized and mention.normalized not in known:
                commodities.append(mention)
                known.add(mention.normalized)
        if "hts_code" in row.spans:
            start, end = row.spans["hts_code"]
            heading = re.sub(r"\D", "", text[start:end])[:4]
            matches = [c for c in normalizer.reference.commodities.values() if heading and heading in c.hts]
            if len(matches) == 1 and matches[0].id not in known:
                commodities.append(
                    normalizer.commodity(matches[0].name, start, end).model_copy(
                        update={"text": text[start:end]}
                    )
                )
    return entities.model_copy(
        update={
            "producers": producers,
            "buyers": buyers,
            "commodities": sorted(commodities, key=lambda c: c.start),
        }
    )
