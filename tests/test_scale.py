"""The scale-out scenario: a batch of 200 documents through the API, the worker killed (SIGKILL) mid-batch and
restarted, and every document analysed exactly once.

Run twice with the same code: on the embedded default (SQLite, in-process worker inside the API server, so the
server itself is killed) and on real PostgreSQL, Redis and a Celery worker process.
"""

from __future__ import annotations

import io
import json
import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from service import config
from service.db.engine import make_engine, upgrade_database
from service.db.models import AnalysisRecord, BatchItem, Document, DocumentStatus
from tests.servers import api_key_headers, free_port, triage_process, wait_for_port, wait_until_ready

BATCH_SIZE = 200
KILL_AFTER = 30


def _batch_jsonl() -> bytes:
    path = config.REPO_ROOT / "corpora" / "wro_triage" / "v1" / "test.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()[:BATCH_SIZE]
    assert len(lines) == BATCH_SIZE
    out = io.StringIO()
    for line in lines:
        doc = json.loads(line)
        out.write(
            json.dumps({"id": doc["id"], "text": doc["text"], "source_type": doc["source_type"]}) + "\n"
        )
    return out.getvalue().encode("utf-8")


def _progress(base: str, batch_id: str, headers: dict[str, str]) -> dict[str, int]:
    response = httpx.get(f"{base}/api/v1/batches/{batch_id}", headers=headers, timeout=30)
    response.raise_for_status()
    data: dict[str, int] = response.json()
    return data


def _wait_done(
    base: str, batch_id: str, at_least: int, seconds: float, headers: dict[str, str]
) -> dict[str, int]:
    deadline = time.monotonic() + seconds
    while True:
        state = _progress(base, batch_id, headers)
        if state["done"] + state["failed"] >= at_least:
            return state
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {at_least} documents: {state}")
        time.sleep(0.2)


def _assert_each_analysed_once(database_url: str, batch_id: str) -> None:
    engine = make_engine(database_url)
    with Session(engine) as session:
        ids = [
            r for r in session.exec(select(BatchItem.document_id).where(BatchItem.batch_id == batch_id)).all()
        ]
        assert len(ids) == BATCH_SIZE and all(ids), "every member of the batch is stored as a document"
        assert len(set(ids)) == BATCH_SIZE
        statuses = session.exec(select(Document.status).where(col(Document.id).in_(ids))).all()
        assert set(statuses) == {DocumentStatus.DONE.value}
        counts = dict(
            session.exec(
                select(AnalysisRecord.document_id, func.count())
                .where(col(AnalysisRecord.document_id).in_(ids))
                .group_by(AnalysisRecord.document_id)
            ).all()
        )
        assert len(counts) == BATCH_SIZE and set(counts.values()) == {1}, "analysed exactly once"
    engine.dispose()


def _upload(base: str, headers: dict[str, str]) -> str:
    response = httpx.post(
        f"{base}/api/v1/batches",
        headers=headers,
        files={"file": ("batch.jsonl", _batch_jsonl(), "application/x-ndjson")},
        data={"source_type": "ngo_report"},
        timeout=120,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["total"] == BATCH_SIZE and body["stored"] == BATCH_SIZE
    batch_id: str = body["id"]
    return batch_id


def _base_env(database_url: str, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "TRIAGE_DATABASE_URL": database_url,
        "TRIAGE_PORT": str(port),
        "TRIAGE_PIPELINE": "rules",
        "TRIAGE_WORKER_POLL_SECONDS": "0.1",
        "TRIAGE_LOG_LEVEL": "WARNING",
        "HF_HUB_OFFLINE": "1",
        # The scenario is about jobs; document vectors for cases are tested on their own and would triple the
        # time per document here.
        "TRIAGE_DOCUMENT_EMBEDDINGS": "false",
    }


@pytest.mark.integration
@pytest.mark.timeout(600)
def test_embedded_server_killed_mid_batch_loses_nothing(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'triage.db'}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = _base_env(database_url, port)
    headers = api_key_headers(env, "submitter")
    log = tmp_path / "server.log"
    with triage_process(["serve"], env, log) as server:
        wait_for_port(port, 60)
        wait_until_ready(base, 120)
        batch_id = _upload(base, headers)
        _wait_done(base, batch_id, KILL_AFTER, 300, headers)
        os.kill(server.pid, signal.SIGKILL)
        server.wait(10)
    interrupted = make_engine(database_url)
    with Session(interrupted) as session:
        done_before = session.exec(
            select(func.count()).select_from(Document).where(Document.status == DocumentStatus.DONE.value)
        ).one()
    interrupted.dispose()
    assert KILL_AFTER <= done_before < BATCH_SIZE, "the kill must land mid-batch"
    with triage_process(["serve"], env, log):
        wait_for_port(port, 60)
        final = _wait_done(base, batch_id, BATCH_SIZE, 400, headers)
    assert final["done"] == BATCH_SIZE and final["failed"] == 0, log.read_text()[-3000:]
    _assert_each_analysed_once(database_url, batch_id)


@pytest.mark.integration
@pytest.mark.timeout(600)
def test_celery_worker_killed_mid_batch_loses_nothing(
    tmp_path: Path, postgres_database: str, redis_url: str
) -> None:
    upgrade_database(postgres_database)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **_base_env(postgres_database, port),
        "TRIAGE_WORKER": "celery",
        "TRIAGE_BROKER_URL": redis_url,
        "TRIAGE_JOB_SWEEP_SECONDS": "0.5",
        "TRIAGE_JOB_REDELIVERY_SECONDS": "3",
    }
    headers = api_key_headers(env, "submitter")
    server_log, worker_log = tmp_path / "server.log", tmp_path / "worker.log"
    with triage_process(["serve"], env, server_log):
        wait_for_port(port, 60)
        wait_until_ready(base, 120)
        batch_id = _upload(base, headers)
        assert _progress(base, batch_id, headers)["done"] == 0, "nothing is processed without a worker"
        with triage_process(["worker"], env, worker_log) as worker:
            _wait_done(base, batch_id, KILL_AFTER, 300, headers)
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(10)
        killed_at = _progress(base, batch_id, headers)
        assert KILL_AFTER <= killed_at["done"] < BATCH_SIZE, "the kill must land mid-batch"
        with triage_process(["worker"], env, worker_log):
            final = _wait_done(base, batch_id, BATCH_SIZE, 400, headers)
    assert final["done"] == BATCH_SIZE and final["failed"] == 0, worker_log.read_text()[-3000:]
    _assert_each_analysed_once(postgres_database, batch_id)
