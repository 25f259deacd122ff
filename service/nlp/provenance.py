"""Where evidence came from: text read by OCR carries the confidence of its page.

A sentence OCR read at 60% confidence may say "debts" where the page said "debris"; an investigator weighing the
evidence needs to see that, so every piece of evidence that overlaps an OCR-read page carries the lowest
confidence of the pages it touches.
"""

from __future__ import annotations

from collections.abc import Sequence

from service.contract import Evidence, IndicatorResult, NexusEvidence, OcrPageInfo, UsNexus
from service.ingest.ocr import OcrPage


def page_info(pages: Sequence[OcrPage]) -> list[OcrPageInfo]:
    return [OcrPageInfo(page=p.page, start=p.start, end=p.end, confidence=p.confidence) for p in pages]


def confidence_of(start: int, end: int, pages: Sequence[OcrPage]) -> float | None:
    touched = [p.confidence for p in pages if p.start < end and start < p.end]
    return min(touched) if touched else None


def _mark(items: list[Evidence], pages: Sequence[OcrPage]) -> list[Evidence]:
    return [e.model_copy(update={"ocr_confidence": confidence_of(e.start, e.end, pages)}) for e in items]


def mark_ocr(
    indicators: list[IndicatorResult], nexus: UsNexus, pages: Sequence[OcrPage]
) -> tuple[list[IndicatorResult], UsNexus]:
    if not pages:
        return indicators, nexus
    marked = [
        i.model_copy(update={"evidence": _mark(i.evidence, pages), "discounted": _mark(i.discounted, pages)})
        for i in indicators
    ]
    nexus_evidence: list[NexusEvidence] = [
        e.model_copy(update={"ocr_confidence": confidence_of(e.start, e.end, pages)}) for e in nexus.evidence
    ]
    return marked, nexus.model_copy(update={"evidence": nexus_evidence})
