"""Tables. Original bytes, submissions, analyses, reviewer decisions and the audit log are separate rows.

Content is addressed by sha256 so a report forwarded by five NGOs is stored and analysed once, while each
forwarding stays visible as its own submission. Analyses are appended, never updated, and record the model
versions that produced them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class SourceType(StrEnum):
    NGO_REPORT = "ngo_report"
    NEWS = "news"
    E_ALLEGATION = "e_allegation"
    GOVERNMENT = "government"
    COMPANY = "company"
    OTHER = "other"


class DocumentStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"


class Blob(SQLModel, table=True):
    """Original bytes exactly as uploaded, stored before anything else happens to them."""

    sha256: str = Field(primary_key=True, max_length=64)
    size: int
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Document(SQLModel, table=True):
    """One distinct content; its processing state and extracted text."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    sha256: str = Field(foreign_key="blob.sha256", unique=True, index=True, max_length=64)
    filename: str | None = Field(default=None, max_length=512)
    media_type: str | None = Field(default=None, max_length=128)
    source_type: str = Field(default=SourceType.OTHER.value, index=True, max_length=32)
    language: str | None = Field(default=None, max_length=16)
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    pages: int | None = None
    status: str = Field(default=DocumentStatus.QUEUED.value, index=True, max_length=16)
    failure_code: str | None = Field(default=None, max_length=64)
    failure_message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    warnings: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    attempts: int = 0
    tier: str | None = Field(default=None, index=True, max_length=16)
    wro_score: float | None = None
    priority: float | None = Field(default=None, index=True)
    uncertainty: float | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    claimed_at: datetime | None = None
    claimed_by: str | None = Field(default=None, max_length=128)
    enqueued_at: datetime | None = None


class Submission(SQLModel, table=True):
    """One act of sending a document: who, when, from where. Re-submissions add rows here only."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    document_id: str = Field(foreign_key="document.id", index=True, max_length=32)
    filename: str | None = Field(default=None, max_length=512)
    source_type: str = Field(default=SourceType.OTHER.value, max_length=32)
    source_url: str | None = Field(default=None, max_length=2048)
    language: str | None = Field(default=None, max_length=16)
    submitter_ref: str | None = Field(default=None, max_length=256)
    api_key_id: str | None = Field(default=None, index=True, max_length=32)
    received_at: datetime = Field(default_factory=utcnow, index=True)


class AnalysisRecord(SQLModel, table=True):
    """A stored analysis (the contract object) with the versions that produced it. Append-only."""

    __tablename__ = "analysis"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    document_id: str = Field(foreign_key="document.id", index=True, max_length=32)
    pipeline_version: str = Field(max_length=128)
    model_versions: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    result: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, index=True)


class AuditEvent(SQLModel, table=True):
    """Append-only record of every action on a document, hash-chained (service.audit).

    The chain covers `details_digest`, not `details` itself, so a deletion on request can scrub the details
    of a document's earlier events (they may hold names or filenames) while the chain still verifies.
    """

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(default="system", max_length=256)
    action: str = Field(max_length=64, index=True)
    document_id: str | None = Field(default=None, index=True, max_length=32)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    details_digest: str | None = Field(default=None, max_length=64)
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)


class DocumentTag(SQLModel, table=True):
    """Facets of the latest analysis (present indicators, commodity ids, production countries) for queue filters;
    rewritten with each analysis, because they are derived from it."""

    __tablename__ = "document_tag"

    id: int | None = Field(default=None, primary_key=True)
    document_id: str = Field(foreign_key="document.id", index=True, max_length=32)
    kind: str = Field(max_length=16, index=True)
    value: str = Field(max_length=128, index=True)


class ReviewClaim(SQLModel, table=True):
    """A reviewer's hold on a document; expires so an abandoned claim returns the document to the queue."""

    __tablename__ = "review_claim"

    document_id: str = Field(foreign_key="document.id", primary_key=True, max_length=32)
    reviewer: str = Field(max_length=256)
    claimed_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)


