"""Review-queue domain functions on SQLite and again on a real PostgreSQL server."""

from __future__ import annotations

import pytest

from service.config import Settings
from service.db.engine import make_engine, upgrade_database
from service.documents import (
    SubmissionMeta,
    analysis_of,
    claim_document,
    get_document,
    latest_analysis,
    process_document,
    submit_document,
)
from service.ingest.ocr import OcrSettings
from service.nlp.pipeline import Pipeline
from service.review import ClaimConflictError, QueueFilter, agreement, claim, decide, queue
from tests.ingest.samples import SCAN_TEXT, image_bytes, text_image

TEXTS = [
    "Crew of the Hai Feng 18 longliner said the captain kept their passports and beat them; the tuna goes to a US "
    "importer.",
    "A short note about tariffs on steel pipe imports.",
]


def test_queue_claims_and_decisions(database_url: str, pipeline: Pipeline) -> None:
    upgrade_database(database_url)
    engine = make_engine(database_url)
    ids = []
    for text in TEXTS:
        doc = submit_document(engine, text.encode(), SubmissionMeta()).document
        assert claim_document(engine, doc.id)
        process_document(engine, pipeline, Settings(database_url=database_url), doc.id)
        ids.append(doc.id)
    ordered = [d.id for d in queue(engine, QueueFilter(), "priority", 10, 0)]
    assert ordered == ids
    assert [
        d.id
        for d in queue(engine, QueueFilter(indicator="retention_of_identity_documents"), "priority", 10, 0)
    ] == ids[:1]
    claim(engine, ids[0], "alice")
    with pytest.raises(ClaimConflictError):
        claim(engine, ids[0], "bob")
    assert [d.id for d in queue(engine, QueueFilter(), "priority", 10, 0)] == ids[1:]
    decide(engine, ids[0], "alice", "confirm")
    decide(engine, ids[0], "bob", "correct", tier="conclusive")
    result = agreement(engine)
    assert result.documents == 1 and result.tier_agreement in (0.0, 1.0)
    engine.dispose()


def test_language_is_stored_and_filters_the_queue(
    database_url: str, pipeline: Pipeline, tesseract: OcrSettings
) -> None:
    upgrade_database(database_url)
    engine = make_engine(database_url)
    spanish = (
        "Los trabajadores de la fábrica dijeron que el supervisor guardaba sus pasaportes y que las deudas se "
        "llevaban la mayor parte de su salario."
    )
    scan = image_bytes(text_image(SCAN_TEXT), "PNG")
    ids = {}
    for name, content in (("es", spanish.encode()), ("scan", scan)):
        doc = submit_document(engine, content, SubmissionMeta(filename=f"{name}.bin")).document
        assert claim_document(engine, doc.id)
        process_document(engine, pipeline, Settings(database_url=database_url), doc.id)
        ids[name] = doc.id
    assert get_document(engine, ids["es"]).language == "es"
    assert get_document(engine, ids["scan"]).language == "en"
    assert [d.id for d in queue(engine, QueueFilter(language="es"), "priority", 10, 0)] == [ids["es"]]
    assert [d.id for d in queue(engine, QueueFilter(language="en"), "priority", 10, 0)] == [ids["scan"]]
    record = latest_analysis(engine, ids["scan"])
    assert record is not None
    analysis = analysis_of(record)
    assert analysis.ocr_pages and analysis.ocr_pages[0].confidence > 0.8
    evidence = [e for i in analysis.indicators for e in i.evidence]
    assert evidence and all(e.ocr_confidence == analysis.ocr_pages[0].confidence for e in evidence)
    engine.dispose()
