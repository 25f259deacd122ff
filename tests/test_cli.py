"""The `triage` command as CONTRACT.md describes it, run as a real subprocess from the project's venv."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from service.labels import INDICATOR_IDS
from tests.ingest.samples import REPORT_TEXT, pdf_bytes
from tests.servers import TRIAGE


def _run(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TRIAGE), *args], input=stdin, capture_output=True, text=True, timeout=300, env=env
    )


@pytest.mark.integration
def test_analyze_jsonl_keeps_order_and_reports_bad_lines() -> None:
    lines = [
        json.dumps({"id": "one", "text": REPORT_TEXT, "extra": 1}),
        "{not json",
        json.dumps({"id": "two", "text": ""}),
        json.dumps({"id": "three", "text": "Tariff schedules changed for steel pipe imports."}),
    ]
    result = _run("analyze", "--jsonl", "-", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o.get("id") for o in out] == ["one", None, "two", "three"]
    assert "error" in out[1] and "error" in out[2]
    assert len(out[0]["indicators"]) == 11 and out[3]["assessment"]["tier"] == "insufficient"


@pytest.mark.integration
def test_analyze_dev_set_gives_one_valid_line_per_document(dev_set_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "pred.jsonl"
    result = _run("analyze", "--jsonl", str(dev_set_path), "--out", str(out))
    assert result.returncode == 0, result.stderr
    gold_ids = [json.loads(line)["id"] for line in dev_set_path.read_text().splitlines() if line.strip()]
    preds = [json.loads(line) for line in out.read_text().splitlines()]
    assert [p["id"] for p in preds] == gold_ids
    assert all({"entities", "indicators", "us_nexus", "assessment", "versions"} <= set(p) for p in preds)


@pytest.mark.integration
def test_analyze_files(tmp_path: Path) -> None:
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(pdf_bytes([REPORT_TEXT]))
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    result = _run("analyze", str(pdf), str(empty))
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["id"] == str(pdf) and first["indicators"]
    assert second["error"].startswith("empty_file")


def test_analyze_without_input_is_a_usage_error() -> None:
    assert _run("analyze").returncode == 2


@pytest.mark.integration
def test_eval_prints_metrics(dev_set_path: Path) -> None:
    result = _run("eval", str(dev_set_path), "--json")
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    for key in (
        "producers_f1",
        "indicators_micro_f1",
        "indicators_mean_auc",
        "us_nexus_accuracy",
        "tier_accuracy",
        "wro_bar_auc",
        "wro_bar_ece",
    ):
        assert 0 <= metrics[key] <= 1
    assert Path(metrics["reliability_plot"]).read_bytes().startswith(b"\x89PNG")


@pytest.mark.integration
def test_eval_compares_pipelines_side_by_side(tmp_path: Path) -> None:
    from service.config import REPO_ROOT

    test_split = REPO_ROOT / "corpora" / "wro_triage" / "v1" / "test.jsonl"
    lines = test_split.read_text(encoding="utf-8").splitlines(keepends=True)[:4]
    small = tmp_path / "small.jsonl"
    small.write_text("".join(lines), encoding="utf-8")
    result = _run("eval", str(small), "--compare", "--json")
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert set(metrics) == {"small.jsonl · rules", "small.jsonl · models"}
    assert all("producers_f1" in m and "wro_bar_ece" in m for m in metrics.values())


@pytest.mark.integration
def test_ingest_folder_into_database(tmp_path: Path) -> None:
    import os

    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text(REPORT_TEXT)
    (folder / "sub" / "b.pdf").write_bytes(pdf_bytes([REPORT_TEXT + " Second copy."]))
    (folder / "sub" / "c.txt").write_bytes(b"")
    env = {**os.environ, "TRIAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    result = _run("ingest", str(folder), "--source-type", "ngo_report", env=env)
    assert result.returncode == 0, result.stderr
    assert "3 stored, 0 rejected of 3" in result.stderr

    from service.db.engine import make_engine
    from service.db.models import DocumentStatus
    from service.documents import DocumentFilter, list_documents

    engine = make_engine(env["TRIAGE_DATABASE_URL"])
    total, rows = list_documents(engine, DocumentFilter(), 10, 0)
    assert total == 3
    assert sorted(r.status for r in rows) == sorted(
        [DocumentStatus.DONE.value] * 2 + [DocumentStatus.FAILED.value]
    )
    engine.dispose()


def test_corpus_stats_json() -> None:
    result = _run("corpus", "stats", "--json")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert stats["documents"] >= 800 and stats["near_duplicate_pairs"] == 0
    assert set(stats["indicators"]) == set(INDICATOR_IDS)


@pytest.mark.integration
def test_standalone_worker_processes_the_shared_queue(tmp_path: Path) -> None:
    import os

    from service.db.engine import make_engine, upgrade_database
    from service.db.models import DocumentStatus
    from service.documents import SubmissionMeta, get_document, submit_document

    url = f"sqlite:///{tmp_path / 'queue.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    ids = [
        submit_document(engine, f"{REPORT_TEXT} Copy {i}.".encode(), SubmissionMeta()).document.id
        for i in range(3)
    ]
    result = _run("worker", "--once", env={**os.environ, "TRIAGE_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert "processed 3 documents" in result.stderr
    assert {get_document(engine, i).status for i in ids} == {DocumentStatus.DONE.value}
    engine.dispose()
