"""Processing jobs, the same for the in-process worker and for Celery workers.

The database is the source of truth and a job message is only a wake-up call: a job claims its document with
an atomic status change (so duplicate or redelivered messages are no-ops, which makes jobs idempotent by
content hash, since one content is one document), writes its result only while it still holds the claim, and
gives the document back on a transient failure. Claims carry the worker's identity, so a worker that starts
after a crash on the same host takes back at once what a dead process held; claims of workers elsewhere
expire after a lease. Sweeping resends jobs for queued documents whose message may have been lost.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, stop_after_delay, wait_exponential

from service.batches import resume_batches
from service.config import Settings
from service.documents import (
    ClaimLostError,
    claim_document,
    due_for_enqueue,
    mark_enqueued,
    process_document,
    processing_claimants,
    release_claim,
    requeue_stale,
)
from service.nlp.pipeline import Pipeline
from service.nlp.similarity import DocumentEmbedder

log = logging.getLogger(__name__)


class TransientJobError(RuntimeError):
    """The job could not finish for a reason that may pass (database restarting, lock, a race on a new
    case key); the document is back in the queue and the job should be retried after a pause."""


class JobOutcome(StrEnum):
    PROCESSED = "processed"
    SKIPPED = "skipped"  # someone else holds or finished the document: a duplicate message
    CLAIM_LOST = "claim_lost"


def worker_identity() -> str:
    """host:pid:nonce. The nonce tells a restarted process that reused a pid from the dead one."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def is_dead_local_claimant(claimant: str, me: str) -> bool:
    """A claim made on this host by a process that no longer runs (or by an earlier life of a reused pid)."""
    parts = claimant.split(":")
    if len(parts) != 3 or parts[0] != socket.gethostname() or claimant == me:
        return False
    try:
        pid = int(parts[1])
    except ValueError:
        return False
    if pid == os.getpid():
        return True  # our pid, another nonce: an earlier life of this process number
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass
class JobContext:
    """What a worker loads once at start and every job uses."""

    engine: Engine
    pipeline: Pipeline
    settings: Settings
    embedder: DocumentEmbedder | None = None
    worker: str = field(default_factory=worker_identity)

    @classmethod
    def load(cls, engine: Engine, settings: Settings, pipeline: Pipeline | None = None) -> JobContext:
        pipeline = pipeline or Pipeline.load(settings)
        embedder = None
        if settings.cases_enabled and settings.document_embeddings:
            embedder = DocumentEmbedder.load(settings.torch_threads, encoder=pipeline.encoder)
        return cls(engine=engine, pipeline=pipeline, settings=settings, embedder=embedder)


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, (OperationalError, IntegrityError)):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def run_document_job(context: JobContext, document_id: str) -> JobOutcome:
    """Claim, analyse and store one document; exactly once however often its message is delivered."""
    if not claim_document(context.engine, document_id, context.worker):
        return JobOutcome.SKIPPED
    try:
        process_document(
            context.engine,
            context.pipeline,
            context.settings,
            document_id,
            worker=context.worker,
            embedder=context.embedder,
        )
    except ClaimLostError:
        log.warning("claim on %s expired while processing; the result was dropped", document_id)
        return JobOutcome.CLAIM_LOST
    except Exception as exc:
        if not _transient(exc):
            raise
        try:
            # The moment that broke the write (a lock, a restart) usually passes within seconds.
            Retrying(
                retry=retry_if_exception_type(OperationalError),
                stop=stop_after_delay(10),
                wait=wait_exponential(multiplier=0.1, max=2),
                reraise=True,
            )(release_claim, context.engine, document_id, context.worker)
        except Exception:  # the database is still away; the lease will expire instead
            log.exception("could not release %s", document_id)
        raise TransientJobError(f"{document_id}: {exc.__class__.__name__}") from exc
    return JobOutcome.PROCESSED


def run_with_retries(context: JobContext, document_id: str) -> JobOutcome:
    """The in-process worker's retry policy (Celery workers use Celery's own, with the same limits)."""
    retrying = Retrying(
        retry=retry_if_exception_type(TransientJobError),
        stop=stop_after_attempt(context.settings.job_max_retries + 1),
        wait=wait_exponential(multiplier=0.5, max=30),
        reraise=True,
    )
    return retrying(run_document_job, context, document_id)


def recover_abandoned(engine: Engine, settings: Settings, me: str) -> int:
    """Requeue documents held by dead workers on this host, and any claim older than the lease."""
    dead = [c for c in processing_claimants(engine) if is_dead_local_claimant(c, me)]
    count = requeue_stale(engine, timedelta(seconds=settings.job_lease_seconds), abandoned_by=dead)
    if count:
        log.warning("requeued %d documents abandoned by dead or expired workers", count)
    return count


def sweep(
    engine: Engine, settings: Settings, me: str, send: Callable[[Sequence[str]], None] | None = None
) -> list[str]:
    """One round of housekeeping: recover abandoned claims, finish unpacking interrupted batches, and (for
    message-driven workers) resend jobs for queued documents whose message may be lost."""
    recover_abandoned(engine, settings, me)
    resume_batches(engine, settings)
    if send is None:
        return []
    due = due_for_enqueue(engine, timedelta(seconds=settings.job_redelivery_seconds))
    if due:
        send(due)
        mark_enqueued(engine, due)
    return due
