"""Batch, case and learning routes. Thin: validate, call service.batches / service.cases / service.learning."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile

from service.api.routes import API, MAX_OFFSET, State, api_error
from service.api.schemas import ErrorOut
from service.api.security import Lead, Reviewer, Submitter
from service.auth import Role
from service.batches import (
    BatchError,
    BatchProgress,
    batch_document_ids,
    batch_owner,
    batch_progress,
    create_batch,
    list_batches,
)
from service.cases import CaseDetail, CaseSummary, case_detail, list_cases, merge_cases, split_case
from service.db.models import SourceType
from service.errors import NotFoundError
from service.learning import export_decisions

router = APIRouter()

_BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "zip or JSONL"},
                        "source_type": {"type": "string", "enum": [s.value for s in SourceType]},
                    },
                }
            }
        },
    }
}


class BatchPage(BaseModel):
    items: list[BatchProgress]


@router.post(
    f"{API}/batches",
    status_code=201,
    response_model=BatchProgress,
    openapi_extra=_BATCH_BODY,
    responses={413: {"model": ErrorOut}, 415: {"model": ErrorOut}, 422: {"model": ErrorOut}},
    tags=["batches"],
    summary="Upload a zip archive or a JSONL file ({id, text} per line) of documents",
)
async def submit_batch(request: Request, state: State, caller: Submitter) -> BatchProgress:
    limit = state.settings.max_batch_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise api_error(413, "too_large", f"the batch is over the limit of {limit} bytes")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise api_error(415, "unsupported_media_type", "send multipart/form-data with the batch in 'file'")
    try:
        form = await request.form(max_files=1, max_fields=5, max_part_size=limit)
    except Exception as exc:  # starlette raises several types for malformed multipart bodies
        raise api_error(400, "invalid_multipart", "the multipart body could not be parsed") from exc
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise api_error(422, "missing_file", "send the batch in a form field named 'file'")
        content = await upload.read(limit + 1)
        filename = upload.filename
        source = str(form.get("source_type") or SourceType.OTHER.value)
    finally:
        await form.close()
    if len(content) > limit:
        raise api_error(413, "too_large", f"the batch is over the limit of {limit} bytes")
    try:
        source_type = SourceType(source)
    except ValueError as exc:
        raise api_error(422, "invalid_source_type", "unknown source_type") from exc
    try:
        batch = await run_in_threadpool(
            create_batch, state.engine, content, filename, source_type, state.settings, caller.actor
        )
    except BatchError as exc:
        raise api_error(422, exc.code, exc.message) from exc
    if state.dispatcher is not None:
        state.dispatcher.submitted(await run_in_threadpool(batch_document_ids, state.engine, batch.id))
    return await run_in_threadpool(batch_progress, state.engine, batch.id)


@router.get(f"{API}/batches", response_model=BatchPage, tags=["batches"])
def get_batches(
    state: State,
    _caller: Reviewer,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> BatchPage:
    return BatchPage(
        items=[batch_progress(state.engine, b.id) for b in list_batches(state.engine, limit, offset)]
    )


@router.get(
    f"{API}/batches/{{batch_id}}",
    response_model=BatchProgress,
    responses={404: {"model": ErrorOut}},
    tags=["batches"],
)
def get_batch(batch_id: str, state: State, caller: Submitter) -> BatchProgress:
    if not caller.role.includes(Role.REVIEWER) and batch_owner(state.engine, batch_id) != caller.actor:
        raise NotFoundError(batch_id)
    return batch_progress(state.engine, batch_id)


class CasePage(BaseModel):
    items: list[CaseSummary]


class MergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewer: str = Field(min_length=1, max_length=256)
    case_ids: list[str] = Field(min_length=1, max_length=100, description="cases to fold into this one")


class SplitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewer: str = Field(min_length=1, max_length=256)
    document_ids: list[str] = Field(min_length=1, max_length=1000, description="documents to move out")


@router.get(f"{API}/cases", response_model=CasePage, tags=["cases"])
def get_cases(
    state: State,
    _caller: Reviewer,
    include_merged: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> CasePage:
    return CasePage(items=list_cases(state.engine, limit, offset, include_merged))


@router.get(
    f"{API}/cases/{{case_id}}",
    response_model=CaseDetail,
    responses={404: {"model": ErrorOut}},
    tags=["cases"],
)
def get_case(case_id: str, state: State, _caller: Reviewer) -> CaseDetail:
    return case_detail(state.engine, case_id, state.settings.near_duplicate_similarity)


@router.post(
    f"{API}/cases/{{case_id}}/merge",
    response_model=CaseDetail,
    responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
    tags=["cases"],
)
def merge(case_id: str, body: MergeRequest, state: State, _caller: Reviewer) -> CaseDetail:
    merge_cases(state.engine, case_id, body.case_ids, body.reviewer)
    return case_detail(state.engine, case_id, state.settings.near_duplicate_similarity)


@router.post(
    f"{API}/cases/{{case_id}}/split",
    response_model=CaseDetail,
    status_code=201,
    responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
    tags=["cases"],
    summary="Move documents out of a case into a new one; returns the new case",
)
def split(case_id: str, body: SplitRequest, state: State, _caller: Reviewer) -> CaseDetail:
    new_id = split_case(state.engine, case_id, body.document_ids, body.reviewer)
    return case_detail(state.engine, new_id, state.settings.near_duplicate_similarity)


@router.get(
    f"{API}/decisions/export",
    response_class=StreamingResponse,
    tags=["learning"],
    summary="Reviewers' decisions as corpus-format JSONL, for retraining; names of people withheld",
    responses={200: {"content": {"application/x-ndjson": {}}}, 503: {"model": ErrorOut}},
)
def export(
    state: State,
    _caller: Lead,
    redact: Annotated[bool, Query(description="withhold names of workers and witnesses")] = True,
) -> StreamingResponse:
    people = None
    if redact:
        state.wait_ready(timeout=state.settings.wait_timeout_seconds)
        people = state.people
        if people is None:
            raise api_error(503, "not_ready", state.load_error or "models are still loading")

    def lines() -> Iterator[str]:
        for record in export_decisions(state.engine, people):
            yield json.dumps(record, ensure_ascii=False) + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")
