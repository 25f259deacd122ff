"""Fixtures for the web pages: an app on a temporary SQLite file with a fixed session secret."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.auth import Role
from service.config import Settings
from tests.conftest import api_key, bearer

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def web_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"session_secret": "test-secret-" + "x" * 32})


@pytest.fixture
def client(web_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(web_settings)) as test_client:
        test_client.headers.update(bearer(api_key(web_settings.database_url, Role.LEAD)))
        while test_client.get("/readyz").status_code != 200:
            time.sleep(0.05)
        yield test_client


def token_of(client: TestClient, path: str = "/submit") -> str:
    match = TOKEN.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)
