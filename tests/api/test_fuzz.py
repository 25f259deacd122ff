"""Schemathesis against the OpenAPI document of a real `triage serve`: whatever the schema allows (and a good
deal it does not), the server answers without a 5xx. Bounded: a fixed number of examples per operation."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.servers import api_key_headers, free_port, triage_process, wait_until_ready


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A real server, and headers with an admin key so that every operation is exercised past authorisation."""
    folder = tmp_path_factory.mktemp("fuzz")
    port = free_port()
    env = {
        **os.environ,
        "TRIAGE_DATABASE_URL": f"sqlite:///{folder / 'fuzz.db'}",
        "TRIAGE_PORT": str(port),
        "TRIAGE_LOG_LEVEL": "WARNING",
        "TRIAGE_DOCUMENT_EMBEDDINGS": "false",
        "HF_HUB_OFFLINE": "1",
    }
    headers = api_key_headers(env, "admin")
    base = f"http://127.0.0.1:{port}"
    log = folder / "server.log"
    with triage_process(["serve"], env, log):
        wait_until_ready(base, 120, log)
        yield base, headers


@pytest.fixture(scope="module")
def fuzz_headers(live_server: tuple[str, dict[str, str]]) -> dict[str, str]:
    return live_server[1]


@pytest.fixture(scope="module")
def api_schema(live_server: tuple[str, dict[str, str]]) -> Any:
    return schemathesis.openapi.from_url(f"{live_server[0]}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.integration
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_errors(case: Any, fuzz_headers: dict[str, str]) -> None:
    case.call_and_validate(checks=[not_a_server_error], headers=fuzz_headers, timeout=60)