class Decision(SQLModel, table=True):
    """A reviewer's decision on a document. Its own row: it never overwrites the machine's analysis."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    document_id: str = Field(foreign_key="document.id", index=True, max_length=32)
    analysis_id: str | None = Field(default=None, foreign_key="analysis.id", max_length=32)
    reviewer: str = Field(max_length=256, index=True)
    action: str = Field(max_length=16)
    tier: str | None = Field(default=None, max_length=16)
    indicators: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    entities: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, index=True)


class BatchStatus(StrEnum):
    EXPANDING = "expanding"
    EXPANDED = "expanded"
    FAILED = "failed"


class Batch(SQLModel, table=True):
    """An upload of many documents (a zip, a JSONL file or a folder from the CLI).

    The archive's bytes are stored before it is unpacked, so a crash mid-way can resume from the stored copy;
    members already unpacked are recognised by name and not stored twice.
    """

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    name: str | None = Field(default=None, max_length=512)
    kind: str = Field(max_length=16, description="zip, jsonl or folder")
    status: str = Field(default=BatchStatus.EXPANDING.value, index=True, max_length=16)
    archive_sha256: str | None = Field(default=None, foreign_key="blob.sha256", max_length=64)
    source_type: str = Field(default=SourceType.OTHER.value, max_length=32)
    total: int = 0
    actor: str = Field(default="system", max_length=256)
    failure_message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)


class BatchItem(SQLModel, table=True):
    """One member of a batch; `document_id` is empty when the member itself could not be read."""

    __tablename__ = "batch_item"

    __table_args__ = (UniqueConstraint("batch_id", "member"),)

    id: int | None = Field(default=None, primary_key=True)
    batch_id: str = Field(foreign_key="batch.id", index=True, max_length=32)
    member: str = Field(max_length=512)
    document_id: str | None = Field(default=None, foreign_key="document.id", index=True, max_length=32)
    error_code: str | None = Field(default=None, max_length=64)
    error_message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class CaseStatus(StrEnum):
    OPEN = "open"
    MERGED = "merged"


class Case(SQLModel, table=True):
    """Documents about one producer and commodity (or region and commodity), grouped for corroboration."""

    __tablename__ = "case_file"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    title: str = Field(max_length=512)
    status: str = Field(default=CaseStatus.OPEN.value, index=True, max_length=16)
    merged_into: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)


class CaseKey(SQLModel, table=True):
    """A grouping key ("p:<producer>|c:<commodity>") owned by one case; unique so that two workers
    analysing reports of one story at once cannot open two cases for it."""

    __tablename__ = "case_key"

    key: str = Field(primary_key=True, max_length=400)
    case_id: str = Field(foreign_key="case_file.id", index=True, max_length=32)


class CaseMember(SQLModel, table=True):
    """A document's place in a case: one case per document; `assigned_by` says machine or reviewer."""

    __tablename__ = "case_member"

    document_id: str = Field(foreign_key="document.id", primary_key=True, max_length=32)
    case_id: str = Field(foreign_key="case_file.id", index=True, max_length=32)
    assigned_by: str = Field(default="auto", max_length=256)
    added_at: datetime = Field(default_factory=utcnow)


class DocumentEmbedding(SQLModel, table=True):
    """A document's sentence-encoder vector, kept to recognise re-reports of one story across sources."""

    __tablename__ = "document_embedding"

    document_id: str = Field(foreign_key="document.id", primary_key=True, max_length=32)
    model: str = Field(max_length=128)
    vector: list[float] = Field(sa_column=Column(JSON, nullable=False))


class User(SQLModel, table=True):
    """A person who logs in to the web pages. Only an Argon2 hash of the password is kept."""

    __tablename__ = "users"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    name: str = Field(max_length=128, unique=True, index=True)
    role: str = Field(max_length=16)
    password_hash: str = Field(max_length=256)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class ApiKey(SQLModel, table=True):
    """A key for API v1. Only the sha256 of the key is kept: keys are 256-bit random tokens, so a fast hash is
    enough (no dictionary to guess from), and a leaked table does not give working keys."""

    __tablename__ = "api_key"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    name: str = Field(max_length=128)
    role: str = Field(max_length=16)
    key_hash: str = Field(max_length=64)
    created_by: str = Field(default="cli", max_length=256)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class IntakeItem(SQLModel, table=True):
    """One document sent through the public form under a receipt: the form itself, an attachment or later
    evidence. Only the sha256 of the receipt code is kept, so a database leak does not reveal working codes;
    a named submitter's name and contact stay here and never enter the analysed text."""

    __tablename__ = "intake_item"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    receipt_hash: str = Field(max_length=64, index=True)
    document_id: str = Field(foreign_key="document.id", index=True, max_length=32)
    submission_id: str = Field(foreign_key="submission.id", max_length=32)
    kind: str = Field(max_length=16)
    submitter_name: str | None = Field(default=None, max_length=256)
    submitter_contact: str | None = Field(default=None, max_length=512)
    language: str | None = Field(default=None, max_length=16)
    created_at: datetime = Field(default_factory=utcnow, index=True)
