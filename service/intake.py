"""The public intake: allegations from NGOs and workers, grouped under a receipt code instead of an account.

A submitter gets one receipt code, shown once; only its sha256 is stored. The code carries 100 random bits, so
a fast hash is enough (no dictionary to guess from), and looking it up stays a plain indexed query. Each form,
attachment and later piece of evidence is an ordinary document (submit_document), so it is stored first,
analysed by the worker and reviewed like any other.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.db.engine import session_scope
from service.db.models import Document, IntakeItem, SourceType
from service.documents import SubmissionMeta, submit_document

# Crockford-style alphabet: no 0/O or 1/I/L to misread when a worker copies the code by hand.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_GROUPS, _GROUP_LEN = 4, 5
INTAKE_ACTOR = "web-intake"


@dataclass(frozen=True)
class IntakeForm:
    """What CBP asks an allegation to cover (its e-allegation guidance), plus free text."""

    producer: str = ""
    goods: str = ""
    location: str = ""
    route_to_us: str = ""
    workers: str = ""
    how_known: str = ""
    when: str = ""
    details: str = ""

    def compose(self) -> str:
        """The text that is analysed and stored: one labelled paragraph per answered question. Coaching and
        the stored document use the same text, so what the submitter is told matches what investigators get."""
        parts = [
            ("Producer", self.producer),
            ("Goods", self.goods),
            ("Where the goods are produced", self.location),
            ("How the goods reach the United States", self.route_to_us),
            ("What happened to the workers", self.workers),
            ("How the submitter knows", self.how_known),
            ("When", self.when),
            ("Details", self.details),
        ]
        return "\n\n".join(f"{label}: {value.strip()}" for label, value in parts if value.strip())


@dataclass(frozen=True)
class Attachment:
    filename: str | None
    content: bytes


@dataclass(frozen=True)
class IntakeResult:
    receipt_code: str
    document_ids: list[str]


@dataclass(frozen=True)
class ReceiptDocument:
    document: Document
    kind: str
    filename: str | None


def new_receipt_code() -> str:
    groups = ("".join(secrets.choice(_ALPHABET) for _ in range(_GROUP_LEN)) for _ in range(_GROUPS))
    return "-".join(groups)


def receipt_hash(code: str) -> str:
    """Hash of the code as typed, forgiving case, spaces and dashes."""
    normalized = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(normalized.encode("ascii", "ignore")).hexdigest()


def _store(
    engine: Engine,
    digest: str,
    kind: str,
    content: bytes,
    filename: str | None,
    language: str | None,
    name: str | None = None,
    contact: str | None = None,
) -> str:
    meta = SubmissionMeta(filename=filename, source_type=SourceType.E_ALLEGATION, language=None)
    result = submit_document(engine, content, meta, actor=INTAKE_ACTOR)
    with session_scope(engine) as session:
        session.add(
            IntakeItem(
                receipt_hash=digest,
                document_id=result.document.id,
                submission_id=result.submission.id,
                kind=kind,
                submitter_name=name,
                submitter_contact=contact,
                language=language,
            )
        )
    return result.document.id


def submit_intake(
    engine: Engine,
    form: IntakeForm,
    attachments: list[Attachment],
    language: str | None,
    name: str | None = None,
    contact: str | None = None,
) -> IntakeResult:
    """Store the form's text and each attachment as documents under a new receipt code."""
    if not form.compose() and not attachments:
        raise ValueError("nothing to submit")
    code = new_receipt_code()
    digest = receipt_hash(code)
    ids: list[str] = []
    text = form.compose()
    if text:
        ids.append(
            _store(engine, digest, "form", text.encode("utf-8"), "allegation.txt", language, name, contact)
        )
    for item in attachments:
        ids.append(_store(engine, digest, "attachment", item.content, item.filename, language, name, contact))
    return IntakeResult(receipt_code=code, document_ids=ids)


def receipt_documents(engine: Engine, digest: str) -> list[ReceiptDocument]:
    """Documents sent under a receipt, oldest first; empty for an unknown receipt."""
    with Session(engine) as session:
        rows = session.exec(
            select(IntakeItem, Document)
            .where(IntakeItem.receipt_hash == digest, col(IntakeItem.document_id) == col(Document.id))
            .order_by(col(IntakeItem.created_at))
        ).all()
        return [ReceiptDocument(document=d, kind=i.kind, filename=d.filename) for i, d in rows]


def add_evidence(
    engine: Engine, digest: str, text: str, attachments: list[Attachment], language: str | None
) -> list[str]:
    """More evidence under an existing receipt; refused for a receipt that was never issued."""
    if not receipt_documents(engine, digest):
        raise LookupError("unknown receipt")
    ids: list[str] = []
    if text.strip():
        ids.append(_store(engine, digest, "evidence", text.strip().encode("utf-8"), "evidence.txt", language))
    for item in attachments:
        ids.append(_store(engine, digest, "evidence", item.content, item.filename, language))
    if not ids:
        raise ValueError("nothing to add")
    return ids
