"""Batch intake: a zip or JSONL file of documents, or a folder from the CLI, as one tracked batch.

The upload itself is stored first (as a blob) and the batch row records it, so a crash while unpacking loses
nothing: unpacking resumes from the stored copy, and members already stored are recognised by name (each
member and its place in the batch are written in one transaction). Progress is read from the members'
documents, so it is always what the queue really holds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path, PurePosixPath

from pydantic import BaseModel
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.audit import audit
from service.config import Settings
from service.db.engine import session_scope
from service.db.models import (
    Batch,
    BatchItem,
    BatchStatus,
    Blob,
    Document,
    DocumentStatus,
    SourceType,
    utcnow,
)
from service.documents import SubmissionMeta, content_race_retry, submit_in_session
from service.errors import NotFoundError

log = logging.getLogger(__name__)


class BatchError(ValueError):
    """The batch as a whole cannot be read; `code` is stable for clients."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Member:
    """One document inside a batch, or the reason it cannot be one."""

    name: str
    content: bytes | None
    meta: SubmissionMeta
    error_code: str | None = None
    error_message: str | None = None


def detect_kind(content: bytes, filename: str | None) -> str:
    if content[:4] == b"PK\x03\x04" or content[:4] == b"PK\x05\x06":
        return "zip"
    if (filename or "").lower().endswith((".jsonl", ".ndjson")) or content.lstrip()[:1] == b"{":
        return "jsonl"
    raise BatchError("unsupported_batch", "a batch must be a zip archive or a JSONL file of {id, text} lines")


def _skip_member(info: zipfile.ZipInfo) -> bool:
    path = PurePosixPath(info.filename)
    return info.is_dir() or path.parts[:1] == ("__MACOSX",) or path.name.startswith(".")


