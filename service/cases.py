"""Cases: the documents about one producer and commodity (or one region and commodity), read together.

A WRO rests on corroboration: several independent accounts of one producer weigh more than one report retold
five times. Documents join a case automatically by normalised entity keys when they are analysed, and
re-reports of one story are recognised by embedding similarity so that the case counts independent sources,
not documents. Reviewers can merge and split cases; their moves are recorded and later analyses do not undo
them (a document already in a case stays where a reviewer put it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.audit import audit
from service.contract import COERCION, INVOLUNTARINESS, Analysis, Tier
from service.db.engine import session_scope
from service.db.models import (
    AnalysisRecord,
    Case,
    CaseKey,
    CaseMember,
    CaseStatus,
    Document,
    DocumentEmbedding,
    Submission,
    utcnow,
)
from service.errors import InvalidStateError, NotFoundError
from service.nlp.similarity import cosine, story_clusters

KEY_MAX = 400
# How many recent vectors a document without entity keys is compared with to find the story it retells.
NEAR_DUPLICATE_WINDOW = 2000
_TIER_RANK: dict[str, int] = {"insufficient": 0, "reasonable": 1, "conclusive": 2}


def _slug(value: str) -> str:
    return " ".join(value.casefold().split())


def case_keys(analysis: Analysis) -> list[str]:
    """Grouping keys: producer × commodity; a producer alone; else the production place × commodity.

    A country-wide key (cotton in China) is used only when the document names no producer, because a
    producer is what an order is issued against.
    """
    producers = sorted({_slug(p.normalized) for p in analysis.entities.producers if p.normalized.strip()})
    commodities = sorted(
        {
            _slug(c.normalized or c.text)
            for c in analysis.entities.commodities
            if (c.normalized or c.text).strip()
        }
    )
    places = sorted({_slug(loc.region or loc.country or "") for loc in analysis.entities.locations} - {""})
    if producers and commodities:
        keys = [f"p:{p}|c:{c}" for p in producers for c in commodities]
    elif producers:
        keys = [f"p:{p}" for p in producers]
    elif commodities and places:
        keys = [f"r:{r}|c:{c}" for r in places for c in commodities]
    else:
        keys = []
    return [key[:KEY_MAX] for key in keys]


def case_title(analysis: Analysis) -> str:
    producer = analysis.entities.producers[0].text if analysis.entities.producers else None
    commodity = analysis.entities.commodities[0].text if analysis.entities.commodities else None
    location = analysis.entities.locations[0].text if analysis.entities.locations else None
    head = producer or location or "Unnamed producer"
    return " — ".join(part for part in (head, commodity) if part)[:512]


def store_embedding(session: Session, document_id: str, model: str, vector: list[float]) -> None:
    session.merge(DocumentEmbedding(document_id=document_id, model=model, vector=vector))


def _live_case(session: Session, case_id: str) -> Case:
    """Follow merges to the case that absorbed this one."""
    case = session.get(Case, case_id)
    seen = set()
    while case is not None and case.merged_into and case.id not in seen:
        seen.add(case.id)
        case = session.get(Case, case.merged_into)
    if case is None:
        raise NotFoundError(case_id)
    return case


def _near_duplicate_case(session: Session, vector: Sequence[float], threshold: float) -> str | None:
    rows = session.exec(
        select(DocumentEmbedding.vector, CaseMember.case_id)
        .join(CaseMember, col(CaseMember.document_id) == col(DocumentEmbedding.document_id))
        .order_by(col(CaseMember.added_at).desc())
        .limit(NEAR_DUPLICATE_WINDOW)
    ).all()
    best: tuple[float, str] | None = None
    for other, case_id in rows:
        similarity = cosine(vector, other)
        if similarity >= threshold and (best is None or similarity > best[0]):
            best = (similarity, case_id)
    return best[1] if best else None


def assign_case(
    session: Session, document: Document, analysis: Analysis, vector: Sequence[float] | None, threshold: float
) -> str | None:
    """Put a freshly analysed document into its case (inside the transaction that stores the analysis).

    Two workers opening a case for the same new key at once collide on the key's primary key; the loser's
    transaction fails and its job is retried, and then finds the winner's case.
    """
    keys = case_keys(analysis)
    member = session.get(CaseMember, document.id)
    if member is not None:
        case = _live_case(session, member.case_id)
    else:
        owners: dict[str, int] = {}
        for owned in session.exec(select(CaseKey).where(col(CaseKey.key).in_(keys))).all() if keys else []:
            live = _live_case(session, owned.case_id).id
            owners[live] = owners.get(live, 0) + 1
        chosen: str | None = None
        if owners:
            chosen = sorted(owners.items(), key=lambda item: (-item[1], item[0]))[0][0]
        elif vector is not None:
            near = _near_duplicate_case(session, vector, threshold)
            chosen = _live_case(session, near).id if near else None
        if chosen is None and not keys:
            return None
        if chosen is None:
            case = Case(title=case_title(analysis))
            session.add(case)
            session.flush()
        else:
            case = _live_case(session, chosen)
        session.add(CaseMember(document_id=document.id, case_id=case.id))
        case.updated_at = utcnow()
        audit(session, "case_assigned", document.id, case_id=case.id, keys=keys[:10])
    known = set(session.exec(select(CaseKey.key).where(col(CaseKey.key).in_(keys))).all()) if keys else set()
    for key in keys:
        if key not in known:
            session.add(CaseKey(key=key, case_id=case.id))
    return case.id


class CaseSource(BaseModel):
    document_id: str
    filename: str | None
    source_type: str
    received_at: datetime
    tier: str | None
    score: float | None
    story: int
    assigned_by: str


class CaseEvidence(BaseModel):
    indicator: str
    document_id: str
    score: float
    text: str
    start: int
    end: int
    status: str


class CaseAssessment(BaseModel):
    tier: Tier
    score: float
    independent_sources: int
    documents: int
    indicators: list[str]
    ilo_involuntariness: bool
    ilo_coercion: bool
    how: str = (
        "tier: the strongest member's tier, raised to 'reasonable' when the sources taken together reach "
        "the WRO bar; score: 1 - prod(1 - best score of each independent story)"
    )


class CaseSummary(BaseModel):
    id: str
    title: str
    status: str
    documents: int
    best_score: float | None
    created_at: datetime
    updated_at: datetime
    merged_into: str | None = None


class CaseDetail(CaseSummary):
    keys: list[str]
    sources: list[CaseSource]
    strongest_evidence: list[CaseEvidence]
    assessment: CaseAssessment


def list_cases(engine: Engine, limit: int, offset: int, include_merged: bool = False) -> list[CaseSummary]:
    with Session(engine) as session:
        query = (
            select(Case, func.count(col(CaseMember.document_id)), func.max(Document.wro_score))
            .join(CaseMember, col(CaseMember.case_id) == col(Case.id), isouter=True)
            .join(Document, col(Document.id) == col(CaseMember.document_id), isouter=True)
            .group_by(col(Case.id))
        )
        if not include_merged:
            query = query.where(Case.status == CaseStatus.OPEN.value)
        rows = session.exec(
            query.order_by(func.max(Document.wro_score).desc(), col(Case.updated_at).desc())
            .offset(offset)
            .limit(limit)
        ).all()
        return [_summary(case, int(count), best) for case, count, best in rows]


def _summary(case: Case, count: int, best: float | None) -> CaseSummary:
    return CaseSummary(
        id=case.id,
        title=case.title,
        status=case.status,
        documents=count,
        best_score=best,
        created_at=case.created_at,
        updated_at=case.updated_at,
        merged_into=case.merged_into,
    )


def case_of_document(engine: Engine, document_id: str) -> str | None:
    with Session(engine) as session:
        member = session.get(CaseMember, document_id)
        return _live_case(session, member.case_id).id if member else None


def case_detail(engine: Engine, case_id: str, threshold: float) -> CaseDetail:
    with Session(engine) as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFoundError(case_id)
        members = session.exec(
            select(CaseMember, Document)
            .join(Document, col(Document.id) == col(CaseMember.document_id))
            .where(CaseMember.case_id == case_id)
            .order_by(col(Document.created_at))
        ).all()
        ids = [document.id for _m, document in members]
        vectors = {
            e.document_id: e.vector
            for e in session.exec(
                select(DocumentEmbedding).where(col(DocumentEmbedding.document_id).in_(ids))
            ).all()
        }
        analyses = _latest_analyses(session, ids)
        first_seen = dict(
            session.exec(
                select(Submission.document_id, func.min(Submission.received_at))
                .where(col(Submission.document_id).in_(ids))
                .group_by(col(Submission.document_id))
            ).all()
        )
        keys = sorted(session.exec(select(CaseKey.key).where(CaseKey.case_id == case_id)).all())
    stories = story_clusters([vectors.get(i) for i in ids], threshold)
    sources = [
        CaseSource(
            document_id=document.id,
            filename=document.filename,
            source_type=document.source_type,
            received_at=first_seen.get(document.id, document.created_at),
            tier=document.tier,
            score=document.wro_score,
            story=stories[index],
            assigned_by=member.assigned_by,
        )
        for index, (member, document) in enumerate(members)
    ]
    sources.sort(key=lambda s: s.received_at)
    return CaseDetail(
        **_summary(
            case, len(members), max((s.score for s in sources if s.score is not None), default=None)
        ).model_dump(),
        keys=keys,
        sources=sources,
        strongest_evidence=_strongest_evidence(analyses),
        assessment=_case_assessment(sources, analyses),
    )


def _latest_analyses(session: Session, ids: list[str]) -> dict[str, Analysis]:
    latest: dict[str, Analysis] = {}
    rows = session.exec(
        select(AnalysisRecord)
        .where(col(AnalysisRecord.document_id).in_(ids))
        .order_by(col(AnalysisRecord.created_at))
    ).all()
    for record in rows:
        latest[record.document_id] = Analysis.model_validate(record.result)
    return latest


def _strongest_evidence(analyses: dict[str, Analysis]) -> list[CaseEvidence]:
    best: dict[str, CaseEvidence] = {}
    for document_id, analysis in analyses.items():
        for indicator in analysis.indicators:
            if not indicator.present:
                continue
            for evidence in indicator.evidence:
                current = best.get(indicator.id)
                if current is None or evidence.score > current.score:
                    best[indicator.id] = CaseEvidence(
                        indicator=indicator.id,
                        document_id=document_id,
                        score=evidence.score,
                        text=evidence.text,
                        start=evidence.start,
                        end=evidence.end,
                        status=evidence.status,
                    )
    return sorted(best.values(), key=lambda e: -e.score)


def _case_assessment(sources: list[CaseSource], analyses: dict[str, Analysis]) -> CaseAssessment:
    """Independent stories corroborate each other; re-reports of one story count once (noisy-OR over stories)."""
    best_per_story: dict[int, float] = {}
    for source in sources:
        score = source.score or 0.0
        best_per_story[source.story] = max(best_per_story.get(source.story, 0.0), score)
    remaining = 1.0
    for score in best_per_story.values():
        remaining *= 1.0 - score
    score = round(1.0 - remaining, 4) if best_per_story else 0.0
    strongest = max((_TIER_RANK.get(s.tier or "insufficient", 0) for s in sources), default=0)
    tier: Tier = (
        "conclusive" if strongest == 2 else "reasonable" if strongest == 1 or score >= 0.5 else "insufficient"
    )
    present = sorted({i.id for a in analyses.values() for i in a.indicators if i.present})
    return CaseAssessment(
        tier=tier,
        score=score,
        independent_sources=len(best_per_story),
        documents=len(sources),
        indicators=present,
        ilo_involuntariness=bool(INVOLUNTARINESS & set(present)),
        ilo_coercion=bool(COERCION & set(present)),
    )


def merge_cases(engine: Engine, target_id: str, other_ids: Sequence[str], actor: str) -> str:
    """Move every document and key of `other_ids` into `target_id`; the others remain as pointers."""
    with session_scope(engine) as session:
        target = session.get(Case, target_id)
        if target is None:
            raise NotFoundError(target_id)
        if target.status != CaseStatus.OPEN.value:
            raise InvalidStateError(f"case {target_id} was merged into {target.merged_into}")
        for other_id in other_ids:
            if other_id == target_id:
                raise InvalidStateError("a case cannot be merged into itself")
            other = session.get(Case, other_id)
            if other is None:
                raise NotFoundError(other_id)
            if other.status != CaseStatus.OPEN.value:
                raise InvalidStateError(f"case {other_id} is already merged")
            for member in session.exec(select(CaseMember).where(CaseMember.case_id == other_id)).all():
                member.case_id = target_id
                member.assigned_by = actor
                audit(
                    session, "case_merged", member.document_id, actor, case_id=target_id, from_case=other_id
                )
            for key in session.exec(select(CaseKey).where(CaseKey.case_id == other_id)).all():
                key.case_id = target_id
            other.status = CaseStatus.MERGED.value
            other.merged_into = target_id
            other.updated_at = utcnow()
        target.updated_at = utcnow()
    return target_id


def split_case(engine: Engine, case_id: str, document_ids: Sequence[str], actor: str) -> str:
    """Move `document_ids` out of a case into a new one; keys that only they produce move with them."""
    wanted = set(document_ids)
    with session_scope(engine) as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFoundError(case_id)
        members = session.exec(select(CaseMember).where(CaseMember.case_id == case_id)).all()
        moving = [m for m in members if m.document_id in wanted]
        if len(moving) != len(wanted):
            raise InvalidStateError("every document to split off must be a member of the case")
        if len(moving) == len(members):
            raise InvalidStateError("a split must leave at least one document in the case")
        analyses = _latest_analyses(session, [m.document_id for m in members])
        staying_keys = {k for m in members if m.document_id not in wanted for k in _keys_of(analyses, m)}
        moving_keys = {k for m in moving for k in _keys_of(analyses, m)} - staying_keys
        first = analyses.get(moving[0].document_id)
        new_case = Case(title=case_title(first) if first else f"Split from {case.title}"[:512])
        session.add(new_case)
        session.flush()
        for member in moving:
            member.case_id = new_case.id
            member.assigned_by = actor
            audit(session, "case_split", member.document_id, actor, case_id=new_case.id, from_case=case_id)
        for key in session.exec(select(CaseKey).where(col(CaseKey.key).in_(moving_keys))).all():
            key.case_id = new_case.id
        case.updated_at = utcnow()
        return new_case.id


def _keys_of(analyses: dict[str, Analysis], member: CaseMember) -> list[str]:
    analysis = analyses.get(member.document_id)
    return case_keys(analysis) if analysis else []
