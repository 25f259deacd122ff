"""Celery workers with Redis as broker, for running the same jobs on many machines.

A message carries only a document id: the job claims the document in the database, so a duplicate,
redelivered or retried message is harmless. Messages are acknowledged after the job (`acks_late`), one at a
time (`prefetch 1`), and a sweeper thread in every worker resends jobs for queued documents whose message was
lost (a broker restart, a worker killed with messages in hand) and takes back claims of dead workers.
Models load when the worker starts, before it consumes anything.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Sequence
from typing import Any

from celery import Celery, Task
from sqlalchemy.engine import Engine

from service.config import Settings
from service.documents import mark_enqueued
from service.jobs import JobContext, TransientJobError, run_document_job, sweep

log = logging.getLogger(__name__)

PROCESS_TASK = "triage.process_document"

_context: JobContext | None = None


def make_celery(settings: Settings) -> Celery:
    app = Celery("triage", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_default_queue=settings.celery_queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,  # results live in the database, not in the broker
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": int(settings.job_lease_seconds)},
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
    )

    @app.task(name=PROCESS_TASK, bind=True, max_retries=settings.job_max_retries)
    def process_document_task(task: Task[Any, Any], document_id: str) -> str:
        if _context is None:
            raise RuntimeError("the worker's models are not loaded")
        try:
            return run_document_job(_context, document_id).value
        except TransientJobError as exc:
            delay = min(60, 2 ** int(task.request.retries))
            raise task.retry(exc=exc, countdown=delay) from exc

    return app


class CeleryDispatcher:
    """The API side: send a job per submitted document. A broker that is down loses nothing: the document
    stays queued with no send time, and a worker's sweeper sends it when it can."""

    def __init__(self, settings: Settings, engine: Engine, app: Celery | None = None) -> None:
        self._settings = settings
        self._engine = engine
        self._app = app or make_celery(settings)

    def send(self, document_ids: Sequence[str]) -> None:
        for document_id in document_ids:
            self._app.send_task(PROCESS_TASK, args=[document_id], queue=self._settings.celery_queue)

    def submitted(self, document_ids: Sequence[str]) -> None:
        try:
            self.send(document_ids)
        except Exception:  # kombu raises several types for an unreachable broker
            log.exception("broker unreachable; %d documents wait for a worker's sweep", len(document_ids))
            return
        mark_enqueued(self._engine, document_ids)

    def stop(self) -> None:
        self._app.close()


def run_worker(context: JobContext, settings: Settings) -> None:
    """Start a Celery worker in this process with the loaded models and a sweeper thread; blocks."""
    global _context
    _context = context
    app = make_celery(settings)
    dispatcher = CeleryDispatcher(settings, context.engine, app)
    stop = threading.Event()

    def sweeper() -> None:
        while not stop.is_set():
            try:
                sweep(context.engine, settings, context.worker, send=dispatcher.send)
            except Exception:  # a broker or database moment must not end the sweeper
                log.exception("sweep failed")
            stop.wait(settings.job_sweep_seconds)

    thread = threading.Thread(target=sweeper, name="triage-sweeper", daemon=True)
    thread.start()
    pool = ["--pool=solo"] if settings.worker_concurrency <= 1 else ["--pool=threads"]
    try:
        app.worker_main(
            [
                "worker",
                *pool,
                f"--concurrency={max(1, settings.worker_concurrency)}",
                f"--queues={settings.celery_queue}",
                f"--hostname=triage-{socket.gethostname()}-{context.worker.split(':')[1]}",
                f"--loglevel={settings.log_level}",
                "--without-gossip",
                "--without-mingle",
            ]
        )
    finally:
        stop.set()
        dispatcher.stop()
