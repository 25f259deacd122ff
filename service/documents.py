"""Domain functions for documents: submit, process, retry, read. Routes and CLI commands call these.

The rule that nothing is lost lives here: bytes are committed before any parsing, processing is claimed with
an atomic status change so two workers never analyse one document, and every failure leaves a visible,
retryable state with a stable code.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from service.audit import audit
from service.cases import assign_case, store_embedding
from service.config import Settings
from service.contract import Analysis
from service.db.engine import session_scope
from service.db.models import (
    AnalysisRecord,
    AuditEvent,
    Blob,
    Document,
    DocumentStatus,
    SourceType,
    Submission,
    utcnow,
)
from service.errors import InvalidStateError, NotFoundError
from service.ingest import ExtractionLimits, IngestError, extract_text
from service.ingest.ocr import OcrSettings
from service.nlp.pipeline import Pipeline
from service.nlp.similarity import DocumentEmbedder
from service.review_facets import record_facets

log = logging.getLogger(__name__)

PIPELINE_ERROR = "pipeline_error"


@dataclass(frozen=True)
class SubmissionMeta:
    """What a submitter tells us about a document besides its bytes."""

    filename: str | None = None
    source_type: SourceType = SourceType.OTHER
    source_url: str | None = None
    language: str | None = None
    submitter_ref: str | None = None
    api_key_id: str | None = None


@dataclass(frozen=True)
class SubmitResult:
    document: Document
    submission: Submission
    created: bool


def limits_from(settings: Settings) -> ExtractionLimits:
    return ExtractionLimits(
        max_bytes=settings.max_upload_bytes,
        max_pdf_pages=settings.max_pdf_pages,
        max_text_chars=settings.max_text_chars,
        max_email_depth=settings.max_email_depth,
        ocr=OcrSettings(
            languages=settings.ocr_languages,
            han_languages=settings.ocr_han_languages,
            max_pages=settings.max_ocr_pages,
            max_pixels=settings.max_ocr_pixels,
            page_timeout_seconds=settings.ocr_page_timeout_seconds,
            tesseract_cmd=settings.tesseract_cmd,
        ),
    )


def submit_document(
    engine: Engine, content: bytes, meta: SubmissionMeta, actor: str = "anonymous"
) -> SubmitResult:
    """Store the bytes and a submission; a new content is queued for processing, a known one is reused."""
    for attempt in content_race_retry():
        with attempt, session_scope(engine) as session:
            return submit_in_session(session, content, meta, actor)
    raise AssertionError("unreachable: the retry re-raises")


def content_race_retry() -> Retrying:
    """Blobs and documents are keyed by content hash: when two requests store the same bytes at once, the
    loser's insert fails on the unique key. Its second attempt finds the winner's rows and reuses them."""
    return Retrying(retry=retry_if_exception_type(IntegrityError), stop=stop_after_attempt(2), reraise=True)


def submit_in_session(session: Session, content: bytes, meta: SubmissionMeta, actor: str) -> SubmitResult:
    """`submit_document` inside a caller's transaction (a batch stores a member and its place in the batch
    together, so a crash never leaves one without the other)."""
    digest = hashlib.sha256(content).hexdigest()
    document = session.exec(select(Document).where(Document.sha256 == digest)).first()
    created = document is None
    if document is None:
        if session.get(Blob, digest) is None:
            session.add(Blob(sha256=digest, size=len(content), content=content))
        document = Document(
            sha256=digest,
            filename=meta.filename,
            source_type=meta.source_type.value,
            language=meta.language,
            status=DocumentStatus.QUEUED.value,
        )
        session.add(document)
        session.flush()
    submission = Submission(
        document_id=document.id,
        filename=meta.filename,
        source_type=meta.source_type.value,
        source_url=meta.source_url,
        language=meta.language,
        submitter_ref=meta.submitter_ref,
        api_key_id=meta.api_key_id,
    )
    session.add(submission)
    audit(
        session,
        "submitted" if created else "resubmitted",
        document.id,
        actor,
        submission_id=submission.id,
        size=len(content),
        filename=meta.filename,
    )
    return SubmitResult(document=document, submission=submission, created=created)


def claim_document(engine: Engine, document_id: str, worker: str = "local") -> bool:
    """Atomically move a queued document to processing; False if someone else has it (or it is done)."""
    with session_scope(engine) as session:
        result = session.execute(
            update(Document)
            .where(col(Document.id) == document_id, col(Document.status) == DocumentStatus.QUEUED.value)
            .values(
                status=DocumentStatus.PROCESSING.value,
                claimed_at=utcnow(),
                claimed_by=worker,
                attempts=Document.attempts + 1,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def release_claim(engine: Engine, document_id: str, worker: str) -> bool:
    """Give a document this worker claimed back to the queue (after a transient failure)."""
    with session_scope(engine) as session:
        result = session.execute(
            update(Document)
            .where(
                col(Document.id) == document_id,
                col(Document.status) == DocumentStatus.PROCESSING.value,
                col(Document.claimed_by) == worker,
            )
            .values(status=DocumentStatus.QUEUED.value, claimed_at=None, claimed_by=None)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def next_queued(engine: Engine, limit: int = 8) -> list[str]:
    with Session(engine) as session:
        rows = session.exec(
            select(Document.id)
            .where(Document.status == DocumentStatus.QUEUED.value)
            .order_by(col(Document.created_at))
            .limit(limit)
        ).all()
        return list(rows)


def requeue_stale(engine: Engine, older_than: timedelta, abandoned_by: Iterable[str] = ()) -> int:
    """Give documents whose worker died mid-processing back to the queue: those claimed longer ago than
    the lease, and at once those claimed by workers known to be dead (`abandoned_by`)."""
    cutoff = datetime.now(UTC) - older_than
    dead = list(abandoned_by)
    stale = col(Document.claimed_at) < cutoff
    condition = or_(stale, col(Document.claimed_by).in_(dead)) if dead else stale
    with session_scope(engine) as session:
        result = session.execute(
            update(Document)
            .where(col(Document.status) == DocumentStatus.PROCESSING.value, condition)
            .values(status=DocumentStatus.QUEUED.value, claimed_at=None, claimed_by=None)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def processing_claimants(engine: Engine) -> set[str]:
    """Who holds documents in processing now (to find claims left by dead workers)."""
    with Session(engine) as session:
        rows = session.exec(
            select(Document.claimed_by).where(Document.status == DocumentStatus.PROCESSING.value).distinct()
        ).all()
        return {row for row in rows if row}


def mark_enqueued(engine: Engine, document_ids: Sequence[str]) -> None:
    with session_scope(engine) as session:
        session.execute(
            update(Document).where(col(Document.id).in_(list(document_ids))).values(enqueued_at=utcnow())
        )


def due_for_enqueue(engine: Engine, older_than: timedelta, limit: int = 500) -> list[str]:
    """Queued documents whose job message may be lost: never sent, or sent longer ago than `older_than`."""
    cutoff = datetime.now(UTC) - older_than
    with Session(engine) as session:
        rows = session.exec(
            select(Document.id)
            .where(
                Document.status == DocumentStatus.QUEUED.value,
                or_(col(Document.enqueued_at).is_(None), col(Document.enqueued_at) < cutoff),
            )
            .order_by(col(Document.created_at))
            .limit(limit)
        ).all()
        return list(rows)


class ClaimLostError(InvalidStateError):
    """The document was taken back from this worker (lease expired) before it finished; its result is
    dropped so that a document is never analysed twice."""


def process_document(
    engine: Engine,
    pipeline: Pipeline,
    settings: Settings,
    document_id: str,
    worker: str | None = None,
    embedder: DocumentEmbedder | None = None,
) -> Document:
    """Extract text and analyse a claimed document; failures become the document's failed state.

    The result is written only if the document is still processing under this worker's claim, in one
    transaction with its analysis, queue facets and case membership: all of it lands, or none of it.
    """
    with Session(engine) as session:
        document = session.get(Document, document_id)
        if document is None:
            raise NotFoundError(document_id)
        blob = session.get(Blob, document.sha256)
        assert blob is not None, "a document always has its blob"
        content, filename, language = blob.content, document.filename, document.language
    try:
        extracted = extract_text(content, filename, limits_from(settings))
    except IngestError as exc:
        return _mark_failed(engine, document_id, exc.code.value, exc.message, worker)
    try:
        analysis = pipeline.analyze(
            document_id,
            extracted.text,
            language,
            shipments=extracted.shipments,
            ocr_pages=extracted.ocr_pages,
        )
        vector = embedder.embed(extracted.text) if embedder is not None else None
    except Exception as exc:  # a pipeline bug must leave a retryable failed document, not a stuck one
        log.exception("pipeline failed on %s", document_id)
        return _mark_failed(
            engine, document_id, PIPELINE_ERROR, f"analysis failed: {exc.__class__.__name__}", worker
        )
    with session_scope(engine) as session:
        document = _owned(session, document_id, worker)
        document.text = extracted.text
        document.media_type = extracted.media_type
        document.pages = extracted.pages
        document.warnings = list(extracted.warnings)
        document.language = analysis.language
        document.status = DocumentStatus.DONE.value
        document.failure_code = None
        document.failure_message = None
        document.claimed_by = None
        document.tier = analysis.assessment.tier
        document.wro_score = analysis.assessment.score
        document.updated_at = utcnow()
        record_facets(session, document, analysis)
        session.add(
            AnalysisRecord(
                document_id=document_id,
                pipeline_version=analysis.versions.pipeline,
                model_versions=dict(analysis.versions.models),
                result=analysis.model_dump(mode="json"),
            )
        )
        audit(
            session, "analysed", document_id, tier=analysis.assessment.tier, score=analysis.assessment.score
        )
        if vector is not None and embedder is not None:
            store_embedding(session, document_id, embedder.version, vector)
        if settings.cases_enabled:
            assign_case(session, document, analysis, vector, settings.near_duplicate_similarity)
        return document


def _owned(session: Session, document_id: str, worker: str | None) -> Document:
    """The document, locked for this transaction, if it is still in processing under `worker`'s claim."""
    document = session.exec(select(Document).where(Document.id == document_id).with_for_update()).first()
    if document is None:
        raise NotFoundError(document_id)
    if document.status != DocumentStatus.PROCESSING.value or (
        worker is not None and document.claimed_by != worker
    ):
        raise ClaimLostError(f"document {document_id} is no longer claimed by {worker}")
    return document