def _zip_index(content: bytes, settings: Settings) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """The archive and its document members, checked against the batch limits from the index alone."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        infos = [info for info in archive.infolist() if not _skip_member(info)]
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise BatchError("invalid_archive", f"the zip archive cannot be read: {exc}") from exc
    if len(infos) > settings.max_batch_members:
        raise BatchError("too_many_members", f"the archive has over {settings.max_batch_members} documents")
    if sum(info.file_size for info in infos) > settings.max_batch_unpacked_bytes:
        raise BatchError("archive_too_large_unpacked", "the archive unpacks to more than the allowed size")
    return archive, infos


def _jsonl_lines(content: bytes, settings: Settings) -> list[bytes]:
    lines = [line for line in content.splitlines() if line.strip()]
    if len(lines) > settings.max_batch_members:
        raise BatchError("too_many_members", f"the file has over {settings.max_batch_members} lines")
    return lines


def _zip_members(content: bytes, source_type: SourceType, settings: Settings) -> Iterator[Member]:
    archive, infos = _zip_index(content, settings)
    limit = settings.max_upload_bytes
    for info in infos:
        meta = SubmissionMeta(filename=PurePosixPath(info.filename).name[:512], source_type=source_type)
        if info.file_size > limit:
            yield Member(info.filename, None, meta, "too_large", f"over the limit of {limit} bytes")
            continue
        try:
            with archive.open(info) as handle:
                data = handle.read(limit + 1)  # the header may lie about the size: read no further
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError) as exc:
            yield Member(info.filename, None, meta, "unreadable_member", str(exc)[:500])
            continue
        if len(data) > limit:
            yield Member(info.filename, None, meta, "too_large", f"over the limit of {limit} bytes")
        else:  # an empty member is stored too, and fails visibly as a document
            yield Member(info.filename, data, meta)


def _jsonl_members(content: bytes, source_type: SourceType, settings: Settings) -> Iterator[Member]:
    for number, raw in enumerate(_jsonl_lines(content, settings), start=1):
        name = f"line {number}"
        try:
            item = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            yield Member(name, None, SubmissionMeta(), "invalid_line", f"not JSON: {exc}"[:500])
            continue
        if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not item["text"].strip():
            yield Member(name, None, SubmissionMeta(), "invalid_line", "each line needs a non-empty 'text'")
            continue
        ident = str(item.get("id") or number)[:200]
        try:
            kind = SourceType(str(item.get("source_type") or source_type.value))
        except ValueError:
            kind = source_type
        meta = SubmissionMeta(
            filename=str(item.get("title") or f"{ident}.txt")[:512],
            source_type=kind,
            source_url=str(item["source_url"])[:2048] if item.get("source_url") else None,
            language=str(item["language"])[:16] if item.get("language") else None,
        )
        data = item["text"].encode("utf-8")
        if len(data) > settings.max_upload_bytes:
            yield Member(f"{name}: {ident}", None, meta, "too_large", "the text is over the upload limit")
            continue
        yield Member(f"{name}: {ident}"[:512], data, meta)


def _members(batch: Batch, content: bytes, settings: Settings) -> Iterator[Member]:
    source_type = SourceType(batch.source_type)
    if batch.kind == "zip":
        return _zip_members(content, source_type, settings)
    return _jsonl_members(content, source_type, settings)


def count_members(kind: str, content: bytes, settings: Settings) -> int:
    """How many members a batch has, from the zip index or the line count, without unpacking anything."""
    if kind == "zip":
        return len(_zip_index(content, settings)[1])
    return len(_jsonl_lines(content, settings))


def create_batch(
    engine: Engine,
    content: bytes,
    filename: str | None,
    source_type: SourceType,
    settings: Settings,
    actor: str,
) -> Batch:
    """Store the upload and its batch row (committed before anything is unpacked), then unpack it."""
    if not content:
        raise BatchError("empty", "the batch file is empty")
    if len(content) > settings.max_batch_bytes:
        raise BatchError("too_large", f"the batch is over the limit of {settings.max_batch_bytes} bytes")
    kind = detect_kind(content, filename)
    digest = hashlib.sha256(content).hexdigest()
    with session_scope(engine) as session:
        if session.get(Blob, digest) is None:
            session.add(Blob(sha256=digest, size=len(content), content=content))
            session.flush()  # the batch row refers to the blob; the ORM does not order unrelated inserts
        batch = Batch(
            name=filename, kind=kind, archive_sha256=digest, source_type=source_type.value, actor=actor
        )
        session.add(batch)
        session.flush()
        audit(session, "batch_received", None, actor, batch_id=batch.id, kind=kind, size=len(content))
    return expand_batch(engine, batch.id, settings)


def expand_batch(engine: Engine, batch_id: str, settings: Settings) -> Batch:
    """Unpack a stored batch; safe to call again after a crash (members already stored are skipped)."""
    with Session(engine) as session:
        batch = session.get(Batch, batch_id)
        if batch is None:
            raise NotFoundError(batch_id)
        if batch.status != BatchStatus.EXPANDING.value or batch.archive_sha256 is None:
            return batch
        blob = session.get(Blob, batch.archive_sha256)
        assert blob is not None, "a batch's upload is stored before the batch"
        content = blob.content
        done = set(session.exec(select(BatchItem.member).where(BatchItem.batch_id == batch_id)).all())
    try:
        total = count_members(batch.kind, content, settings)
        with session_scope(engine) as session:
            stored = session.get(Batch, batch_id)
            assert stored is not None
            stored.total = total
        for member in _members(batch, content, settings):
            if member.name[:512] not in done:
                _store_member(engine, batch, member)
    except BatchError as exc:
        with session_scope(engine) as session:
            failed = session.get(Batch, batch_id)
            assert failed is not None
            failed.status = BatchStatus.FAILED.value
            failed.failure_message = f"{exc.code}: {exc.message}"
            failed.updated_at = utcnow()
            audit(session, "batch_failed", None, batch.actor, batch_id=batch_id, code=exc.code)
        raise
    with session_scope(engine) as session:
        finished = session.get(Batch, batch_id)
        assert finished is not None
        finished.status = BatchStatus.EXPANDED.value
        finished.updated_at = utcnow()
        audit(session, "batch_expanded", None, batch.actor, batch_id=batch_id, total=total)
        return finished


def _store_member(engine: Engine, batch: Batch, member: Member) -> None:
    """Store one member and its place in the batch in one transaction. Another expander of the same batch (the
    worker resuming it after a crash) may get there first; its row is then kept and this call does nothing."""
    name = member.name[:512]
    for attempt in content_race_retry():
        with attempt, session_scope(engine) as session:
            stored = session.exec(
                select(BatchItem.id).where(BatchItem.batch_id == batch.id, BatchItem.member == name)
            ).first()
            if stored is not None:
                return
            document_id = None
            if member.content is not None:
                # A batch sent with an API key makes each member that key's submission, for submitters' reads.
                key_id = batch.actor.removeprefix("apikey:") if batch.actor.startswith("apikey:") else None
                meta = dataclasses.replace(member.meta, api_key_id=key_id)
                result = submit_in_session(session, member.content, meta, batch.actor)
                document_id = result.document.id
            session.add(
                BatchItem(
                    batch_id=batch.id,
                    member=name,
                    document_id=document_id,
                    error_code=member.error_code,
                    error_message=member.error_message,
                )
            )
            owner = session.get(Batch, batch.id)
            if owner is not None:  # progress shows the expansion is alive, so the sweep leaves it alone
                owner.updated_at = utcnow()


def start_folder_batch(engine: Engine, folder: Path, source_type: SourceType, actor: str) -> Batch:
    """A CLI batch over a folder; an unfinished batch for the same folder is resumed instead of duplicated."""
    name = str(folder.resolve())
    with session_scope(engine) as session:
        existing = session.exec(
            select(Batch).where(
                Batch.kind == "folder", Batch.name == name, Batch.status == BatchStatus.EXPANDING.value
            )
        ).first()
        if existing is not None:
            return existing
        batch = Batch(name=name, kind="folder", source_type=source_type.value, actor=actor)
        session.add(batch)
        session.flush()
        audit(session, "batch_received", None, actor, batch_id=batch.id, kind="folder", folder=name)
        return batch


def folder_members_done(engine: Engine, batch_id: str) -> set[str]:
    with Session(engine) as session:
        return set(session.exec(select(BatchItem.member).where(BatchItem.batch_id == batch_id)).all())


def add_folder_member(engine: Engine, batch: Batch, path: Path, root: Path, limit: int) -> None:
    meta = SubmissionMeta(filename=path.name[:512], source_type=SourceType(batch.source_type))
    name = str(path.relative_to(root))[:512]
    size = path.stat().st_size
    if size > limit:
        _store_member(
            engine, batch, Member(name, None, meta, "too_large", f"over the limit of {limit} bytes")
        )
    else:
        _store_member(engine, batch, Member(name, path.read_bytes(), meta))


def finish_folder_batch(engine: Engine, batch_id: str, total: int) -> None:
    with session_scope(engine) as session:
        batch = session.get(Batch, batch_id)
        assert batch is not None
        batch.total = total
        batch.status = BatchStatus.EXPANDED.value
        batch.updated_at = utcnow()
        audit(session, "batch_expanded", None, batch.actor, batch_id=batch_id, total=total)


def resume_batches(engine: Engine, settings: Settings, idle: timedelta | None = None) -> int:
    """Finish unpacking uploads that a crash interrupted (folder batches resume from the CLI). Only batches
    without progress for `idle` (default: the batch_resume_after setting) count as interrupted: one that is
    still being unpacked by its upload request is left to it."""
    idle = timedelta(seconds=settings.batch_resume_after_seconds) if idle is None else idle
    with Session(engine) as session:
        pending = session.exec(
            select(Batch.id).where(
                Batch.status == BatchStatus.EXPANDING.value,
                col(Batch.archive_sha256).is_not(None),
                col(Batch.updated_at) <= utcnow() - idle,
            )
        ).all()
    resumed = 0
    for batch_id in pending:
        try:
            expand_batch(engine, batch_id, settings)
            resumed += 1
        except BatchError:
            log.warning("batch %s cannot be unpacked; marked failed", batch_id)
    return resumed


class BatchProgress(BaseModel):
    id: str
    name: str | None
    kind: str
    status: str
    source_type: str
    total: int
    stored: int
    queued: int
    processing: int
    done: int
    failed: int
    rejected: int
    failure_message: str | None = None


def batch_progress(engine: Engine, batch_id: str) -> BatchProgress:
    with Session(engine) as session:
        batch = session.get(Batch, batch_id)
        if batch is None:
            raise NotFoundError(batch_id)
        by_status = dict(
            session.exec(
                select(Document.status, func.count())
                .select_from(BatchItem)
                .join(Document, col(Document.id) == col(BatchItem.document_id))
                .where(BatchItem.batch_id == batch_id)
                .group_by(col(Document.status))
            ).all()
        )
        rejected = int(
            session.exec(
                select(func.count())
                .select_from(BatchItem)
                .where(BatchItem.batch_id == batch_id, col(BatchItem.document_id).is_(None))
            ).one()
        )
    stored = sum(by_status.values())
    return BatchProgress(
        id=batch.id,
        name=batch.name,
        kind=batch.kind,
        status=batch.status,
        source_type=batch.source_type,
        total=batch.total,
        stored=stored,
        queued=by_status.get(DocumentStatus.QUEUED.value, 0),
        processing=by_status.get(DocumentStatus.PROCESSING.value, 0),
        done=by_status.get(DocumentStatus.DONE.value, 0),
        failed=by_status.get(DocumentStatus.FAILED.value, 0) + rejected,
        rejected=rejected,
        failure_message=batch.failure_message,
    )


def list_batches(engine: Engine, limit: int, offset: int) -> list[Batch]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(Batch).order_by(col(Batch.created_at).desc()).offset(offset).limit(limit)
            ).all()
        )


def batch_owner(engine: Engine, batch_id: str) -> str:
    """Who sent the batch (its audit actor), for submitters' reads of their own batches."""
    with Session(engine) as session:
        batch = session.get(Batch, batch_id)
        if batch is None:
            raise NotFoundError(batch_id)
        return batch.actor


def batch_document_ids(engine: Engine, batch_id: str) -> list[str]:
    with Session(engine) as session:
        rows = session.exec(
            select(BatchItem.document_id).where(
                BatchItem.batch_id == batch_id, col(BatchItem.document_id).is_not(None)
            )
        ).all()
        return [row for row in rows if row]
