"""Shipped models match their manifest; a changed file is refused rather than silently used."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from service.config import REPO_ROOT
from service.nlp.models.manifest import ManifestError, ModelManifest


def test_shipped_models_match_manifest() -> None:
    manifest = ModelManifest.load(REPO_ROOT / "models")
    assert {"indicators", "entities", "assessment"} <= set(manifest.models)
    manifest.verify()
    for entry in manifest.models.values():
        assert entry["version"] and entry["files"] and entry["metrics"]
        assert entry["size_bytes"] < 30 * 1024 * 1024, "models stay small enough for git"


def test_tampered_model_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "models"
    shutil.copytree(REPO_ROOT / "models", copy)
    manifest = ModelManifest.load(copy)
    target = manifest.path_of("indicators") / "meta.json"
    target.write_text(target.read_text() + " ")
    with pytest.raises(ManifestError):
        ModelManifest.load(copy).verify()


def test_encoder_adapter_is_the_listed_folder_or_none(tmp_path: Path) -> None:
    plain = ModelManifest(tmp_path, {"indicators": {"path": "indicators", "version": "v"}})
    assert plain.encoder_adapter() is None
    adapted = ModelManifest(tmp_path, {"encoder_adapter": {"path": "adapter", "version": "v"}})
    assert adapted.encoder_adapter() == tmp_path / "adapter"
