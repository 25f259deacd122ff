"""What the review queue knows about an analysed document: priority, uncertainty and filter tags.

Derived from each new analysis in the same transaction that stores it, so the queue never disagrees with the
latest analysis.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import Session, col

from service.contract import Analysis
from service.db.models import Document, DocumentTag


def priority_of(analysis: Analysis) -> float:
    """0..1: half the WRO-bar score, three tenths the severity of the evidence, a fifth novelty."""
    present = [i for i in analysis.indicators if i.present]
    severity = min(len(present), 6) / 6
    producers = analysis.entities.producers
    novel = 1.0 if producers and not any(p.known_orders for p in producers) else 0.0
    return round(0.5 * analysis.assessment.score + 0.3 * severity + 0.2 * novel, 4)


def uncertainty_of(analysis: Analysis) -> float:
    """1 where the WRO-bar score is 0.5 (the models cannot tell), 0 where it is 0 or 1."""
    return round(1.0 - abs(2.0 * analysis.assessment.score - 1.0), 4)


def record_facets(session: Session, document: Document, analysis: Analysis) -> None:
    """Derive the queue's priority, uncertainty and filter tags from a new analysis (replacing older ones)."""
    document.priority = priority_of(analysis)
    document.uncertainty = uncertainty_of(analysis)
    session.execute(delete(DocumentTag).where(col(DocumentTag.document_id) == document.id))
    tags = {("indicator", i.id) for i in analysis.indicators if i.present}
    tags |= {("commodity", c.normalized or c.text.casefold()[:128]) for c in analysis.entities.commodities}
    tags |= {("country", loc.country) for loc in analysis.entities.locations if loc.country}
    if analysis.language:
        tags.add(("language", analysis.language[:128]))
    for kind, value in sorted(tags):
        session.add(DocumentTag(document_id=document.id, kind=kind, value=value))
