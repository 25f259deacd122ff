"""Deletion on request: a document and everything derived from it go; the audit log keeps only the fact.

A person who sent evidence, or who is named in it, may ask for it to be removed. Everything that can carry
their words or identity is deleted in one transaction: the text and original bytes (the blob, unless another
document or a batch archive still uses it), analyses, embeddings, queue facets, claims, decisions (with their
comments and corrected entities), submissions (with submitter references and key ids), intake items (with
names and contacts), case membership, and batch members' names. The document row itself goes too, because
every remaining reference to it is gone.

The audit log keeps who deleted it, when, and a reason code. Earlier events for the document may hold
filenames, so their details are replaced by a marker; the hash chain covers a digest of the details, not the
details, and the chained deletion event is what lets verification accept the scrubbed rows.
"""

from __future__ import annotations

import re

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from service.audit import DELETION_ACTION, SCRUBBED, audit
from service.db.engine import session_scope
from service.db.models import (
    AnalysisRecord,
    AuditEvent,
    Batch,
    BatchItem,
    Blob,
    CaseMember,
    Decision,
    Document,
    DocumentEmbedding,
    DocumentTag,
    IntakeItem,
    ReviewClaim,
    Submission,
)
from service.errors import NotFoundError

REASON_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def delete_document(engine: Engine, document_id: str, actor: str, reason: str) -> None:
    """Remove the document and its derived data; raises NotFoundError for an unknown (or deleted) id."""
    if not REASON_CODE.match(reason):
        raise ValueError("the reason must be a short code such as 'submitter_request' (a-z, 0-9, _)")
    with session_scope(engine) as session:
        document = session.get(Document, document_id)
        if document is None:
            raise NotFoundError(document_id)
        digest = document.sha256
        for table in (IntakeItem, Submission, Decision, AnalysisRecord, DocumentTag):
            session.execute(delete(table).where(col(table.document_id) == document_id))
        for keyed in (ReviewClaim, CaseMember, DocumentEmbedding):
            session.execute(delete(keyed).where(col(keyed.document_id) == document_id))
        items = session.exec(select(BatchItem).where(BatchItem.document_id == document_id)).all()
        for item in items:
            item.member = f"deleted:{item.id}"
            item.document_id = None
            item.error_code = "deleted"
            item.error_message = None
        session.flush()
        session.delete(document)
        session.flush()
        archive = session.exec(select(Batch.id).where(Batch.archive_sha256 == digest)).first()
        if archive is None:
            session.execute(delete(Blob).where(col(Blob.sha256) == digest))
        session.execute(
            update(AuditEvent).where(col(AuditEvent.document_id) == document_id).values(details=SCRUBBED)
        )
        audit(session, DELETION_ACTION, document_id, actor, reason=reason)
