"""Protection of people: names withheld from exports, deletion on request, and the hash-chained audit log."""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from service.audit import verify_audit_chain
from service.config import Settings
from service.db.engine import make_engine, upgrade_database
from service.db.models import AuditEvent, Blob, Document, IntakeItem, Submission
from service.deletion import delete_document
from service.documents import (
    SubmissionMeta,
    claim_document,
    latest_analysis,
    process_document,
    submit_document,
)
from service.intake import IntakeForm, submit_intake
from service.learning import export_decisions
from service.nlp.people import PLACEHOLDER, PeopleFinder
from service.nlp.pipeline import Pipeline
from service.review import decide

WITNESS = "Maria Santos"
SUBMITTER = "Quentin Holloway-Prynne"
STORY = (
    f"A worker named {WITNESS} said Top Glove Corporation Bhd in Klang, Malaysia kept her passport. "
    "Workers paid recruitment fees of 5,000 dollars and could not leave. Gloves are shipped to the United States."
)


def _analyse(engine: Engine, pipeline: Pipeline, document_id: str) -> None:
    url = engine.url.render_as_string(hide_password=False)
    assert claim_document(engine, document_id, "test")
    process_document(
        engine, pipeline, Settings(database_url=url, document_embeddings=False), document_id, "test"
    )


def test_names_of_workers_are_found_but_officials_and_producers_are_kept(pipeline: Pipeline) -> None:
    finder = PeopleFinder(pipeline.nlp)
    sample = (
        "Witness Ahmed Rahman confirmed it. Minister John Smith denied it. Top Glove declined to comment."
    )
    redaction = finder.redact(sample, ["Top Glove"])
    assert [s.text for s in redaction.spans] == ["Ahmed Rahman"]
    assert "John Smith" in redaction.text and PLACEHOLDER in redaction.text
    start = sample.index("Minister")
    assert redaction.excerpt(start, start + len("Minister John Smith")) == "Minister John Smith"


def test_export_withholds_names_and_never_holds_the_submitter(settings: Settings, pipeline: Pipeline) -> None:
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    intake = submit_intake(engine, IntakeForm(details=STORY), [], "en", SUBMITTER, "q@example.org")
    submit_document(engine, STORY.encode(), SubmissionMeta(submitter_ref=SUBMITTER, api_key_id="k" * 32))
    document_id = intake.document_ids[0]
    _analyse(engine, pipeline, document_id)
    decide(engine, document_id, "rev", "confirm", None, None, None, f"{WITNESS} seems credible")
    record = latest_analysis(engine, document_id)
    assert record is not None and SUBMITTER not in json.dumps(record.result)
    redacted = list(export_decisions(engine, PeopleFinder(pipeline.nlp)))
    plain = list(export_decisions(engine))
    engine.dispose()
    assert WITNESS in plain[0]["text"] and WITNESS in plain[0]["rationale"]
    dumped = json.dumps(redacted)
    assert WITNESS not in dumped and SUBMITTER not in dumped and "k" * 32 not in dumped
    assert SUBMITTER not in json.dumps(plain)
    exported = redacted[0]
    assert PLACEHOLDER in exported["text"] and PLACEHOLDER in exported["rationale"]
    for entity in exported["entities"]:  # spans still point at their words in the redacted text
        assert exported["text"][entity["start"] : entity["end"]] == entity["text"]
    assert any(e["text"].startswith("Top Glove") for e in exported["entities"])
    assert exported["sentences"][-1]["end"] <= len(exported["text"])


def test_deletion_removes_everything_and_the_chain_still_verifies(
    database_url: str, pipeline: Pipeline
) -> None:
    upgrade_database(database_url)
    engine = make_engine(database_url)
    intake = submit_intake(engine, IntakeForm(details=STORY), [], "en", SUBMITTER, "q@example.org")
    document_id = intake.document_ids[0]
    _analyse(engine, pipeline, document_id)
    decide(engine, document_id, "rev", "confirm", None, None, None, f"{WITNESS} is credible")
    kept = submit_document(engine, b"Another report about cotton.", SubmissionMeta(filename="other.txt"))
    assert verify_audit_chain(engine) is None
    with Session(engine) as session:
        digest = session.exec(select(Document.sha256).where(Document.id == document_id)).one()
    delete_document(engine, document_id, "lead-1", "submitter_request")
    with Session(engine) as session:
        assert session.get(Document, document_id) is None and session.get(Blob, digest) is None
        assert not session.exec(select(Submission).where(Submission.document_id == document_id)).all()
        assert not session.exec(select(IntakeItem).where(IntakeItem.document_id == document_id)).all()
        assert session.get(Document, kept.document.id) is not None
        events = session.exec(select(AuditEvent).where(AuditEvent.document_id == document_id)).all()
        assert events[-1].action == "document_deleted" and events[-1].details == {
            "reason": "submitter_request"
        }
        assert all(e.details == {"scrubbed": "document_deleted"} for e in events[:-1])
    assert verify_audit_chain(engine) is None
    engine.dispose()


def test_tampering_with_an_audit_row_breaks_the_chain(database_url: str) -> None:
    upgrade_database(database_url)
    engine = make_engine(database_url)
    for n in range(3):
        submit_document(engine, f"report {n}".encode(), SubmissionMeta(filename=f"r{n}.txt"))
    assert verify_audit_chain(engine) is None
    with Session(engine) as session:
        second = session.exec(select(AuditEvent.id).order_by(AuditEvent.id).offset(1)).first()  # type: ignore[arg-type]
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_event SET actor = 'someone else' WHERE id = :id"), {"id": second}
        )
    broken = verify_audit_chain(engine)
    assert broken is not None and broken.event_id == second
    with engine.begin() as connection:  # restoring the actor but editing the details is caught too
        connection.execute(text("UPDATE audit_event SET actor = 'anonymous' WHERE id = :id"), {"id": second})
        connection.execute(
            text("UPDATE audit_event SET details = :d WHERE id = :id"),
            {"d": '{"filename": "x"}', "id": second},
        )
    broken = verify_audit_chain(engine)
    assert broken is not None and broken.event_id == second and "details" in broken.reason
    engine.dispose()
