"""The review queue: priority, facets for filters, claims that expire, and reviewers' decisions as their own rows.

Investigators can read only a few documents of the thousands that arrive, so each analysed document gets a
priority from the machine's assessment (how likely the WRO bar is met), the severity of its evidence and whether
its producer is new to enforcement; recency breaks ties. Decisions never overwrite an analysis; where two
reviewers decide one document their agreement is reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import exists
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.audit import audit
from service.db.engine import session_scope
from service.db.models import (
    AnalysisRecord,
    Decision,
    Document,
    DocumentStatus,
    DocumentTag,
    ReviewClaim,
    utcnow,
)
from service.errors import InvalidStateError, NotFoundError
from service.evaluation import cohen_kappa

DEFAULT_CLAIM_MINUTES = 30
ACTIONS = ("confirm", "correct", "dismiss")


class ClaimConflictError(RuntimeError):
    """Another reviewer holds an unexpired claim on the document."""


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes for what was stored as UTC; PostgreSQL returns aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class QueueFilter:
    tier: str | None = None
    indicator: str | None = None
    commodity: str | None = None
    country: str | None = None
    source_type: str | None = None
    include_decided: bool = False
    language: str | None = None


def queue(engine: Engine, filters: QueueFilter, order: str, limit: int, offset: int) -> list[Document]:
    """Analysed documents awaiting review, most important (or, with order='uncertain', least certain) first.
    Documents under another reviewer's unexpired claim are left out."""
    now = datetime.now(UTC)
    query = select(Document).where(col(Document.status) == DocumentStatus.DONE.value)
    for kind, value in (
        ("indicator", filters.indicator),
        ("commodity", filters.commodity),
        ("country", filters.country),
        ("language", filters.language),
    ):
        if value:
            query = query.where(
                exists().where(
                    col(DocumentTag.document_id) == Document.id,
                    col(DocumentTag.kind) == kind,
                    col(DocumentTag.value) == value,
                )
            )
    if filters.tier:
        query = query.where(col(Document.tier) == filters.tier)
    if filters.source_type:
        query = query.where(col(Document.source_type) == filters.source_type)
    if not filters.include_decided:
        query = query.where(~exists().where(col(Decision.document_id) == Document.id))
    query = query.where(
        ~exists().where(col(ReviewClaim.document_id) == Document.id, col(ReviewClaim.expires_at) > now)
    )
    if order == "uncertain":
        query = query.order_by(col(Document.uncertainty).desc(), col(Document.created_at).desc())
    else:
        query = query.order_by(col(Document.priority).desc(), col(Document.created_at).desc())
    with Session(engine) as session:
        return list(session.exec(query.offset(offset).limit(limit)).all())


def claim(
    engine: Engine, document_id: str, reviewer: str, minutes: int = DEFAULT_CLAIM_MINUTES
) -> ReviewClaim:
    """Hold a document for review; renewing one's own claim is allowed, taking someone else's live claim is not."""
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        document = session.get(Document, document_id)
        if document is None:
            raise NotFoundError(document_id)
        if document.status != DocumentStatus.DONE.value:
            raise InvalidStateError(f"document {document_id} is {document.status}, not ready for review")
        current = session.get(ReviewClaim, document_id)
        if current is not None:
            expires = _aware(current.expires_at)
            if current.reviewer != reviewer and expires > now:
                raise ClaimConflictError(f"claimed by another reviewer until {expires.isoformat()}")
            current.reviewer = reviewer
            current.claimed_at = now
            current.expires_at = now + timedelta(minutes=minutes)
            held = current
        else:
            held = ReviewClaim(
                document_id=document_id,
                reviewer=reviewer,
                claimed_at=now,
                expires_at=now + timedelta(minutes=minutes),
            )
            session.add(held)
        audit(session, "claimed", document_id, reviewer, minutes=minutes)
        session.flush()
        return held


def release(engine: Engine, document_id: str, reviewer: str) -> None:
    with session_scope(engine) as session:
        current = session.get(ReviewClaim, document_id)
        if current is None or current.reviewer != reviewer:
            raise InvalidStateError("no claim of yours on this document")
        session.delete(current)
        audit(session, "released", document_id, reviewer)


