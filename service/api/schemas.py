"""Request and response models of API v1 (the analysis object itself is service.contract.Analysis)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from service.contract import Analysis
from service.db.models import Document, DocumentStatus, SourceType, Submission


class TextSubmission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, description="Pasted text of the document")
    title: str | None = Field(default=None, max_length=512)
    source_type: SourceType = SourceType.OTHER
    source_url: str | None = Field(default=None, max_length=2048)
    language: str | None = Field(default=None, max_length=16)
    submitter_ref: str | None = Field(default=None, max_length=256)


class AnalyzeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(default="adhoc", max_length=256)
    text: str = Field(min_length=1)
    language: str | None = Field(default=None, max_length=16)


class SubmissionOut(BaseModel):
    id: str
    filename: str | None
    source_type: str
    source_url: str | None
    language: str | None
    received_at: datetime

    @classmethod
    def of(cls, row: Submission) -> SubmissionOut:
        return cls(
            id=row.id,
            filename=row.filename,
            source_type=row.source_type,
            source_url=row.source_url,
            language=row.language,
            received_at=row.received_at,
        )


class StatusOut(BaseModel):
    id: str
    status: DocumentStatus
    failure_code: str | None = None
    failure_message: str | None = None
    attempts: int
    updated_at: datetime

    @classmethod
    def of(cls, doc: Document) -> StatusOut:
        return cls(
            id=doc.id,
            status=DocumentStatus(doc.status),
            failure_code=doc.failure_code,
            failure_message=doc.failure_message,
            attempts=doc.attempts,
            updated_at=doc.updated_at,
        )


class DocumentSummary(BaseModel):
    id: str
    sha256: str
    filename: str | None
    media_type: str | None
    source_type: str
    language: str | None
    status: DocumentStatus
    failure_code: str | None
    tier: str | None
    wro_score: float | None
    created_at: datetime

    @classmethod
    def of(cls, doc: Document) -> DocumentSummary:
        return cls(
            id=doc.id,
            sha256=doc.sha256,
            filename=doc.filename,
            media_type=doc.media_type,
            source_type=doc.source_type,
            language=doc.language,
            status=DocumentStatus(doc.status),
            failure_code=doc.failure_code,
            tier=doc.tier,
            wro_score=doc.wro_score,
            created_at=doc.created_at,
        )


class DocumentOut(DocumentSummary):
    failure_message: str | None
    pages: int | None
    warnings: list[str]
    submissions: list[SubmissionOut]
    links: dict[str, str]
    analysis: Analysis | None = None


class SubmitAccepted(BaseModel):
    id: str
    submission_id: str
    status: DocumentStatus
    duplicate: bool = Field(description="true when this content was already stored (a re-submission)")
    status_url: str
    document_url: str


class DocumentPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[DocumentSummary]


class TextOut(BaseModel):
    id: str
    text: str
    media_type: str | None


class ErrorOut(BaseModel):
    code: str
    message: str


class HealthOut(BaseModel):
    status: str
    pipeline: str | None = None
