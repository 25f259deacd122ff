"""Real servers for integration tests, started by the tests themselves in temporary folders.

No mocks stand in for PostgreSQL: the storage tests run again on a real server. `.ci/run` installs the Debian
packages; locally the tests use whatever PostgreSQL binaries are installed and skip (outside CI) if none are.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from service.config import TestEnvironment


class ServerUnavailable(RuntimeError):
    """The server binaries are not installed."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_bin_dir(env: TestEnvironment) -> Path:
    if env.postgres_bin:
        return env.postgres_bin
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if candidates:
        return candidates[0].parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise ServerUnavailable("PostgreSQL server binaries (initdb, pg_ctl) are not installed")


def _as_postgres_user(cmd: list[str]) -> list[str]:
    """initdb refuses to run as root; CI runs as root, so step down to the 'postgres' account."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@contextmanager
def postgres_server(env: TestEnvironment) -> Iterator[str]:
    """Start a throw-away PostgreSQL cluster on a free loopback port; yields its SQLAlchemy URL."""
    bin_dir = postgres_bin_dir(env)
    root = Path(tempfile.mkdtemp(prefix="triage-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
    port = free_port()
    subprocess.run(
        _as_postgres_user(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", "triage", "--auth=trust", "-E", "UTF8"]
        ),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _as_postgres_user(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l", str(root / "log"), "start"]
        ),
        check=True,
        capture_output=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        subprocess.run(
            _as_postgres_user(
                [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "triage", "triage"]
            ),
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg://triage@127.0.0.1:{port}/triage"
    finally:
        subprocess.run(
            _as_postgres_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def redis_binary(env: TestEnvironment) -> Path:
    if env.redis_server:
        return env.redis_server
    found = shutil.which("redis-server")
    if found:
        return Path(found)
    raise ServerUnavailable("redis-server is not installed")


@contextmanager
def redis_server(env: TestEnvironment) -> Iterator[str]:
    """Start a throw-away Redis on a free loopback port (no persistence); yields its URL."""
    binary = redis_binary(env)
    port = free_port()
    root = Path(tempfile.mkdtemp(prefix="triage-redis-"))
    process = subprocess.Popen(
        [
            str(binary),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(root),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, 20)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(root, ignore_errors=True)


def wait_for_port(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


TRIAGE = Path(sys.executable).parent / "triage"


@contextmanager
def triage_process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A `triage` command (serve, worker) as a real process, its output appended to `log`; stopped on exit
    unless the test has already killed it."""
    with log.open("ab") as sink:
        process = subprocess.Popen([str(TRIAGE), *args], env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def wait_until_ready(base: str, seconds: float, log: Path | None = None) -> None:
    """Poll /readyz until the models are loaded; a timeout shows the end of the server's log."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log is not None and log.exists() else ""
    raise AssertionError(f"the server did not become ready\n{tail}")


def api_key_headers(env: dict[str, str], role: str) -> dict[str, str]:
    """Headers with a key made by `triage apikey create` on the database `env` points at."""
    made = subprocess.run(
        [str(TRIAGE), "apikey", "create", f"test-{role}", "--role", role],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return {"Authorization": f"Bearer {made.stdout.strip()}"}