def decide(
    engine: Engine,
    document_id: str,
    reviewer: str,
    action: str,
    tier: str | None = None,
    indicators: list[str] | None = None,
    entities: dict[str, list[str]] | None = None,
    comment: str | None = None,
    recorded_by: str | None = None,
) -> Decision:
    """Record a reviewer's decision on the latest analysis and release the reviewer's claim.

    `recorded_by` names the credential that recorded it when that is not the reviewer's own (a lead
    entering a decision taken elsewhere), so the audit log shows both."""
    if action not in ACTIONS:
        raise InvalidStateError(f"action must be one of {', '.join(ACTIONS)}")
    if action == "correct" and tier is None and indicators is None and entities is None:
        raise InvalidStateError("a correction names the corrected tier, indicators or entities")
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        document = session.get(Document, document_id)
        if document is None:
            raise NotFoundError(document_id)
        held = session.get(ReviewClaim, document_id)
        if held is not None:
            if held.reviewer != reviewer and _aware(held.expires_at) > now:
                raise ClaimConflictError("another reviewer holds this document")
            session.delete(held)
        record = session.exec(
            select(AnalysisRecord)
            .where(AnalysisRecord.document_id == document_id)
            .order_by(col(AnalysisRecord.created_at).desc())
        ).first()
        if record is None:
            raise InvalidStateError(f"document {document_id} has no analysis to review")
        machine_tier = str(record.result["assessment"]["tier"])
        effective_tier = {"confirm": machine_tier, "dismiss": "insufficient"}.get(
            action, tier or machine_tier
        )
        decision = Decision(
            document_id=document_id,
            analysis_id=record.id,
            reviewer=reviewer,
            action=action,
            tier=effective_tier,
            indicators=indicators,
            entities=entities,
            comment=comment,
            created_at=utcnow(),
        )
        session.add(decision)
        audit(
            session,
            "decided",
            document_id,
            reviewer,
            decision=action,
            tier=effective_tier,
            decision_id=decision.id,
            recorded_by=recorded_by,
        )
        return decision


def decisions_for(engine: Engine, document_id: str) -> list[Decision]:
    with Session(engine) as session:
        if session.get(Document, document_id) is None:
            raise NotFoundError(document_id)
        return list(
            session.exec(
                select(Decision).where(Decision.document_id == document_id).order_by(col(Decision.created_at))
            ).all()
        )


@dataclass(frozen=True)
class Agreement:
    documents: int
    tier_agreement: float | None
    tier_kappa: float | None


def first_two_reviews(decisions: Sequence[Decision]) -> tuple[Decision, Decision] | None:
    """The first decisions of the first two distinct reviewers (later ones by the same person are revisions)."""
    by_reviewer: dict[str, Decision] = {}
    for decision in decisions:
        by_reviewer.setdefault(decision.reviewer, decision)
    firsts = list(by_reviewer.values())
    return (firsts[0], firsts[1]) if len(firsts) >= 2 else None


def agreement(engine: Engine) -> Agreement:
    """Tier agreement and Cohen's kappa between reviewers over documents that two reviewers decided."""
    with Session(engine) as session:
        rows = session.exec(select(Decision).order_by(col(Decision.created_at))).all()
    by_document: dict[str, list[Decision]] = {}
    for row in rows:
        by_document.setdefault(row.document_id, []).append(row)
    pairs = [p for p in (first_two_reviews(d) for d in by_document.values()) if p is not None]
    if not pairs:
        return Agreement(documents=0, tier_agreement=None, tier_kappa=None)
    first = [str(a.tier) for a, _ in pairs]
    second = [str(b.tier) for _, b in pairs]
    same = sum(a == b for a, b in zip(first, second, strict=True)) / len(pairs)
    kappa = cohen_kappa(first, second)
    return Agreement(
        documents=len(pairs),
        tier_agreement=round(same, 3),
        tier_kappa=round(kappa, 3) if kappa is not None else None,
    )