def _mark_failed(
    engine: Engine, document_id: str, code: str, message: str, worker: str | None = None
) -> Document:
    with session_scope(engine) as session:
        document = _owned(session, document_id, worker)
        document.status = DocumentStatus.FAILED.value
        document.failure_code = code
        document.failure_message = message
        document.claimed_by = None
        document.updated_at = utcnow()
        audit(session, "failed", document_id, code=code, message=message)
        return document


def retry_document(engine: Engine, document_id: str, actor: str = "system") -> Document:
    """Put a failed document back in the queue (e.g. after raising a limit or fixing a bug)."""
    with session_scope(engine) as session:
        document = session.get(Document, document_id)
        if document is None:
            raise NotFoundError(document_id)
        if document.status != DocumentStatus.FAILED.value:
            raise InvalidStateError(f"only failed documents can be retried; this one is {document.status}")
        document.status = DocumentStatus.QUEUED.value
        document.updated_at = utcnow()
        audit(session, "retry_requested", document_id, actor)
        return document


def get_document(engine: Engine, document_id: str) -> Document:
    with Session(engine) as session:
        document = session.get(Document, document_id)
        if document is None:
            raise NotFoundError(document_id)
        return document


def submitted_with_key(engine: Engine, document_id: str, key_id: str) -> bool:
    """Whether this API key sent the document (any of its submissions): what a submitter key may read."""
    with Session(engine) as session:
        found = session.exec(
            select(Submission.id).where(
                Submission.document_id == document_id, Submission.api_key_id == key_id
            )
        ).first()
        return found is not None


