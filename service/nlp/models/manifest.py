"""models/manifest.json: which trained artefacts exist, their versions and checksums.

The pipeline refuses to run a model whose files do not match the recorded checksums, so an analysis's recorded
model versions always mean the bytes that produced it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ManifestError(RuntimeError):
    """The manifest is missing, malformed, or does not match the files on disk."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def folder_checksums(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): file_sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()
    }


@dataclass
class ModelManifest:
    root: Path
    models: dict[str, dict[str, Any]]

    @classmethod
    def load(cls, root: Path) -> ModelManifest:
        path = root / "manifest.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ManifestError(f"cannot read {path}: {exc}") from exc
        return cls(root=root, models=dict(data.get("models", {})))

    def path_of(self, name: str) -> Path:
        return self.root / str(self.models[name]["path"])

    def version_of(self, name: str) -> str:
        return str(self.models[name]["version"])

    def encoder_adapter(self) -> Path | None:
        """The LoRA adapter the sentence encoder runs with, if the manifest lists one: service and training load
        the encoder through this, so heads are trained on the vectors they later see."""
        return self.path_of("encoder_adapter") if "encoder_adapter" in self.models else None

    def verify(self) -> None:
        for name, entry in self.models.items():
            folder = self.path_of(name)
            actual = folder_checksums(folder) if folder.is_dir() else {}
            if actual != entry.get("files"):
                raise ManifestError(f"model {name!r}: files under {folder} do not match the manifest checksums")

    def record(self, name: str, version: str, folder: Path, metrics: dict[str, Any], trained_on: str) -> None:
        """Add or replace one model's entry (used by the training scripts) and write the manifest."""
        self.models[name] = {
            "version": version,
            "path": str(folder.relative_to(self.root)),
            "trained_on": trained_on,
            "metrics": metrics,
            "files": folder_checksums(folder),
            "size_bytes": sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()),
        }
        data = {"schema": 1, "models": dict(sorted(self.models.items()))}
        (self.root / "manifest.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
