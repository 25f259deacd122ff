"""Batches, cases and the decision export through the API."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.auth import Role
from service.config import Settings
from tests.conftest import api_key, bearer
from tests.test_cases import COCOA_REPORT, TOP_GLOVE_INDEPENDENT, TOP_GLOVE_REPORT, TOP_GLOVE_RETOLD


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings.model_copy(update={"document_embeddings": True}))) as test_client:
        test_client.headers.update(bearer(api_key(settings.database_url, Role.LEAD)))
        while test_client.get("/readyz").status_code != 200:
            time.sleep(0.05)
        yield test_client


def _zip(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _wait_finished(client: TestClient, batch_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state: dict[str, object] = client.get(f"/api/v1/batches/{batch_id}").json()
        if state["queued"] == 0 and state["processing"] == 0:
            return state
        time.sleep(0.1)
    raise AssertionError("batch did not finish")


def test_zip_batch_is_processed_and_grouped_into_cases(client: TestClient) -> None:
    archive = _zip(
        {
            "a.txt": TOP_GLOVE_REPORT,
            "b.txt": TOP_GLOVE_RETOLD,
            "c.txt": TOP_GLOVE_INDEPENDENT,
            "d.txt": COCOA_REPORT,
        }
    )
    created = client.post(
        "/api/v1/batches",
        files={"file": ("docs.zip", archive, "application/zip")},
        data={"source_type": "news"},
    )
    assert created.status_code == 201, created.text
    batch = created.json()
    assert (batch["total"], batch["stored"], batch["kind"]) == (4, 4, "zip")
    final = _wait_finished(client, batch["id"])
    assert (final["done"], final["failed"]) == (4, 0)
    assert batch["id"] in {b["id"] for b in client.get("/api/v1/batches").json()["items"]}

    cases = client.get("/api/v1/cases").json()["items"]
    assert sorted(c["documents"] for c in cases) == [1, 3]
    glove = next(c for c in cases if c["documents"] == 3)
    cocoa = next(c for c in cases if c["documents"] == 1)
    detail = client.get(f"/api/v1/cases/{glove['id']}").json()
    assert detail["assessment"]["independent_sources"] == 2
    assert detail["strongest_evidence"] and detail["sources"][0]["received_at"]

    merged = client.post(
        f"/api/v1/cases/{glove['id']}/merge", json={"reviewer": "lead", "case_ids": [cocoa["id"]]}
    )
    assert merged.status_code == 200 and merged.json()["documents"] == 4
    again = client.post(
        f"/api/v1/cases/{glove['id']}/merge", json={"reviewer": "lead", "case_ids": [cocoa["id"]]}
    )
    assert again.status_code == 409
    cocoa_ids = [
        s["document_id"]
        for s in merged.json()["sources"]
        if "cocoa" in client.get(f"/api/v1/documents/{s['document_id']}/text").json()["text"]
    ]
    assert len(cocoa_ids) == 1
    split = client.post(
        f"/api/v1/cases/{glove['id']}/split", json={"reviewer": "lead", "document_ids": cocoa_ids}
    )
    assert split.status_code == 201 and split.json()["documents"] == 1
    assert client.get(f"/api/v1/cases/{glove['id']}").json()["documents"] == 3
    assert client.get("/api/v1/cases/nope").status_code == 404
    audit = [e["action"] for e in client.get(f"/api/v1/documents/{cocoa_ids[0]}/audit").json()]
    assert {"case_assigned", "case_merged", "case_split"} <= set(audit)


def test_bad_batches_get_clear_errors(client: TestClient) -> None:
    not_multipart = client.post(
        "/api/v1/batches", content=b"{}", headers={"content-type": "application/json"}
    )
    assert not_multipart.status_code == 415
    missing = client.post("/api/v1/batches", data={"source_type": "news"}, files={"other": ("x", b"1")})
    assert missing.status_code == 422 and missing.json()["code"] == "missing_file"
    broken = client.post(
        "/api/v1/batches", files={"file": ("x.zip", b"PK\x03\x04garbage", "application/zip")}
    )
    assert broken.status_code == 422 and broken.json()["code"] == "invalid_archive"
    empty = client.post("/api/v1/batches", files={"file": ("x.jsonl", b"", "application/x-ndjson")})
    assert empty.status_code == 422 and empty.json()["code"] == "empty"


def test_decisions_export_in_corpus_format(client: TestClient) -> None:
    doc = client.post("/api/v1/documents?wait=true", json={"text": TOP_GLOVE_REPORT}).json()
    present = [i["id"] for i in doc["indicators"] if i["present"]]
    assert "retention_of_identity_documents" in present
    kept = [i for i in present if i != "retention_of_identity_documents"]
    decided = client.post(
        f"/api/v1/documents/{doc['id']}/decisions",
        json={"reviewer": "ana", "action": "correct", "indicators": kept, "tier": "reasonable"},
    )
    assert decided.status_code == 201, decided.text
    response = client.get("/api/v1/decisions/export")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    records = [json.loads(line) for line in response.text.splitlines()]
    assert len(records) == 1
    record = records[0]
    assert record["gold"]["indicators"] == sorted(kept) and record["tier"] == "reasonable"
    labelled = {i["id"] for s in record["sentences"] for i in s["indicators"]}
    assert "retention_of_identity_documents" not in labelled, "a removed indicator becomes a negative example"
    assert labelled <= set(kept)
    assert record["provenance"]["reviewer"] == "ana"
    assert all(record["text"][e["start"] : e["end"]] == e["text"] for e in record["entities"])

    from training.datasets import sentence_set

    data = sentence_set([record])
    assert len(data.texts) == len(record["sentences"]) and data.labels.shape[1] == 11