def get_submissions(engine: Engine, document_id: str) -> Sequence[Submission]:
    with Session(engine) as session:
        return session.exec(
            select(Submission)
            .where(Submission.document_id == document_id)
            .order_by(col(Submission.received_at))
        ).all()


def latest_analysis(engine: Engine, document_id: str) -> AnalysisRecord | None:
    with Session(engine) as session:
        return session.exec(
            select(AnalysisRecord)
            .where(AnalysisRecord.document_id == document_id)
            .order_by(col(AnalysisRecord.created_at).desc())
        ).first()


def analysis_of(record: AnalysisRecord) -> Analysis:
    return Analysis.model_validate(record.result)


@dataclass(frozen=True)
class DocumentFilter:
    status: DocumentStatus | None = None
    source_type: SourceType | None = None
    tier: str | None = None


def list_documents(
    engine: Engine, filters: DocumentFilter, limit: int, offset: int
) -> tuple[int, list[Document]]:
    with Session(engine) as session:
        query = select(Document)
        count_query = select(func.count()).select_from(Document)
        conditions = []
        if filters.status is not None:
            conditions.append(col(Document.status) == filters.status.value)
        if filters.source_type is not None:
            conditions.append(col(Document.source_type) == filters.source_type.value)
        if filters.tier is not None:
            conditions.append(col(Document.tier) == filters.tier)
        for condition in conditions:
            query = query.where(condition)
            count_query = count_query.where(condition)
        total = int(session.exec(count_query).one())
        rows = session.exec(query.order_by(col(Document.created_at).desc()).offset(offset).limit(limit)).all()
        return total, list(rows)


def audit_trail(engine: Engine, document_id: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(AuditEvent).where(AuditEvent.document_id == document_id).order_by(col(AuditEvent.id))
            ).all()
        )
