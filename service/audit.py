"""The append-only audit log: every action on a document is one row, written in the same transaction."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from service.db.models import AuditEvent


def audit(
    session: Session, action: str, document_id: str | None, actor: str = "system", **details: Any
) -> None:
    session.add(AuditEvent(action=action, document_id=document_id, actor=actor, details=details))
