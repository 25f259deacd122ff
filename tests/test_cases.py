"""Case grouping on both backends: entity keys, stories told twice counted once, merge and split."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from service.cases import case_detail, case_keys, case_of_document, list_cases, merge_cases, split_case
from service.config import Settings
from service.db.engine import make_engine, upgrade_database
from service.documents import SubmissionMeta, claim_document, process_document, submit_document
from service.errors import InvalidStateError
from service.nlp.pipeline import Pipeline
from service.nlp.similarity import DocumentEmbedder

TOP_GLOVE_REPORT = (
    "Migrant workers employed by Top Glove Corporation Bhd at its factories in Klang, Malaysia, told our "
    "researchers in March that they had paid recruitment fees of up to 5,000 dollars to agents in Nepal. "
    "Several workers said supervisors kept their passports in a locked office and returned them only for "
    "visa renewals. The workers make disposable rubber gloves, and shipping records show the gloves were "
    "imported into the United States through the Port of Los Angeles."
)
# The same story retold by a second outlet: it must not count as independent corroboration.
TOP_GLOVE_RETOLD = (
    "Migrant workers employed by Top Glove Corporation Bhd at its factories in Klang, Malaysia, told "
    "researchers in March that they paid recruitment fees of up to 5,000 dollars to agents in Nepal. "
    "Several of the workers said supervisors kept their passports in a locked office and returned them only "
    "for visa renewals. The workers make disposable rubber gloves, and shipping records show the gloves "
    "were imported into the United States through the Port of Los Angeles, the report said."
)
TOP_GLOVE_INDEPENDENT = (
    "A former line leader at a Top Glove Corporation Bhd dormitory in Meru described rooms shared by 24 men "
    "and shifts of 12 hours, seven days a week, during the 2020 surge in demand for rubber gloves. He said "
    "wages were held back for two months when workers asked to leave, and that guards stopped workers from "
    "leaving the hostel compound on rest days."
)
COCOA_REPORT = (
    "Children as young as ten carry heavy loads of cocoa pods on family farms near Asankragwa in Ghana, "
    "according to interviews with teachers. The children use machetes and are exposed to pesticides."
)


def _analysed(engine: Engine, pipeline: Pipeline, embedder: DocumentEmbedder, url: str, text: str) -> str:
    document = submit_document(engine, text.encode(), SubmissionMeta()).document
    assert claim_document(engine, document.id, "test-worker")
    process_document(engine, pipeline, Settings(database_url=url), document.id, "test-worker", embedder)
    return document.id


def test_reports_group_by_producer_and_commodity_and_stories_count_once(
    database_url: str, pipeline: Pipeline, embedder: DocumentEmbedder
) -> None:
    upgrade_database(database_url)
    engine = make_engine(database_url)
    report = _analysed(engine, pipeline, embedder, database_url, TOP_GLOVE_REPORT)
    retold = _analysed(engine, pipeline, embedder, database_url, TOP_GLOVE_RETOLD)
    independent = _analysed(engine, pipeline, embedder, database_url, TOP_GLOVE_INDEPENDENT)
    cocoa = _analysed(engine, pipeline, embedder, database_url, COCOA_REPORT)

    case_id = case_of_document(engine, report)
    assert case_id is not None
    assert case_of_document(engine, retold) == case_id == case_of_document(engine, independent)
    assert case_of_document(engine, cocoa) not in {None, case_id}

    detail = case_detail(engine, case_id, 0.92)
    assert detail.documents == 3
    assert detail.assessment.independent_sources == 2, "a retold story is one source"
    stories = {s.document_id: s.story for s in detail.sources}
    assert stories[report] == stories[retold] != stories[independent]
    assert any(k.startswith("p:top glove") for k in detail.keys)
    strongest = {e.indicator: e for e in detail.strongest_evidence}
    assert "retention_of_identity_documents" in strongest
    assert strongest["retention_of_identity_documents"].document_id in {report, retold}
    assert detail.assessment.tier in {"reasonable", "conclusive"}
    scores = [s.score or 0.0 for s in detail.sources]
    assert detail.assessment.score >= max(scores), "corroboration never weakens a case"
    assert next(c.id for c in list_cases(engine, 10, 0)) == case_id
    engine.dispose()


def test_merge_and_split_are_kept_and_validated(
    database_url: str, pipeline: Pipeline, embedder: DocumentEmbedder
) -> None:
    upgrade_database(database_url)
    engine = make_engine(database_url)
    report = _analysed(engine, pipeline, embedder, database_url, TOP_GLOVE_REPORT)
    cocoa = _analysed(engine, pipeline, embedder, database_url, COCOA_REPORT)
    glove_case, cocoa_case = case_of_document(engine, report), case_of_document(engine, cocoa)
    assert glove_case and cocoa_case and glove_case != cocoa_case

    merge_cases(engine, glove_case, [cocoa_case], "lead")
    assert case_of_document(engine, cocoa) == glove_case
    assert cocoa_case not in {c.id for c in list_cases(engine, 10, 0)}
    # A later report on the merged-away key lands in the surviving case.
    more_cocoa = _analysed(
        engine, pipeline, embedder, database_url, COCOA_REPORT.replace("ten", "eleven") + " Teachers agree."
    )
    assert case_of_document(engine, more_cocoa) == glove_case

    new_case = split_case(engine, glove_case, [cocoa, more_cocoa], "lead")
    assert case_of_document(engine, cocoa) == new_case == case_of_document(engine, more_cocoa)
    assert case_of_document(engine, report) == glove_case
    assert "r:gh|c:cocoa" in case_detail(engine, new_case, 0.92).keys
    assert all(s.assigned_by == "lead" for s in case_detail(engine, new_case, 0.92).sources)
    for bad in ([report], ["not-a-member"]):
        try:
            split_case(engine, glove_case, bad, "lead")
        except InvalidStateError:
            continue
        raise AssertionError(f"split of {bad} must be refused")
    engine.dispose()


def test_keys_prefer_producers_and_fall_back_to_place(pipeline: Pipeline) -> None:
    assert case_keys(pipeline.analyze("a", TOP_GLOVE_REPORT))[0].startswith("p:top glove|c:")
    assert case_keys(pipeline.analyze("b", COCOA_REPORT)) == ["r:gh|c:cocoa"]
    assert case_keys(pipeline.analyze("c", "Nothing specific was reported.")) == []
