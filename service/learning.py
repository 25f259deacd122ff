"""Reviewers' decisions as training data, in the corpus format the training scripts read.

A decision confirms, corrects or dismisses the machine's analysis of a real document; exported in the corpus
format, the documents reviewers have seen become training examples (`training/retrain.py` trains on the
corpus plus these). Sentence labels come from the analysis the reviewer judged: a sentence the machine cited
for an indicator the reviewer kept stays a positive example, one cited for an indicator the reviewer removed
becomes a negative one. The submitter's identity is never exported.

Names of workers and witnesses are withheld by default (service.nlp.people): the text, the reviewer's comment
and every span are rewritten onto the redacted text, so the corpus offsets stay valid. Producers and buyers
named in the analysis or the decision keep their names: they are what the training data is about.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.contract import Analysis
from service.db.models import AnalysisRecord, CaseMember, Decision, Document
from service.nlp.people import PeopleFinder, Redaction
from service.nlp.sentences import split_sentences

ENTITY_LABELS = {
    "producers": "PRODUCER",
    "commodities": "COMMODITY",
    "locations": "LOCATION",
    "buyers": "BUYER",
}


def _latest_decisions(session: Session) -> list[Decision]:
    latest: dict[str, Decision] = {}
    for decision in session.exec(select(Decision).order_by(col(Decision.created_at))).all():
        latest[decision.document_id] = decision
    return list(latest.values())


def _entities(text: str, analysis: Analysis, corrected: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Entity spans: the reviewer's corrected strings located in the text, else the machine's spans."""
    spans: list[dict[str, Any]] = []
    for kind, label in ENTITY_LABELS.items():
        if corrected is not None and kind in corrected:
            for value in corrected[kind]:
                start = text.find(str(value))
                if start >= 0:
                    spans.append({"label": label, "start": start, "end": start + len(value), "text": value})
            continue
        for mention in getattr(analysis.entities, kind):
            spans.append({"label": label, "start": mention.start, "end": mention.end, "text": mention.text})
    return sorted(spans, key=lambda s: (s["start"], s["end"]))


def decision_record(
    document: Document, decision: Decision, analysis: Analysis, case_id: str | None
) -> dict[str, Any]:
    text = document.text or ""
    if decision.action == "dismiss":
        kept: set[str] = set()
    elif decision.indicators is not None:
        kept = set(decision.indicators)
    else:
        kept = {i.id for i in analysis.indicators if i.present}
    cited: dict[tuple[int, int], list[str]] = {}
    for indicator in analysis.indicators:
        for evidence in indicator.evidence:
            cited.setdefault((evidence.start, evidence.end), []).append(indicator.id)
    nexus_spans = [(e.start, e.end) for e in analysis.us_nexus.evidence]
    sentences = []
    for sentence in split_sentences(text):
        ids = [
            i
            for (start, end), found in cited.items()
            if start < sentence.end and end > sentence.start
            for i in found
            if i in kept
        ]
        sentences.append(
            {
                "start": sentence.start,
                "end": sentence.end,
                "indicators": [{"id": i, "status": "affirmed"} for i in sorted(set(ids))],
                "us_nexus": decision.action != "dismiss"
                and any(s < sentence.end and e > sentence.start for s, e in nexus_spans),
            }
        )
    entities = _entities(text, analysis, decision.entities)
    tier = decision.tier or analysis.assessment.tier
    us_nexus = decision.action != "dismiss" and analysis.us_nexus.present

    def names(label: str) -> list[str]:
        return sorted({e["text"] for e in entities if e["label"] == label})

    return {
        "id": f"review-{document.id}",
        "text": text,
        "language": document.language or "en",
        "source_type": document.source_type,
        "genre": "review",
        "group": f"review-{case_id or document.id}",
        "split": "train",
        "tier": tier,
        "us_nexus": us_nexus,
        "gold": {
            "producers": names("PRODUCER"),
            "commodities": names("COMMODITY"),
            "locations": names("LOCATION"),
            "buyers": names("BUYER"),
            "indicators": sorted(kept),
            "tier": tier,
            "us_nexus": us_nexus,
        },
        "sentences": sentences,
        "entities": entities,
        "rationale": decision.comment or f"reviewer decision: {decision.action}",
        "provenance": {
            "decision_id": decision.id,
            "action": decision.action,
            "reviewer": decision.reviewer,
            "analysis_id": decision.analysis_id,
            "model_versions": dict(analysis.versions.models),
        },
    }


def _public_names(analysis: Analysis, corrected: dict[str, Any] | None) -> list[str]:
    names = [m.text for m in analysis.entities.producers] + [m.text for m in analysis.entities.buyers]
    for kind in ("producers", "buyers"):
        names.extend(str(v) for v in (corrected or {}).get(kind, []))
    return names


def redact_record(record: dict[str, Any], redaction: Redaction, people: PeopleFinder) -> dict[str, Any]:
    """The record over the redacted text: spans moved, names in entity texts and the rationale withheld."""
    for sentence in record["sentences"]:
        sentence["start"], sentence["end"] = redaction.span(sentence["start"], sentence["end"])
    for entity in record["entities"]:
        entity["start"], entity["end"] = redaction.span(entity["start"], entity["end"])
        entity["text"] = redaction.text[entity["start"] : entity["end"]]
    record["text"] = redaction.text
    record["rationale"] = people.redact(record["rationale"]).text
    return record


def export_decisions(engine: Engine, people: PeopleFinder | None = None) -> Iterator[dict[str, Any]]:
    """One corpus record per reviewed document (its latest decision), oldest decision first.

    With `people`, names of private persons are withheld; without it the text is exported as stored."""
    with Session(engine) as session:
        for decision in _latest_decisions(session):
            document = session.get(Document, decision.document_id)
            record = session.get(AnalysisRecord, decision.analysis_id) if decision.analysis_id else None
            if document is None or record is None or not document.text:
                continue
            member = session.get(CaseMember, document.id)
            analysis = Analysis.model_validate(record.result)
            exported = decision_record(document, decision, analysis, member.case_id if member else None)
            if people is not None:
                redaction = people.redact(document.text, _public_names(analysis, decision.entities))
                exported = redact_record(exported, redaction, people)
            yield exported
