"""Batches: zip and JSONL unpacked with limits, progress from the documents, resumption after a crash."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from service.batches import (
    BatchError,
    Member,
    _store_member,
    batch_progress,
    create_batch,
    expand_batch,
    resume_batches,
)
from service.config import Settings
from service.db.engine import make_engine, session_scope, upgrade_database
from service.db.models import Batch, BatchStatus, Blob, Document, SourceType, Submission
from service.documents import SubmissionMeta
from tests.ingest.samples import REPORT_TEXT
from tests.threads import run_at_once


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _numbered_reports(count: int) -> dict[str, bytes]:
    """Archive members that differ, so each is stored as its own document."""
    return {f"doc{i}.txt": f"{REPORT_TEXT} Report number {i}.".encode() for i in range(count)}


def _stored_zip_batch(engine: Engine, members: dict[str, bytes]) -> Batch:
    """What an upload leaves before unpacking starts (or what a crash leaves): the archive and its batch row."""
    content = _zip(members)
    digest = hashlib.sha256(content).hexdigest()
    with session_scope(engine) as session:
        session.add(Blob(sha256=digest, size=len(content), content=content))
        session.flush()
        batch = Batch(kind="zip", archive_sha256=digest, actor="tester")
        session.add(batch)
    return batch


def test_zip_batch_stores_members_and_rejects_oversized_ones(database_url: str) -> None:
    upgrade_database(database_url)
    engine = make_engine(database_url)
    settings = Settings(database_url=database_url, max_upload_bytes=100_000)
    content = _zip(
        {
            "reports/a.txt": REPORT_TEXT.encode(),
            "reports/b.txt": (REPORT_TEXT + " Second.").encode(),
            "copy-of-a.txt": REPORT_TEXT.encode(),
            "__MACOSX/._a.txt": b"junk",
            "bomb.txt": b"0" * 5_000_000,  # compresses to a few kB, unpacks past the limit
        }
    )
    batch = create_batch(engine, content, "upload.zip", SourceType.NGO_REPORT, settings, "tester")
    progress = batch_progress(engine, batch.id)
    assert (progress.status, progress.total, progress.stored, progress.rejected) == ("expanded", 4, 3, 1)
    assert progress.queued == 3 and progress.failed == 1
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Document)).one() == 2, "a copy is one document"
    engine.dispose()


def test_jsonl_batch_reports_bad_lines_and_bad_archives_fail_clearly(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/b.db"
    upgrade_database(url)
    engine = make_engine(url)
    settings = Settings(database_url=url)
    lines = [
        json.dumps({"id": "one", "text": REPORT_TEXT, "source_type": "news"}),
        "{not json",
        json.dumps({"id": "empty", "text": "  "}),
        json.dumps({"id": "two", "text": "Workers said their wages were withheld."}),
    ]
    batch = create_batch(engine, "\n".join(lines).encode(), "b.jsonl", SourceType.OTHER, settings, "tester")
    progress = batch_progress(engine, batch.id)
    assert (progress.total, progress.stored, progress.rejected) == (4, 2, 2)
    with pytest.raises(BatchError) as broken:
        create_batch(engine, b"PK\x03\x04 this is not really a zip", "x.zip", SourceType.OTHER, settings, "t")
    assert broken.value.code == "invalid_archive"
    with Session(engine) as session:
        failed = session.exec(select(Batch).where(Batch.status == BatchStatus.FAILED.value)).one()
        assert failed.archive_sha256 and session.get(Blob, failed.archive_sha256), "the upload is kept"
    with pytest.raises(BatchError) as unknown:
        create_batch(engine, b"%PDF-1.4", "x.pdf", SourceType.OTHER, settings, "t")
    assert unknown.value.code == "unsupported_batch"
    engine.dispose()


def test_interrupted_unpacking_resumes_without_storing_twice(database_url: str) -> None:
    upgrade_database(database_url)
    engine = make_engine(database_url)
    settings = Settings(database_url=database_url)
    members = _numbered_reports(6)
    # What a crash after two members leaves behind: the upload, the batch row and two stored members.
    batch = _stored_zip_batch(engine, members)
    for name in ("doc0.txt", "doc1.txt"):
        _store_member(engine, batch, Member(name, members[name], SubmissionMeta(filename=name)))
    assert batch_progress(engine, batch.id).stored == 2

    assert resume_batches(engine, settings) == 0, "a batch with recent progress may still be unpacking"
    assert resume_batches(engine, settings, idle=timedelta(0)) == 1
    progress = batch_progress(engine, batch.id)
    assert (progress.status, progress.total, progress.stored) == ("expanded", 6, 6)
    expand_batch(engine, batch.id, settings)  # a second resumption is a no-op
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Document)).one() == 6
        assert session.exec(select(func.count()).select_from(Submission)).one() == 6
    engine.dispose()


def test_two_expanders_of_one_batch_store_each_member_once(database_url: str) -> None:
    """The upload request and a worker's sweep may unpack the same batch at once (the sweep's idle guard makes
    that rare, a slow machine makes it possible): neither may fail, and each member is stored once."""
    upgrade_database(database_url)
    engine = make_engine(database_url)
    settings = Settings(database_url=database_url)
    batch = _stored_zip_batch(engine, _numbered_reports(24))
    assert run_at_once(lambda: expand_batch(engine, batch.id, settings), 2, timeout=120) == []
    progress = batch_progress(engine, batch.id)
    assert (progress.status, progress.total, progress.stored) == ("expanded", 24, 24)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Document)).one() == 24
        assert session.exec(select(func.count()).select_from(Submission)).one() == 24
    engine.dispose()


def test_a_member_stored_by_another_expander_is_skipped(database_url: str) -> None:
    upgrade_database(database_url)
    engine = make_engine(database_url)
    batch = _stored_zip_batch(engine, {"a.txt": REPORT_TEXT.encode()})
    member = Member("a.txt", REPORT_TEXT.encode(), SubmissionMeta(filename="a.txt"))
    _store_member(engine, batch, member)
    _store_member(engine, batch, member)
    assert batch_progress(engine, batch.id).stored == 1
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Submission)).one() == 1
    engine.dispose()
