"""`triage eval` metrics agree with the team's reference scorer on the development set."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from service.evaluation import lenient_match, score_predictions
from service.nlp.pipeline import Pipeline
from tests.conftest import SHARED_DIR


@pytest.mark.integration
def test_metrics_match_reference_scorer(dev_set_path: Path, pipeline: Pipeline, tmp_path: Path) -> None:
    rows = [
        json.loads(line) for line in dev_set_path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    analyses = list(pipeline.analyze_many([(r["id"], r["text"], None) for r in rows]))
    preds_path = tmp_path / "pred.jsonl"
    preds_path.write_text("".join(a.model_dump_json() + "\n" for a in analyses), encoding="utf-8")
    reference = subprocess.run(
        [sys.executable, str(SHARED_DIR / "eval" / "score.py"), str(dev_set_path), str(preds_path), "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    expected = json.loads(reference.stdout)
    ours = score_predictions(rows, {a.id: a.model_dump(mode="json") for a in analyses})
    assert ours == expected


def test_lenient_matching_rules() -> None:
    assert lenient_match("Top Glove Corporation Bhd", "top glove")
    assert lenient_match("disposable rubber gloves", "rubber glove")
    assert not lenient_match("palm oil", "olive oil")


def test_scores_on_a_tiny_gold_set() -> None:
    gold = [
        {
            "id": "a",
            "gold": {
                "producers": ["Acme Mills"],
                "commodities": [],
                "locations": [],
                "indicators": ["debt_bondage"],
                "us_nexus": True,
                "tier": "reasonable",
            },
        },
        {
            "id": "b",
            "gold": {
                "producers": [],
                "commodities": [],
                "locations": [],
                "indicators": [],
                "us_nexus": False,
                "tier": "insufficient",
            },
        },
    ]
    preds = {
        "a": {
            "entities": {"producers": [{"text": "Acme Mills Ltd"}]},
            "indicators": [{"id": "debt_bondage", "present": True, "score": 0.9}],
            "us_nexus": {"present": True},
            "assessment": {"tier": "reasonable", "score": 0.8},
        },
        "b": {
            "entities": {"producers": [{"text": "Wrong Co"}]},
            "indicators": [{"id": "debt_bondage", "present": False, "score": 0.2}],
            "us_nexus": {"present": True},
            "assessment": {"tier": "insufficient", "score": 0.1},
        },
    }
    scores = score_predictions(gold, preds)
    assert scores["producers_p"] == 0.5 and scores["producers_r"] == 1.0
    assert scores["indicators_micro_f1"] == 1.0
    assert scores["us_nexus_accuracy"] == 0.5
    assert scores["tier_accuracy"] == 1.0 and scores["wro_bar_auc"] == 1.0
