"""Shared fixtures: settings on a temporary SQLite file, the loaded rules pipeline, and database URLs for
both backends (SQLite and a real PostgreSQL server started for the session)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from service.auth import Role, create_api_key
from service.config import REPO_ROOT, Settings, TestEnvironment
from service.db.engine import make_engine, upgrade_database
from service.ingest.ocr import OcrSettings
from service.nlp.pipeline import Pipeline
from service.nlp.similarity import DocumentEmbedder
from tests.servers import ServerUnavailable, postgres_server, redis_server

SHARED_DIR = REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def test_env() -> TestEnvironment:
    return TestEnvironment()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Document vectors (for case stories) load the sentence encoder; the case tests switch them on.
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'triage.db'}",
        worker_poll_seconds=0.05,
        document_embeddings=False,
    )


@pytest.fixture(scope="session")
def pipeline() -> Pipeline:
    return Pipeline.load(Settings())


@pytest.fixture(scope="session")
def postgres_root_url(test_env: TestEnvironment) -> Iterator[str]:
    try:
        with postgres_server(test_env) as url:
            yield url
    except ServerUnavailable as exc:
        if test_env.ci:
            pytest.fail(f"CI must run the PostgreSQL tests: {exc}")
        pytest.skip(str(exc))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return _fresh_postgres_database(request.getfixturevalue("postgres_root_url"))


def _fresh_postgres_database(root_url: str) -> str:
    """An empty database on the session's PostgreSQL server; its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(root_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return root_url.rsplit("/", 1)[0] + f"/{name}"


OCR_LANGUAGES = {"eng", "spa", "fra", "por", "msa", "ind", "chi_sim", "osd"}


@pytest.fixture(scope="session")
def tesseract(test_env: TestEnvironment) -> OcrSettings:
    """OCR settings for a real Tesseract with the languages `.ci/run` installs; CI fails without them."""
    import pytesseract

    settings = OcrSettings(tesseract_cmd=test_env.tesseract_cmd)
    pytesseract.pytesseract.tesseract_cmd = str(settings.tesseract_cmd or "tesseract")
    try:
        missing = OCR_LANGUAGES - set(pytesseract.get_languages())
    except (pytesseract.TesseractNotFoundError, pytesseract.TesseractError, OSError) as exc:
        missing, problem = OCR_LANGUAGES, f"tesseract cannot be run: {exc}"
    else:
        problem = f"tesseract lacks the language data {sorted(missing)}"
    if missing:
        if test_env.ci:
            pytest.fail(f"CI must run the OCR tests: {problem}")
        pytest.skip(problem)
    return settings


@pytest.fixture(scope="session")
def dev_set_path() -> Path:
    path = SHARED_DIR / "dev" / "dev.jsonl"
    if not path.exists():
        pytest.skip("the shared development set is not beside this checkout")
    return path


@pytest.fixture(scope="session")
def embedder() -> DocumentEmbedder:
    return DocumentEmbedder.load(threads=2)


@pytest.fixture
def postgres_database(postgres_root_url: str) -> str:
    """An empty PostgreSQL database only (for tests that need the real server, not both backends)."""
    return _fresh_postgres_database(postgres_root_url)


@pytest.fixture
def redis_url(test_env: TestEnvironment) -> Iterator[str]:
    try:
        with redis_server(test_env) as url:
            yield url
    except ServerUnavailable as exc:
        if test_env.ci:
            pytest.fail(f"CI must run the Redis and Celery tests: {exc}")
        pytest.skip(str(exc))


def api_key(database_url: str, role: Role, name: str | None = None) -> str:
    """A fresh key of `role`, made through the domain function as `triage apikey create` does."""
    upgrade_database(database_url)
    engine = make_engine(database_url)
    try:
        return create_api_key(engine, name or f"test-{role.value}", role, "test").secret
    finally:
        engine.dispose()


def bearer(key: str) -> dict[str, str]:
    """Headers for a TestClient or httpx request made with `key`."""
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def role_keys(settings: Settings) -> dict[Role, str]:
    """One key per role on the `settings` database."""
    return {role: api_key(settings.database_url, role) for role in Role}
