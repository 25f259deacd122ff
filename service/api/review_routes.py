"""Review-queue routes: the queue, claims, decisions and agreement. Thin: validate, call service.review."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from service.api.routes import API, MAX_OFFSET, State
from service.api.schemas import DocumentSummary, ErrorOut
from service.api.security import Lead, Reviewer
from service.auth import Principal, Role
from service.contract import INDICATOR_IDS
from service.db.models import Decision
from service.documents import audit_trail, get_document
from service.review import (
    DEFAULT_CLAIM_MINUTES,
    ClaimConflictError,
    QueueFilter,
    agreement,
    claim,
    decide,
    decisions_for,
    first_two_reviews,
    queue,
    release,
)

router = APIRouter(tags=["review"])
TierName = Literal["insufficient", "reasonable", "conclusive"]


class QueueItem(DocumentSummary):
    priority: float | None
    uncertainty: float | None


class QueuePage(BaseModel):
    order: str
    items: list[QueueItem]


class ClaimRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewer: str = Field(min_length=1, max_length=256)
    minutes: int = Field(default=DEFAULT_CLAIM_MINUTES, ge=1, le=24 * 60)


class ClaimOut(BaseModel):
    document_id: str
    reviewer: str
    expires_at: datetime


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewer: str = Field(min_length=1, max_length=256)
    action: Literal["confirm", "correct", "dismiss"]
    tier: TierName | None = None
    indicators: list[str] | None = Field(
        default=None, description="the indicators the reviewer finds present"
    )
    entities: dict[str, list[str]] | None = Field(
        default=None, description="corrected producers/commodities/..."
    )
    comment: str | None = Field(default=None, max_length=10_000)


class DecisionOut(BaseModel):
    id: str
    document_id: str
    analysis_id: str | None
    reviewer: str
    action: str
    tier: str | None
    indicators: list[str] | None
    entities: dict[str, list[str]] | None
    comment: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: Decision) -> DecisionOut:
        return cls.model_validate(row, from_attributes=True)


class DocumentDecisions(BaseModel):
    decisions: list[DecisionOut]
    reviewers_agree_on_tier: bool | None = Field(description="null until two reviewers have decided")


class AgreementOut(BaseModel):
    documents: int
    tier_agreement: float | None
    tier_kappa: float | None


def _acting_as(caller: Principal, reviewer: str) -> str:
    """Reviewers act under their own key's name; leads and admins may record for a named reviewer (e.g. a
    decision taken on paper), and the decision's audit row also names the key that recorded it."""
    if caller.role is Role.REVIEWER and reviewer != caller.name:
        raise HTTPException(
            status_code=403,
            detail={"code": "forbidden", "message": "a reviewer claims and decides under their own name"},
        )
    return reviewer


def _conflict(exc: ClaimConflictError) -> HTTPException:
    return HTTPException(status_code=409, detail={"code": "claimed", "message": str(exc)})


@router.get(f"{API}/queue", response_model=QueuePage)
def get_queue(
    state: State,
    _caller: Reviewer,
    order: Annotated[Literal["priority", "uncertain"], Query()] = "priority",
    tier: TierName | None = None,
    indicator: Annotated[str | None, Query(max_length=64)] = None,
    commodity: Annotated[str | None, Query(max_length=128)] = None,
    country: Annotated[str | None, Query(min_length=2, max_length=2)] = None,
    source_type: Annotated[str | None, Query(max_length=32)] = None,
    include_decided: bool = False,
    language: Annotated[
        str | None, Query(min_length=2, max_length=16, description="ISO 639-1 code, e.g. 'es' or 'ms'")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> QueuePage:
    if indicator is not None and indicator not in INDICATOR_IDS:
        raise HTTPException(
            status_code=422, detail={"code": "invalid_indicator", "message": "unknown indicator id"}
        )
    filters = QueueFilter(
        tier,
        indicator,
        commodity,
        country.upper() if country else None,
        source_type,
        include_decided,
        language.lower() if language else None,
    )
    rows = queue(state.engine, filters, order, limit, offset)
    items = [
        QueueItem(**DocumentSummary.of(r).model_dump(), priority=r.priority, uncertainty=r.uncertainty)
        for r in rows
    ]
    return QueuePage(order=order, items=items)


@router.post(
    f"{API}/queue/{{document_id}}/claim",
    response_model=ClaimOut,
    responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
)
def claim_document_for_review(
    document_id: str, body: ClaimRequest, state: State, caller: Reviewer
) -> ClaimOut:
    try:
        held = claim(state.engine, document_id, _acting_as(caller, body.reviewer), body.minutes)
    except ClaimConflictError as exc:
        raise _conflict(exc) from exc
    return ClaimOut(document_id=held.document_id, reviewer=held.reviewer, expires_at=held.expires_at)


@router.delete(
    f"{API}/queue/{{document_id}}/claim",
    status_code=204,
    responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
)
def release_claim(
    document_id: str, reviewer: Annotated[str, Query(min_length=1)], state: State, caller: Reviewer
) -> None:
    release(state.engine, document_id, _acting_as(caller, reviewer))


@router.post(
    f"{API}/documents/{{document_id}}/decisions",
    response_model=DecisionOut,
    status_code=201,
    responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
)
def post_decision(document_id: str, body: DecisionRequest, state: State, caller: Reviewer) -> DecisionOut:
    unknown = sorted(set(body.indicators or []) - set(INDICATOR_IDS))
    if unknown:
        raise HTTPException(
            status_code=422, detail={"code": "invalid_indicator", "message": f"unknown: {unknown}"}
        )
    try:
        row = decide(
            state.engine,
            document_id,
            _acting_as(caller, body.reviewer),
            body.action,
            body.tier,
            body.indicators,
            body.entities,
            body.comment,
            recorded_by=caller.actor,
        )
    except ClaimConflictError as exc:
        raise _conflict(exc) from exc
    return DecisionOut.of(row)


@router.get(
    f"{API}/documents/{{document_id}}/decisions",
    response_model=DocumentDecisions,
    responses={404: {"model": ErrorOut}},
)
def get_decisions(document_id: str, state: State, _caller: Reviewer) -> DocumentDecisions:
    rows = decisions_for(state.engine, document_id)
    pair = first_two_reviews(rows)
    return DocumentDecisions(
        decisions=[DecisionOut.of(r) for r in rows],
        reviewers_agree_on_tier=(pair[0].tier == pair[1].tier) if pair else None,
    )


class AuditEventOut(BaseModel):
    at: datetime
    actor: str
    action: str
    details: dict[str, object]


@router.get(
    f"{API}/documents/{{document_id}}/audit",
    response_model=list[AuditEventOut],
    responses={404: {"model": ErrorOut}},
)
def get_audit(document_id: str, state: State, _caller: Lead) -> list[AuditEventOut]:
    get_document(state.engine, document_id)
    return [
        AuditEventOut(at=e.at, actor=e.actor, action=e.action, details=dict(e.details))
        for e in audit_trail(state.engine, document_id)
    ]


@router.get(f"{API}/review/agreement", response_model=AgreementOut)
def get_agreement(state: State, _caller: Lead) -> AgreementOut:
    result = agreement(state.engine)
    return AgreementOut(
        documents=result.documents, tier_agreement=result.tier_agreement, tier_kappa=result.tier_kappa
    )
