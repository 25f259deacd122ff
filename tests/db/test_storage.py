"""Storage behaviour, run on SQLite and again on a real PostgreSQL server."""

from __future__ import annotations

from service.config import Settings
from service.db.engine import make_engine, upgrade_database
from service.db.models import DocumentStatus, SourceType
from service.documents import (
    SubmissionMeta,
    audit_trail,
    claim_document,
    get_document,
    get_submissions,
    latest_analysis,
    next_queued,
    process_document,
    requeue_stale,
    retry_document,
    submit_document,
)
from service.nlp.pipeline import Pipeline
from tests.ingest.samples import REPORT_TEXT, pdf_bytes
from tests.threads import run_at_once


def _engine(url: str):  # type: ignore[no-untyped-def]
    upgrade_database(url)
    upgrade_database(url)  # idempotent
    return make_engine(url)


def test_content_addressed_and_resubmission(database_url: str) -> None:
    engine = _engine(database_url)
    first = submit_document(
        engine,
        b"report body " * 10,
        SubmissionMeta(filename="a.txt", source_type=SourceType.NGO_REPORT, submitter_ref="ngo-1"),
    )
    again = submit_document(
        engine,
        b"report body " * 10,
        SubmissionMeta(filename="b.txt", source_type=SourceType.NEWS, source_url="https://example.org/x"),
    )
    assert first.created and not again.created
    assert first.document.id == again.document.id
    subs = get_submissions(engine, first.document.id)
    assert [s.filename for s in subs] == ["a.txt", "b.txt"]
    assert subs[1].source_url == "https://example.org/x"
    assert [e.action for e in audit_trail(engine, first.document.id)] == ["submitted", "resubmitted"]
    engine.dispose()


def test_process_stores_text_and_analysis_with_versions(database_url: str, pipeline: Pipeline) -> None:
    engine = _engine(database_url)
    doc = submit_document(engine, pdf_bytes([REPORT_TEXT]), SubmissionMeta(filename="r.pdf")).document
    assert claim_document(engine, doc.id)
    assert not claim_document(engine, doc.id), "a claimed document cannot be claimed twice"
    done = process_document(engine, pipeline, Settings(database_url=database_url), doc.id)
    assert done.status == DocumentStatus.DONE.value
    assert "kept their passports" in (get_document(engine, doc.id).text or "")
    record = latest_analysis(engine, doc.id)
    assert record is not None
    assert record.model_versions["entities"].startswith("rules+core_web_sm")
    assert record.result["id"] == doc.id
    assert len(record.result["indicators"]) == 11
    engine.dispose()


def test_failure_is_kept_visible_and_retryable(database_url: str, pipeline: Pipeline) -> None:
    engine = _engine(database_url)
    data = pdf_bytes([REPORT_TEXT])[:300]
    doc = submit_document(engine, data, SubmissionMeta(filename="broken.pdf")).document
    assert claim_document(engine, doc.id)
    failed = process_document(engine, pipeline, Settings(database_url=database_url), doc.id)
    assert failed.status == DocumentStatus.FAILED.value
    assert failed.failure_code == "corrupt_file"
    retried = retry_document(engine, doc.id)
    assert retried.status == DocumentStatus.QUEUED.value
    assert doc.id in next_queued(engine)
    actions = [e.action for e in audit_trail(engine, doc.id)]
    assert actions == ["submitted", "failed", "retry_requested"]
    engine.dispose()


def test_concurrent_claims_give_one_winner(database_url: str) -> None:
    engine = _engine(database_url)
    doc = submit_document(engine, b"one document claimed by many workers", SubmissionMeta()).document
    wins: list[bool] = []
    assert run_at_once(lambda: wins.append(claim_document(engine, doc.id)), 6, timeout=60) == []
    assert sorted(wins) == [False] * 5 + [True]
    engine.dispose()


def test_the_same_bytes_submitted_at_once_make_one_document(database_url: str) -> None:
    """Two uploads of one file racing on the content-hash keys: both succeed, as two submissions of one
    document (the loser's insert fails on the unique key and is retried against the winner's rows)."""
    engine = _engine(database_url)
    content = b"one report, sent twice at the same moment " * 20
    results: list[str] = []

    def submit() -> None:
        results.append(submit_document(engine, content, SubmissionMeta(filename="same.txt")).document.id)

    assert run_at_once(submit, 8, timeout=60) == []
    assert len(results) == 8 and len(set(results)) == 1
    assert len(get_submissions(engine, results[0])) == 8
    engine.dispose()


def test_stale_processing_is_requeued(database_url: str) -> None:
    from datetime import timedelta

    engine = _engine(database_url)
    doc = submit_document(engine, b"a worker died while processing this", SubmissionMeta()).document
    assert claim_document(engine, doc.id)
    assert requeue_stale(engine, timedelta(hours=1)) == 0
    assert requeue_stale(engine, timedelta(0)) == 1
    assert get_document(engine, doc.id).status == DocumentStatus.QUEUED.value
    engine.dispose()
