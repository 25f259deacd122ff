"""The append-only audit log: every action on a document is one row, written in the same transaction.

Rows form a hash chain: each row stores the previous row's hash and
`hash = sha256(canonical JSON of prev_hash, id, at, actor, action, document_id, details_digest)`, where
`details_digest` is the sha256 of the canonical JSON of `details`. Editing, deleting or reordering a row breaks
the chain at that row. The details themselves are covered only through their digest so that a deletion on
request may scrub them (they can hold names or filenames): a row whose details no longer match its digest is
accepted only when a later, chained `document_deleted` event for the same document explains it.

Appends from several processes must keep one chain. On PostgreSQL a transaction-level advisory lock is held
from reading the last hash until commit; on SQLite the insert comes first, which takes the database's single
write lock, so the predecessor read afterwards is the true last row.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.db.models import AuditEvent

DELETION_ACTION = "document_deleted"
SCRUBBED = {"scrubbed": DELETION_ACTION}
# An arbitrary constant naming "the audit chain" among PostgreSQL advisory locks.
_CHAIN_LOCK_KEY = 0x57524F_A0D17


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str).encode()


def details_digest(details: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(details)).hexdigest()


def _instant(at: datetime) -> str:
    """One spelling of a moment whether the backend hands it back aware or naive (both store UTC)."""
    aware = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return aware.isoformat(timespec="microseconds")


def chain_hash(
    prev_hash: str | None,
    event_id: int,
    at: datetime,
    actor: str,
    action: str,
    document_id: str | None,
    digest: str,
) -> str:
    payload = {
        "prev_hash": prev_hash or "",
        "id": event_id,
        "at": _instant(at),
        "actor": actor,
        "action": action,
        "document_id": document_id,
        "details_digest": digest,
    }
    return hashlib.sha256(_canonical(payload)).hexdigest()


def _lock_chain(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})


def audit(
    session: Session, action: str, document_id: str | None, actor: str = "system", **details: Any
) -> None:
    _lock_chain(session)
    event = AuditEvent(
        action=action, document_id=document_id, actor=actor, details=details, details_digest=""
    )
    session.add(event)
    session.flush()
    assert event.id is not None
    previous = session.exec(
        select(AuditEvent.hash)
        .where(col(AuditEvent.id) < event.id)
        .order_by(col(AuditEvent.id).desc())
        .limit(1)
    ).first()
    event.details_digest = details_digest(details)
    event.prev_hash = previous or ""
    event.hash = chain_hash(
        event.prev_hash, event.id, event.at, actor, action, document_id, event.details_digest
    )
    session.flush()


@dataclass(frozen=True)
class ChainBreak:
    """The first row at which the chain does not verify, and why."""

    event_id: int
    reason: str


def verify_audit_chain(engine: Engine) -> ChainBreak | None:
    """None when every row links to its predecessor and its content matches its hash."""
    with Session(engine) as session:
        deleted_at: dict[str, int] = {}
        for event_id, document_id in session.exec(
            select(AuditEvent.id, AuditEvent.document_id).where(AuditEvent.action == DELETION_ACTION)
        ).all():
            if document_id is not None and event_id is not None:
                deleted_at[document_id] = max(deleted_at.get(document_id, 0), event_id)
        previous = ""
        rows = session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
        for event in rows:
            assert event.id is not None
            if (event.prev_hash or "") != previous:
                return ChainBreak(event.id, "does not link to the previous row")
            expected = chain_hash(
                event.prev_hash,
                event.id,
                event.at,
                event.actor,
                event.action,
                event.document_id,
                event.details_digest or "",
            )
            if event.hash != expected:
                return ChainBreak(event.id, "content does not match its hash")
            if details_digest(dict(event.details)) != event.details_digest:
                scrubbed = (
                    dict(event.details) == SCRUBBED
                    and event.document_id is not None
                    and deleted_at.get(event.document_id, 0) > event.id
                )
                if not scrubbed:
                    return ChainBreak(event.id, "details do not match their digest")
            previous = event.hash or ""
        return None
