"""Workers: the embedded in-process thread, the database-polling process, and what sends jobs to Celery.

The embedded default must need no other server, so the API process itself processes what it accepted. All
workers run the same job (`service.jobs.run_document_job`): a claim, the analysis, a write that lands only
under the claim. A crash at any point leaves documents queued or requeued, never lost or analysed twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from service.documents import next_queued
from service.jobs import JobContext, JobOutcome, TransientJobError, run_with_retries, sweep

log = logging.getLogger(__name__)


def drain_queue(
    context: JobContext,
    stop: threading.Event | None = None,
    on_processed: Callable[[str], None] | None = None,
) -> int:
    """Process queued documents until none is left; returns how many this call processed."""
    processed = 0
    while stop is None or not stop.is_set():
        batch = next_queued(context.engine)
        if not batch:
            return processed
        for document_id in batch:
            try:
                outcome = run_with_retries(context, document_id)
            except TransientJobError:
                log.exception("giving up on %s for now; it stays queued", document_id)
                return processed
            if outcome is JobOutcome.PROCESSED:
                processed += 1
                if on_processed is not None:
                    on_processed(document_id)
    return processed


class JobDispatcher(Protocol):
    """How the API tells workers that documents wait: wake a thread, or send Celery jobs."""

    def submitted(self, document_ids: Sequence[str]) -> None: ...

    def stop(self) -> None: ...


class InProcessWorker:
    """Polls the queue in a daemon thread; `submitted` lets a submission skip the poll delay."""

    def __init__(self, context: JobContext) -> None:
        self._context = context
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="triage-worker", daemon=True)

    def start(self) -> None:
        sweep(self._context.engine, self._context.settings, self._context.worker)
        self._thread.start()

    def submitted(self, document_ids: Sequence[str]) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        context = self._context
        while not self._stop.is_set():
            try:
                drain_queue(context, self._stop)
                sweep(context.engine, context.settings, context.worker)
            except Exception:  # the worker must survive a bad database moment and try again
                log.exception("worker loop error")
            self._wake.wait(context.settings.worker_poll_seconds)
            self._wake.clear()


def poll_forever(context: JobContext, once: bool, report: Callable[[int], None]) -> None:
    """A standalone worker process that polls the shared database (the `none` worker setting's partner)."""
    while True:
        processed = drain_queue(context)
        if processed:
            report(processed)
        if once:
            return
        sweep(context.engine, context.settings, context.worker)
        time.sleep(context.settings.worker_poll_seconds)
