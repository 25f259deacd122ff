"""Reliability under load and under SIGKILL, against real servers.

- Load: 50 concurrent clients for a bounded time, mixing submissions, stateless analyses, queue and status
  reads: zero errors, and every accepted submission is stored.
- Crash: the server (and, at scale, the Celery worker) killed with SIGKILL while clients are submitting, then
  restarted: every submission that got a 202 is present and gets processed, on SQLite (WAL) and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from service.db.engine import upgrade_database
from tests.servers import api_key_headers, free_port, triage_process, wait_for_port, wait_until_ready
from tests.test_scale import _base_env

CLIENTS = 50
LOAD_SECONDS = 30.0
SENTENCES = [
    "Workers at the {n} spinning mill in Tiruppur said the supervisor kept their identity cards.",
    "Recruitment agents charged migrant workers fees equal to {n} months of wages before departure.",
    "Guards locked the dormitory gates at night and workers could not leave the compound ({n}).",
    "The factory ships cotton yarn to importers in the United States, according to bills of lading {n}.",
    "Wages were withheld for {n} weeks when workers complained about overtime.",
]


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(SENTENCES).format(n=rng.randrange(10**9)) for _ in range(rng.randint(2, 5)))


async def _client(
    base: str, headers: dict[str, str], seed: int, deadline: float, accepted: list[str], errors: list[str]
) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as client:
        while time.monotonic() < deadline:
            kind = rng.random()
            try:
                if kind < 0.25:
                    response = await client.post("/api/v1/documents", json={"text": _text(rng)})
                    if response.status_code == 202:
                        accepted.append(response.json()["id"])
                    else:
                        errors.append(f"submit {response.status_code}")
                elif kind < 0.45:
                    response = await client.post("/api/v1/analyze", json={"id": "x", "text": _text(rng)})
                    if response.status_code != 200:
                        errors.append(f"analyze {response.status_code}")
                elif kind < 0.75:
                    response = await client.get("/api/v1/queue", params={"limit": 20})
                    if response.status_code != 200:
                        errors.append(f"queue {response.status_code}")
                else:
                    target = rng.choice(accepted) if accepted else "0" * 32
                    response = await client.get(f"/api/v1/documents/{target}/status")
                    if response.status_code not in (200, 404):
                        errors.append(f"status {response.status_code}")
            except httpx.HTTPError as exc:
                errors.append(f"{exc.__class__.__name__}")


def _all_present_and_done(
    base: str, headers: dict[str, str], ids: list[str], seconds: float
) -> dict[str, str]:
    deadline = time.monotonic() + seconds
    pending = set(ids)
    statuses: dict[str, str] = {}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        while pending and time.monotonic() < deadline:
            for document_id in list(pending):
                response = client.get(f"/api/v1/documents/{document_id}/status")
                assert response.status_code == 200, f"accepted document {document_id} is missing"
                statuses[document_id] = response.json()["status"]
                if statuses[document_id] in ("done", "failed"):
                    pending.discard(document_id)
            time.sleep(0.5)
    assert not pending, f"{len(pending)} accepted documents never processed"
    return statuses


@pytest.mark.integration
@pytest.mark.timeout(900)
def test_fifty_clients_get_no_errors_and_lose_no_writes(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'load.db'}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = _base_env(database_url, port)
    headers = api_key_headers(env, "reviewer")  # reviewers may submit, analyse and read the queue
    with triage_process(["serve"], env, tmp_path / "server.log"):
        wait_for_port(port, 60)
        wait_until_ready(base, 120)
        accepted: list[str] = []
        errors: list[str] = []
        deadline = time.monotonic() + LOAD_SECONDS

        async def run() -> None:
            await asyncio.gather(
                *(_client(base, headers, seed, deadline, accepted, errors) for seed in range(CLIENTS))
            )

        asyncio.run(run())
        assert errors == [], f"{len(errors)} errors, e.g. {errors[:5]}"
        assert len(accepted) > 100, "the load must really write"
        statuses = _all_present_and_done(base, headers, accepted, 600)
    assert set(statuses.values()) == {"done"}


def _submit_until(
    base: str, headers: dict[str, str], stop: threading.Event, accepted: list[str], seed: int
) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        while not stop.is_set():
            try:
                response = client.post("/api/v1/documents", json={"text": _text(rng)})
            except httpx.HTTPError:
                time.sleep(0.05)  # the server is down or restarting: a refused request was not accepted
                continue
            if response.status_code == 202:
                accepted.append(response.json()["id"])


@pytest.mark.integration
@pytest.mark.timeout(900)
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_sigkill_during_writes_loses_no_accepted_submission(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    if backend == "sqlite":
        database_url = f"sqlite:///{tmp_path / 'crash.db'}"
        env = _base_env(database_url, port)
    else:
        database_url = request.getfixturevalue("postgres_database")
        upgrade_database(database_url)
        env = {
            **_base_env(database_url, port),
            "TRIAGE_WORKER": "celery",
            "TRIAGE_BROKER_URL": request.getfixturevalue("redis_url"),
            "TRIAGE_JOB_SWEEP_SECONDS": "0.5",
            "TRIAGE_JOB_REDELIVERY_SECONDS": "3",
        }
    log = tmp_path / "processes.log"
    submitter, lead = api_key_headers(env, "submitter"), api_key_headers(env, "lead")
    accepted: list[str] = []
    stop = threading.Event()
    writers = [
        threading.Thread(target=_submit_until, args=(base, submitter, stop, accepted, seed))
        for seed in range(8)
    ]

    def start_all(stack: ExitStack) -> list[subprocess.Popen[bytes]]:
        processes = [stack.enter_context(triage_process(["serve"], env, log))]
        if backend == "postgres":
            processes.append(stack.enter_context(triage_process(["worker"], env, log)))
        wait_for_port(port, 60)
        wait_until_ready(base, 120)
        return processes

    def wait_for_more(count: int) -> None:
        target = len(accepted) + count
        deadline = time.monotonic() + 60
        while len(accepted) < target and time.monotonic() < deadline:
            time.sleep(0.05)

    with ExitStack() as stack:
        processes = start_all(stack)
        for writer in writers:
            writer.start()
        wait_for_more(40)
        for process in processes:  # mid-write: the writers are still sending
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)
    with ExitStack() as stack:
        start_all(stack)
        wait_for_more(40)
        stop.set()
        for writer in writers:
            writer.join(60)
        statuses = _all_present_and_done(base, lead, accepted, 600)
    assert len(statuses) == len(accepted) > 80
    assert set(statuses.values()) == {"done"}
