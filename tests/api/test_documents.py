"""The API round trip on the embedded default (SQLite, in-process worker)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.auth import Role
from service.config import Settings
from service.contract import INDICATOR_IDS, Analysis
from tests.conftest import api_key, bearer
from tests.ingest.samples import REPORT_TEXT, pdf_bytes

CONTRACT_KEYS = {"id", "entities", "indicators", "us_nexus", "assessment", "versions"}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        test_client.headers.update(bearer(api_key(settings.database_url, Role.LEAD)))
        deadline = time.monotonic() + 60
        while test_client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "models did not load"
            time.sleep(0.05)
        yield test_client


def _wait_status(client: TestClient, url: str, wanted: set[str]) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while True:
        body: dict[str, object] = client.get(url).json()
        if body["status"] in wanted:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["pipeline"].endswith("/rules")


def test_pdf_with_wait_returns_full_analysis(client: TestClient) -> None:
    response = client.post(
        "/api/v1/documents?wait=true",
        files={"file": ("report.pdf", pdf_bytes([REPORT_TEXT]), "application/pdf")},
        data={"source_type": "ngo_report", "source_url": "https://example.org/r"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) >= CONTRACT_KEYS
    analysis = Analysis.model_validate(body)
    assert [i.id for i in analysis.indicators] == list(INDICATOR_IDS)
    assert {"producers", "commodities", "locations"} <= set(body["entities"])
    assert body["assessment"]["tier"] in {"insufficient", "reasonable", "conclusive"}
    assert 0 <= body["assessment"]["score"] <= 1
    assert isinstance(body["assessment"]["missing"], list)
    assert body["versions"]["models"]
    retention = next(i for i in analysis.indicators if i.id == "retention_of_identity_documents")
    assert retention.present
    document = client.get(f"/api/v1/documents/{analysis.id}").json()
    text = client.get(f"/api/v1/documents/{analysis.id}/text").json()["text"]
    for evidence in retention.evidence:
        assert text[evidence.start : evidence.end] == evidence.text
    assert document["status"] == "done"
    assert document["media_type"] == "application/pdf"
    assert document["submissions"][0]["source_url"] == "https://example.org/r"
    assert document["analysis"]["id"] == analysis.id


def test_json_text_is_accepted_then_processed(client: TestClient) -> None:
    response = client.post("/api/v1/documents", json={"text": REPORT_TEXT, "source_type": "e_allegation"})
    assert response.status_code == 202
    accepted = response.json()
    assert accepted["duplicate"] is False
    _wait_status(client, accepted["status_url"], {"done"})
    analysis = client.get(f"/api/v1/documents/{accepted['id']}/analysis")
    assert analysis.status_code == 200
    again = client.post("/api/v1/documents", json={"text": REPORT_TEXT}).json()
    assert again["id"] == accepted["id"] and again["duplicate"] is True


def test_failed_upload_is_kept_and_retryable(client: TestClient) -> None:
    broken = pdf_bytes([REPORT_TEXT])[:250]
    response = client.post("/api/v1/documents", files={"file": ("broken.pdf", broken, "application/pdf")})
    assert response.status_code == 202
    doc_id = response.json()["id"]
    status = _wait_status(client, f"/api/v1/documents/{doc_id}/status", {"failed"})
    assert status["failure_code"] == "corrupt_file"
    assert client.get(f"/api/v1/documents/{doc_id}/analysis").status_code == 409
    retry = client.post(f"/api/v1/documents/{doc_id}/retry")
    assert retry.status_code == 202
    status = _wait_status(client, f"/api/v1/documents/{doc_id}/status", {"failed"})
    assert status["attempts"] == 2
    assert client.post(f"/api/v1/documents/{doc_id}/retry").status_code == 202


def test_wait_on_failing_document_gives_clear_error(client: TestClient) -> None:
    response = client.post("/api/v1/documents?wait=true", files={"file": ("empty.txt", b"", "text/plain")})
    assert response.status_code == 422
    assert response.json()["code"] == "empty_file"
    listed = client.get("/api/v1/documents", params={"status": "failed"}).json()
    assert listed["total"] == 1, "the failed upload is stored, not lost"


def test_list_filters_and_pagination(client: TestClient) -> None:
    for i in range(5):
        client.post(
            "/api/v1/documents?wait=true",
            json={"text": f"Report {i}: {REPORT_TEXT}", "source_type": "news" if i % 2 else "ngo_report"},
        )
    page = client.get("/api/v1/documents", params={"limit": 2, "offset": 0}).json()
    assert page["total"] == 5 and len(page["items"]) == 2
    rest = client.get("/api/v1/documents", params={"limit": 10, "offset": 2}).json()
    assert len(rest["items"]) == 3
    assert not {i["id"] for i in page["items"]} & {i["id"] for i in rest["items"]}
    news = client.get("/api/v1/documents", params={"source_type": "news"}).json()
    assert news["total"] == 2
    assert client.get("/api/v1/documents", params={"limit": 0}).status_code == 422
    assert client.get("/api/v1/documents", params={"tier": "bogus"}).status_code == 422


def test_stateless_analyze_stores_nothing(client: TestClient) -> None:
    response = client.post("/api/v1/analyze", json={"id": "x1", "text": REPORT_TEXT})
    assert response.status_code == 200
    assert response.json()["id"] == "x1"
    assert client.get("/api/v1/documents").json()["total"] == 0


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        (
            {"content": b"plain body", "headers": {"content-type": "text/plain"}},
            415,
            "unsupported_media_type",
        ),
        ({"data": {"source_type": "news"}, "files": {"other": ("a.txt", b"x")}}, 422, "missing_file"),
        (
            {"files": {"file": ("a.txt", b"abc")}, "data": {"source_type": "tabloid"}},
            422,
            "invalid_source_type",
        ),
        ({"json": {"text": ""}}, 422, "invalid_request"),
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 422, "invalid_request"),
    ],
)
def test_bad_submissions_get_clear_4xx(
    client: TestClient, kwargs: dict[str, object], status: int, code: str
) -> None:
    response = client.post("/api/v1/documents", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


def test_oversized_upload_is_refused(settings: Settings) -> None:
    small = settings.model_copy(update={"max_upload_bytes": 1000})
    with TestClient(create_app(small)) as test_client:
        test_client.headers.update(bearer(api_key(settings.database_url, Role.LEAD)))
        response = test_client.post("/api/v1/documents", files={"file": ("big.txt", b"a" * 5000)})
        assert response.status_code == 413
        assert response.json()["code"] == "too_large"


def test_unknown_document_is_404(client: TestClient) -> None:
    for path in ("", "/status", "/text", "/analysis"):
        response = client.get(f"/api/v1/documents/nope{path}")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_openapi_documents_the_contract(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "Analysis" in spec["components"]["schemas"]
    body = spec["paths"]["/api/v1/documents"]["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "application/json"} <= set(body)


def test_linked_orders_appear_in_the_api_response(client: TestClient) -> None:
    text = (
        "Workers at the Sime Darbi Plantation Berhad estates in Sabah said their passports were held by managers. "
        "A smaller mill nearby, Kemuning Rubber Products Sdn Bhd, was not named in any complaint."
    )
    body = client.post("/api/v1/analyze", json={"id": "link", "text": text}).json()
    producers = {p["text"]: p for p in body["entities"]["producers"]}
    sime = next(p for name, p in producers.items() if "Sime Darbi" in name)
    orders = {o["id"]: o for o in sime["known_orders"]}
    assert orders["wf-053"]["type"] == "WRO" and orders["wf-053"]["status"] and orders["wf-053"]["date"]
    kemuning = next(p for name, p in producers.items() if name.startswith("Kemuning"))
    assert kemuning["known_orders"] == []
