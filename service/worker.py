"""The embedded in-process worker: a thread that drains the queue of submitted documents.

The embedded default must need no other server, so the API process itself processes what it accepted. It uses
the same claim-then-process functions a separate worker process would, so a crash at any point leaves
documents queued or requeued, never lost.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.engine import Engine

from service.config import Settings
from service.documents import claim_document, next_queued, process_document, requeue_stale
from service.nlp.pipeline import Pipeline

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=10)


def drain_queue(
    engine: Engine,
    pipeline: Pipeline,
    settings: Settings,
    stop: threading.Event | None = None,
    on_processed: Callable[[str], None] | None = None,
) -> int:
    """Process queued documents until none is left; returns how many this call processed."""
    processed = 0
    while stop is None or not stop.is_set():
        batch = next_queued(engine)
        if not batch:
            return processed
        for document_id in batch:
            if claim_document(engine, document_id):
                process_document(engine, pipeline, settings, document_id)
                processed += 1
                if on_processed is not None:
                    on_processed(document_id)
    return processed


class InProcessWorker:
    """Polls the queue in a daemon thread; `wake` lets a submission skip the poll delay."""

    def __init__(self, engine: Engine, pipeline: Pipeline, settings: Settings) -> None:
        self._engine = engine
        self._pipeline = pipeline
        self._settings = settings
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="triage-worker", daemon=True)

    def start(self) -> None:
        requeued = requeue_stale(self._engine, timedelta(0))
        if requeued:
            log.warning("requeued %d documents left in processing by a previous run", requeued)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                drain_queue(self._engine, self._pipeline, self._settings, self._stop)
                requeue_stale(self._engine, STALE_AFTER)
            except Exception:  # the worker must survive a bad database moment and try again
                log.exception("worker loop error")
            self._wake.wait(self._settings.worker_poll_seconds)
            self._wake.clear()
