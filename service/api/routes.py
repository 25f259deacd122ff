"""API v1 routes. Thin: validate, authorize, call a domain function, return a declared response model.

Every /api/v1 route names the lowest role it admits (service.api.security); README "Security" has the table.
A submitter key reads only the status of documents it sent, and gets no text or analysis at all, so the
names of workers and witnesses never reach a submitter through the API."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from service.api.app import AppState
from service.api.schemas import (
    AnalyzeRequest,
    DocumentOut,
    DocumentPage,
    DocumentSummary,
    ErrorOut,
    HealthOut,
    StatusOut,
    SubmissionOut,
    SubmitAccepted,
    TextOut,
    TextSubmission,
)
from service.api.security import Lead, Reviewer, Submitter
from service.auth import Role
from service.contract import Analysis
from service.db.models import DocumentStatus, SourceType
from service.deletion import delete_document
from service.documents import (
    DocumentFilter,
    SubmissionMeta,
    analysis_of,
    get_document,
    get_submissions,
    latest_analysis,
    list_documents,
    retry_document,
    submit_document,
    submitted_with_key,
)
from service.errors import NotFoundError

router = APIRouter()
API = "/api/v1"
# Larger offsets overflow the databases' 64-bit integers (found by schemathesis); no real page is that far.
MAX_OFFSET = 1_000_000_000


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.triage
    return state


State = Annotated[AppState, Depends(app_state)]

_MULTIPART_AND_JSON_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "source_type": {"type": "string", "enum": [s.value for s in SourceType]},
                        "source_url": {"type": "string"},
                        "language": {"type": "string"},
                        "submitter_ref": {"type": "string"},
                    },
                }
            },
            "application/json": {"schema": {"$ref": "#/components/schemas/TextSubmission"}},
        },
    }
}


def api_error(status: int, code: str, message: str) -> HTTPException:
    return HTTPException(status_code=status, detail={"code": code, "message": message})


async def _read_submission(request: Request, state: AppState, key_id: str) -> tuple[bytes, SubmissionMeta]:
    limit = state.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise api_error(413, "too_large", f"the upload is over the limit of {limit} bytes")
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            body = TextSubmission.model_validate_json(await request.body())
        except ValidationError as exc:
            raise api_error(422, "invalid_request", exc.errors(include_url=False)[0]["msg"]) from exc
        data = body.text.encode("utf-8")
        if len(data) > limit:
            raise api_error(413, "too_large", f"the text is over the limit of {limit} bytes")
        meta = SubmissionMeta(
            filename=body.title,
            source_type=body.source_type,
            source_url=body.source_url,
            language=body.language,
            submitter_ref=body.submitter_ref,
            api_key_id=key_id,
        )
        return data, meta
    if content_type.startswith("multipart/form-data"):
        try:
            form = await request.form(max_files=1, max_fields=20)
        except Exception as exc:  # starlette raises several types for malformed multipart bodies
            raise api_error(400, "invalid_multipart", "the multipart body could not be parsed") from exc
        try:
            return await _read_form(form, limit, key_id)
        finally:
            await form.close()
    raise api_error(415, "unsupported_media_type", "send multipart/form-data with a file, or JSON with text")


async def _read_form(form: FormData, limit: int, key_id: str) -> tuple[bytes, SubmissionMeta]:
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise api_error(422, "missing_file", "send the document in a form field named 'file'")
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise api_error(413, "too_large", f"the upload is over the limit of {limit} bytes")
    source = str(form.get("source_type") or SourceType.OTHER.value)
    try:
        source_type = SourceType(source)
    except ValueError as exc:
        allowed = ", ".join(s.value for s in SourceType)
        raise api_error(422, "invalid_source_type", f"source_type must be one of {allowed}") from exc

    def field(name: str) -> str | None:
        value = form.get(name)
        return str(value)[:2048] if isinstance(value, str) and value else None

    meta = SubmissionMeta(
        filename=(upload.filename or None),
        source_type=source_type,
        source_url=field("source_url"),
        language=field("language"),
        submitter_ref=field("submitter_ref"),
        api_key_id=key_id,
    )
    return data, meta


@router.post(
    f"{API}/documents",
    status_code=202,
    response_model=SubmitAccepted | Analysis,
    openapi_extra=_MULTIPART_AND_JSON_BODY,
    responses={
        200: {"model": Analysis, "description": "with ?wait=true: the finished analysis"},
        403: {"model": ErrorOut, "description": "with ?wait=true: a submitter key (it may poll status only)"},
        413: {"model": ErrorOut},
        415: {"model": ErrorOut},
        422: {"model": ErrorOut, "description": "invalid request, or with ?wait=true a document that failed"},
        504: {"model": ErrorOut},
    },
    summary="Submit a document (multipart file or JSON text)",
)
async def submit(
    request: Request,
    response: Response,
    state: State,
    caller: Submitter,
    wait: Annotated[
        bool, Query(description="wait for the analysis and return it (reviewers and up)")
    ] = False,
) -> SubmitAccepted | Analysis:
    if wait and not caller.role.includes(Role.REVIEWER):
        raise api_error(403, "forbidden", "a submitter key may submit and poll the status, not read analyses")
    data, meta = await _read_submission(request, state, caller.key_id)
    result = await run_in_threadpool(submit_document, state.engine, data, meta, caller.actor)
    document = result.document
    if state.dispatcher is not None and document.status == DocumentStatus.QUEUED.value:
        state.dispatcher.submitted([document.id])
    if not wait:
        return SubmitAccepted(
            id=document.id,
            submission_id=result.submission.id,
            status=DocumentStatus(document.status),
            duplicate=not result.created,
            status_url=f"{API}/documents/{document.id}/status",
            document_url=f"{API}/documents/{document.id}",
        )
    deadline = time.monotonic() + state.settings.wait_timeout_seconds
    while time.monotonic() < deadline:
        current = await run_in_threadpool(get_document, state.engine, document.id)
        if current.status == DocumentStatus.DONE.value:
            record = await run_in_threadpool(latest_analysis, state.engine, document.id)
            if record is not None:
                response.status_code = 200
                return analysis_of(record)
        if current.status == DocumentStatus.FAILED.value:
            raise api_error(
                422,
                current.failure_code or "failed",
                f"document {document.id} failed: {current.failure_message}",
            )
        await asyncio.sleep(0.1)
    raise api_error(
        504, "timeout", f"document {document.id} is stored but not yet analysed; poll its status URL"
    )


@router.get(f"{API}/documents", response_model=DocumentPage)
def list_(
    state: State,
    _caller: Reviewer,
    status: DocumentStatus | None = None,
    source_type: SourceType | None = None,
    tier: Annotated[str | None, Query(pattern="^(insufficient|reasonable|conclusive)$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> DocumentPage:
    total, rows = list_documents(state.engine, DocumentFilter(status, source_type, tier), limit, offset)
    return DocumentPage(total=total, limit=limit, offset=offset, items=[DocumentSummary.of(r) for r in rows])


@router.get(
    f"{API}/documents/{{document_id}}", response_model=DocumentOut, responses={404: {"model": ErrorOut}}
)
def get_one(document_id: str, state: State, _caller: Reviewer) -> DocumentOut:
    document = get_document(state.engine, document_id)
    record = latest_analysis(state.engine, document_id)
    base = f"{API}/documents/{document_id}"
    return DocumentOut(
        **DocumentSummary.of(document).model_dump(),
        failure_message=document.failure_message,
        pages=document.pages,
        warnings=list(document.warnings),
        submissions=[SubmissionOut.of(s) for s in get_submissions(state.engine, document_id)],
        links={"status": f"{base}/status", "text": f"{base}/text", "analysis": f"{base}/analysis"},
        analysis=analysis_of(record) if record else None,
    )


@router.get(
    f"{API}/documents/{{document_id}}/status", response_model=StatusOut, responses={404: {"model": ErrorOut}}
)
def status_of(document_id: str, state: State, caller: Submitter) -> StatusOut:
    # Another sender's document answers as unknown, so a submitter cannot probe which ids exist.
    if not caller.role.includes(Role.REVIEWER) and not submitted_with_key(
        state.engine, document_id, caller.key_id
    ):
        raise NotFoundError(document_id)
    return StatusOut.of(get_document(state.engine, document_id))


@router.get(
    f"{API}/documents/{{document_id}}/text", response_model=TextOut, responses={404: {"model": ErrorOut}}
)
def text_of(document_id: str, state: State, _caller: Reviewer) -> TextOut:
    document = get_document(state.engine, document_id)
    if document.text is None:
        raise api_error(
            409, "no_text", f"document {document_id} has no extracted text (status {document.status})"
        )
    return TextOut(id=document.id, text=document.text, media_type=document.media_type)


@router.get(
    f"{API}/documents/{{document_id}}/analysis", response_model=Analysis, responses={404: {"model": ErrorOut}}
)
def analysis_for(document_id: str, state: State, _caller: Reviewer) -> Analysis:
    get_document(state.engine, document_id)
    record = latest_analysis(state.engine, document_id)
    if record is None:
        raise api_error(409, "not_analysed", f"document {document_id} has no analysis yet")
    return analysis_of(record)


@router.post(
    f"{API}/documents/{{document_id}}/retry",
    response_model=StatusOut,
    status_code=202,
    responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
)
def retry(document_id: str, state: State, caller: Reviewer) -> StatusOut:
    document = retry_document(state.engine, document_id, actor=caller.actor)
    if state.dispatcher is not None:
        state.dispatcher.submitted([document.id])
    return StatusOut.of(document)


@router.post(
    f"{API}/analyze",
    response_model=Analysis,
    responses={503: {"model": ErrorOut}},
    summary="Analyse text without storing anything",
)
def analyze(body: AnalyzeRequest, state: State, _caller: Reviewer) -> Analysis:
    pipeline = state.wait_ready(timeout=state.settings.wait_timeout_seconds)
    if pipeline is None:
        raise api_error(503, "not_ready", state.load_error or "models are still loading")
    if len(body.text) > state.settings.max_text_chars:
        raise api_error(
            413, "too_large", f"the text is over the limit of {state.settings.max_text_chars} characters"
        )
    return pipeline.analyze(body.id, body.text, body.language)


@router.delete(
    f"{API}/documents/{{document_id}}",
    status_code=204,
    responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}},
    summary="Delete a document and everything derived from it, on request (the audit log keeps the fact)",
)
def delete_(
    document_id: str,
    state: State,
    caller: Lead,
    reason: Annotated[str, Query(pattern="^[a-z][a-z0-9_]{0,31}$", description="a reason code")],
) -> None:
    delete_document(state.engine, document_id, caller.actor, reason)


@router.get("/healthz", response_model=HealthOut)
def healthz() -> HealthOut:
    return HealthOut(status="ok")


@router.get("/readyz", response_model=HealthOut, responses={503: {"model": HealthOut}})
def readyz(state: State, response: Response) -> HealthOut:
    if state.pipeline is None:
        response.status_code = 503
        return HealthOut(status="error" if state.load_error else "loading")
    return HealthOut(status="ready", pipeline=state.pipeline.versions.pipeline)
