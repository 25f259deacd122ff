"""Jobs: idempotent by content, results only under the claim, dead workers' claims taken back."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from sqlmodel import Session, func, select

from service.config import Settings
from service.db.engine import make_engine, upgrade_database
from service.db.models import AnalysisRecord, DocumentStatus
from service.documents import (
    SubmissionMeta,
    claim_document,
    due_for_enqueue,
    get_document,
    mark_enqueued,
    requeue_stale,
    submit_document,
)
from service.jobs import (
    JobContext,
    JobOutcome,
    is_dead_local_claimant,
    recover_abandoned,
    run_document_job,
    run_with_retries,
    sweep,
)
from service.nlp.pipeline import Pipeline
from tests.ingest.samples import REPORT_TEXT


def _context(url: str, pipeline: Pipeline) -> JobContext:
    upgrade_database(url)
    settings = Settings(database_url=url, document_embeddings=False)
    return JobContext(engine=make_engine(url), pipeline=pipeline, settings=settings)


def _analyses(context: JobContext, document_id: str) -> int:
    with Session(context.engine) as session:
        return int(
            session.exec(
                select(func.count())
                .select_from(AnalysisRecord)
                .where(AnalysisRecord.document_id == document_id)
            ).one()
        )


def test_duplicate_messages_and_resubmissions_analyse_once(database_url: str, pipeline: Pipeline) -> None:
    context = _context(database_url, pipeline)
    first = submit_document(context.engine, REPORT_TEXT.encode(), SubmissionMeta()).document
    again = submit_document(context.engine, REPORT_TEXT.encode(), SubmissionMeta()).document
    assert first.id == again.id, "one content is one document"
    assert run_document_job(context, first.id) is JobOutcome.PROCESSED
    assert run_document_job(context, first.id) is JobOutcome.SKIPPED
    assert get_document(context.engine, first.id).status == DocumentStatus.DONE.value
    assert _analyses(context, first.id) == 1
    context.engine.dispose()


def test_result_of_a_worker_that_lost_its_claim_is_dropped(database_url: str, pipeline: Pipeline) -> None:
    context = _context(database_url, pipeline)
    document = submit_document(context.engine, REPORT_TEXT.encode(), SubmissionMeta()).document
    assert claim_document(context.engine, document.id, "slow-worker")
    # The lease expires and another worker takes the document over and finishes it.
    assert requeue_stale(context.engine, timedelta(0)) == 1
    assert run_document_job(context, document.id) is JobOutcome.PROCESSED
    from service.documents import ClaimLostError, process_document

    try:
        process_document(context.engine, pipeline, context.settings, document.id, worker="slow-worker")
    except ClaimLostError:
        pass
    else:
        raise AssertionError("the slow worker must not store a second analysis")
    assert _analyses(context, document.id) == 1
    context.engine.dispose()


def test_claims_of_dead_local_workers_are_taken_back_at_once(tmp_path: object, pipeline: Pipeline) -> None:
    context = _context(f"sqlite:///{tmp_path}/jobs.db", pipeline)
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead = f"{context.worker.split(':')[0]}:{finished.stdout.strip()}:deadbeef"
    alive_elsewhere = "some-other-host:1:cafe0000"
    assert is_dead_local_claimant(dead, context.worker)
    assert not is_dead_local_claimant(alive_elsewhere, context.worker)
    assert not is_dead_local_claimant(context.worker, context.worker)

    ids = [
        submit_document(context.engine, f"{REPORT_TEXT} {i}".encode(), SubmissionMeta()).document.id
        for i in range(2)
    ]
    assert claim_document(context.engine, ids[0], dead)
    assert claim_document(context.engine, ids[1], alive_elsewhere)
    assert recover_abandoned(context.engine, context.settings, context.worker) == 1
    assert get_document(context.engine, ids[0]).status == DocumentStatus.QUEUED.value
    assert get_document(context.engine, ids[1]).status == DocumentStatus.PROCESSING.value, "lease not over"
    context.engine.dispose()


def test_sweep_resends_jobs_whose_message_may_be_lost(tmp_path: object, pipeline: Pipeline) -> None:
    context = _context(f"sqlite:///{tmp_path}/sweep.db", pipeline)
    document = submit_document(context.engine, REPORT_TEXT.encode(), SubmissionMeta()).document
    sent: list[str] = []
    assert sweep(context.engine, context.settings, context.worker, send=sent.extend) == [document.id]
    assert sent == [document.id]
    assert due_for_enqueue(context.engine, timedelta(seconds=60)) == [], "just sent: not due again yet"
    mark_enqueued(context.engine, [document.id])
    assert due_for_enqueue(context.engine, timedelta(0)) == [document.id]
    context.engine.dispose()


def test_transient_database_failure_gives_the_document_back_and_retries(
    tmp_path: object, pipeline: Pipeline
) -> None:
    """A write that meets a locked database (another process holding it) is retried, not lost or failed."""
    import sqlite3
    import threading

    from sqlmodel import create_engine

    path = f"{tmp_path}/locked.db"
    url = f"sqlite:///{path}"
    upgrade_database(url)
    impatient = create_engine(url, connect_args={"timeout": 0.2, "check_same_thread": False})
    settings = Settings(database_url=url, document_embeddings=False, job_max_retries=3)
    context = JobContext(engine=impatient, pipeline=pipeline, settings=settings)
    document = submit_document(impatient, REPORT_TEXT.encode(), SubmissionMeta()).document

    holder = sqlite3.connect(path, check_same_thread=False)
    original = context.pipeline.analyze

    def analyze_then_lock(*args: object, **kwargs: object) -> object:
        result = original(*args, **kwargs)  # type: ignore[arg-type]
        if not locked.is_set():  # the first attempt's write meets a database locked for 0.8 s
            holder.execute("BEGIN EXCLUSIVE")
            locked.set()
            threading.Timer(0.8, holder.rollback).start()
        return result

    locked = threading.Event()
    context.pipeline = type(pipeline)(**{**pipeline.__dict__})
    vars(context.pipeline)["analyze"] = analyze_then_lock  # the instance's analyze, wrapped
    outcome = run_with_retries(context, document.id)
    assert locked.is_set(), "the first attempt met the lock"
    assert outcome is JobOutcome.PROCESSED
    assert get_document(impatient, document.id).status == DocumentStatus.DONE.value
    assert get_document(impatient, document.id).attempts == 2
    assert _analyses(context, document.id) == 1
    holder.close()
    impatient.dispose()
