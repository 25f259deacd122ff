"""Document text with entities and indicator evidence marked, built from escaped segments.

Documents are hostile input, so the text is never marked safe: it is cut at every span boundary, each piece is
escaped on its own, and only the <mark> tags written here are markup. Overlapping spans (an entity inside an
evidence sentence) become one element per piece carrying every class and hover text that covers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from markupsafe import Markup, escape

from service.contract import INDICATOR_IDS, Analysis


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    css: str
    title: str


def spans_of(analysis: Analysis, names: dict[str, str]) -> list[Span]:
    spans: list[Span] = []
    for result in analysis.indicators:
        colour = f"ind-{INDICATOR_IDS.index(result.id)}" if result.id in INDICATOR_IDS else "ind-x"
        name = names.get(result.id, result.id)
        for evidence in result.evidence:
            title = f"{name}: score {evidence.score:.2f}, {evidence.status}"
            spans.append(Span(evidence.start, evidence.end, f"ev {colour}", title))
        for evidence in result.discounted:
            title = f"{name}: score {evidence.score:.2f}, {evidence.status} (does not count)"
            spans.append(Span(evidence.start, evidence.end, "ev discounted", title))
    for nexus in analysis.us_nexus.evidence:
        spans.append(Span(nexus.start, nexus.end, "nexus", f"US nexus: score {nexus.score:.2f}"))
    entities = analysis.entities
    for producer in entities.producers:
        orders = f", {len(producer.known_orders)} known order(s)" if producer.known_orders else ""
        spans.append(
            Span(producer.start, producer.end, "ent ent-producer", f"producer: {producer.normalized}{orders}")
        )
    for commodity in entities.commodities:
        label = commodity.normalized or commodity.text
        spans.append(Span(commodity.start, commodity.end, "ent ent-commodity", f"commodity: {label}"))
    for location in entities.locations:
        label = location.country or location.text
        spans.append(Span(location.start, location.end, "ent ent-location", f"location: {label}"))
    for buyer in entities.buyers:
        spans.append(Span(buyer.start, buyer.end, "ent ent-buyer", "buyer"))
    return spans


def highlight(text: str, spans: list[Span]) -> Markup:
    """The whole text, escaped, with a <mark> around each piece covered by one or more spans."""
    valid = [s for s in spans if 0 <= s.start < s.end <= len(text)]
    cuts = sorted({0, len(text), *(s.start for s in valid), *(s.end for s in valid)})
    out: list[str] = []
    for left, right in pairwise(cuts):
        piece = escape(text[left:right])
        covering = [s for s in valid if s.start <= left and right <= s.end]
        if not covering:
            out.append(str(piece))
            continue
        classes = " ".join(dict.fromkeys(c for s in covering for c in s.css.split()))
        title = " | ".join(dict.fromkeys(s.title for s in covering))
        out.append(f'<mark class="{escape(classes)}" title="{escape(title)}">{piece}</mark>')
    return Markup("".join(out))
