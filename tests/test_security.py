"""Every route against every role, from a declared policy table; then the object-level checks.

The table is the README's "Security" table. A route added without an entry here fails the test, so nobody can
add an endpoint without deciding who may call it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from service.api.app import create_app
from service.auth import Role, create_user
from service.config import Settings
from service.db.engine import make_engine
from tests.conftest import api_key, bearer
from tests.ingest.samples import REPORT_TEXT
from tests.web.conftest import token_of

PUBLIC = "public"
S, R, L, A = Role.SUBMITTER, Role.REVIEWER, Role.LEAD, Role.ADMIN
POLICY: dict[tuple[str, str], str | Role] = {
    # API v1: keys only
    ("POST", "/api/v1/documents"): S,
    ("GET", "/api/v1/documents"): R,
    ("GET", "/api/v1/documents/{document_id}"): R,
    ("DELETE", "/api/v1/documents/{document_id}"): L,
    ("GET", "/api/v1/documents/{document_id}/status"): S,
    ("GET", "/api/v1/documents/{document_id}/text"): R,
    ("GET", "/api/v1/documents/{document_id}/analysis"): R,
    ("POST", "/api/v1/documents/{document_id}/retry"): R,
    ("POST", "/api/v1/analyze"): R,
    ("GET", "/api/v1/queue"): R,
    ("POST", "/api/v1/queue/{document_id}/claim"): R,
    ("DELETE", "/api/v1/queue/{document_id}/claim"): R,
    ("POST", "/api/v1/documents/{document_id}/decisions"): R,
    ("GET", "/api/v1/documents/{document_id}/decisions"): R,
    ("GET", "/api/v1/documents/{document_id}/audit"): L,
    ("GET", "/api/v1/review/agreement"): L,
    ("POST", "/api/v1/batches"): S,
    ("GET", "/api/v1/batches"): R,
    ("GET", "/api/v1/batches/{batch_id}"): S,
    ("GET", "/api/v1/cases"): R,
    ("GET", "/api/v1/cases/{case_id}"): R,
    ("POST", "/api/v1/cases/{case_id}/merge"): R,
    ("POST", "/api/v1/cases/{case_id}/split"): R,
    ("GET", "/api/v1/decisions/export"): L,
    ("GET", "/api/v1/audit/verify"): L,
    ("POST", "/api/v1/apikeys"): A,
    ("GET", "/api/v1/apikeys"): A,
    ("DELETE", "/api/v1/apikeys/{key_id}"): A,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    # web: the public intake, and the investigators' pages behind the session login
    ("GET", "/"): PUBLIC,
    ("GET", "/submit"): PUBLIC,
    ("POST", "/submit"): PUBLIC,
    ("POST", "/submit/coach"): PUBLIC,
    ("GET", "/status"): PUBLIC,
    ("POST", "/status"): PUBLIC,
    ("POST", "/status/evidence"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", "/review"): R,
    ("GET", "/review/documents/{document_id}"): R,
    ("POST", "/review/documents/{document_id}/claim"): R,
    ("POST", "/review/documents/{document_id}/decision"): R,
    ("GET", "/review/cases"): R,
    ("GET", "/review/cases/{case_id}"): R,
    ("POST", "/review/cases/{case_id}/merge"): R,
    ("POST", "/review/cases/{case_id}/split"): R,
    ("GET", "/review/metrics"): R,
    ("GET", "/review/metrics/plot/{index}.png"): R,
}
PASSWORD = "a long password"


def _routes(routes: list[object]) -> list[tuple[str, str]]:
    """(method, path) of every route, looking inside included routers (FastAPI keeps them nested)."""
    found: list[tuple[str, str]] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            assert not getattr(getattr(route, "include_context", None), "prefix", ""), "prefixed router"
            found.extend(_routes(list(inner.routes)))
            continue
        if isinstance(route, Mount):
            assert route.path == "/static", f"an unexpected mount {route.path}"
            continue
        assert isinstance(route, APIRoute | Route)
        found.extend((method, route.path) for method in sorted(route.methods or ()) if method != "HEAD")
    return found


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    loose = settings.model_copy(
        update={"session_secret": "s" * 40, "submit_rate_limit": "1000/minute", "worker": "none"}
    )
    with TestClient(create_app(loose)) as test_client:
        while test_client.get("/readyz").status_code != 200:
            time.sleep(0.05)
        yield test_client


def _web_client(client: TestClient, role: Role) -> TestClient:
    engine = make_engine(client.app.state.triage.settings.database_url)  # type: ignore[attr-defined]
    create_user(engine, f"user-{role.value}", role, PASSWORD)
    engine.dispose()
    session = TestClient(client.app)
    token = token_of(session, "/login")
    response = session.post(
        "/login",
        data={"name": f"user-{role.value}", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    return session


def test_every_route_is_in_the_policy_and_enforces_it(client: TestClient) -> None:
    routes = _routes(list(client.app.routes))  # type: ignore[attr-defined]
    missing = sorted(set(routes) - set(POLICY))
    assert not missing, f"routes without a policy entry: {missing}"
    assert not set(POLICY) - set(routes), "the policy names routes that no longer exist"
    database_url = client.app.state.triage.settings.database_url  # type: ignore[attr-defined]
    keys = {role: api_key(database_url, role) for role in Role}
    web = {role: _web_client(client, role) for role in Role}
    anonymous = TestClient(client.app)
    checked = 0
    # Logging out ends the sessions the other checks use, so it comes last.
    for (method, template), needed in sorted(POLICY.items(), key=lambda i: (i[0][1] == "/logout", i[0])):
        path = re.sub(r"\{index\}", "0", re.sub(r"\{\w+\}", "nonexistent", template))
        if method == "DELETE" and template == "/api/v1/documents/{document_id}":
            path += "?reason=test"
        is_api = template.startswith("/api/")
        anonymous_status: int | None = None
        for role in [None, *Role]:
            caller = anonymous if role is None or is_api else web[role]
            headers = bearer(keys[role]) if is_api and role is not None else {}
            if method == "POST" and not is_api:
                headers["X-CSRF-Token"] = token_of(caller, "/login")
            response = caller.request(method, path, headers=headers, follow_redirects=False)
            label = f"{method} {path} as {role.value if role else 'anonymous'}"
            if needed == PUBLIC:
                # No gate: whoever calls gets what an anonymous caller gets (the route's own answer).
                anonymous_status = anonymous_status or response.status_code
                assert response.status_code == anonymous_status < 500, f"{label}: {response.status_code}"
            elif role is not None and role.includes(Role(needed)):
                assert response.status_code not in (401, 403), f"{label}: {response.status_code}"
                assert response.status_code < 500, f"{label}: {response.status_code} {response.text}"
            elif role is None and is_api:
                assert response.status_code == 401, label
                assert response.headers["www-authenticate"].startswith("Bearer")
                assert response.json()["code"] == "unauthorized"
            elif role is None:
                assert response.status_code == 303, label
                assert response.headers["location"].startswith("/login"), label
            else:
                assert response.status_code == 403, f"{label}: {response.status_code}"
            checked += 1
    assert checked == len(POLICY) * 5


def test_keys_are_checked_by_value_and_can_be_revoked(client: TestClient) -> None:
    database_url = client.app.state.triage.settings.database_url  # type: ignore[attr-defined]
    admin = bearer(api_key(database_url, Role.ADMIN))
    made = client.post("/api/v1/apikeys", json={"name": "ngo-x", "role": "reviewer"}, headers=admin)
    assert made.status_code == 201
    key, key_id = made.json()["key"], made.json()["id"]
    assert client.get("/api/v1/queue", headers={"X-API-Key": key}).status_code == 200
    listed = client.get("/api/v1/apikeys", headers=admin).json()
    assert key_id in {k["id"] for k in listed} and all("key" not in k for k in listed)
    forged = key[:-4] + ("aaaa" if not key.endswith("aaaa") else "bbbb")
    assert client.get("/api/v1/queue", headers=bearer(forged)).status_code == 401
    assert client.get("/api/v1/queue", headers=bearer("wro_garbage")).status_code == 401
    assert client.delete(f"/api/v1/apikeys/{key_id}", headers=admin).json()["revoked_at"] is not None
    assert client.get("/api/v1/queue", headers=bearer(key)).status_code == 401


def test_a_submitter_key_reads_only_its_own_submissions(client: TestClient) -> None:
    database_url = client.app.state.triage.settings.database_url  # type: ignore[attr-defined]
    mine, other = (bearer(api_key(database_url, Role.SUBMITTER, n)) for n in ("ngo-a", "ngo-b"))
    reviewer = bearer(api_key(database_url, Role.REVIEWER))
    sent = client.post("/api/v1/documents", json={"text": REPORT_TEXT}, headers=mine).json()
    status_url = sent["status_url"]
    assert client.get(status_url, headers=mine).status_code == 200
    assert client.get(status_url, headers=other).status_code == 404
    assert client.get(status_url, headers=reviewer).status_code == 200
    assert client.get(sent["document_url"], headers=mine).status_code == 403
    assert client.post("/api/v1/documents?wait=true", json={"text": "x"}, headers=mine).status_code == 403
    batch = client.post(
        "/api/v1/batches",
        files={"file": ("b.jsonl", b'{"id": "1", "text": "Workers paid fees."}\n', "application/x-ndjson")},
        headers=mine,
    ).json()
    assert client.get(f"/api/v1/batches/{batch['id']}", headers=mine).status_code == 200
    assert client.get(f"/api/v1/batches/{batch['id']}", headers=other).status_code == 404
    # The same content sent by the other submitter makes it theirs too, without revealing who else sent it.
    client.post("/api/v1/documents", json={"text": REPORT_TEXT}, headers=other)
    assert client.get(status_url, headers=other).status_code == 200
    document = client.get(sent["document_url"], headers=reviewer).json()
    assert "api_key_id" not in str(document) and "ngo-a" not in str(document)


def test_reviewers_decide_under_their_own_name(client: TestClient) -> None:
    database_url = client.app.state.triage.settings.database_url  # type: ignore[attr-defined]
    ana = bearer(api_key(database_url, Role.REVIEWER, "ana"))
    lead = bearer(api_key(database_url, Role.LEAD, "lena"))
    document = client.post("/api/v1/documents", json={"text": REPORT_TEXT}, headers=ana).json()["id"]
    from service.documents import claim_document, process_document

    state = client.app.state.triage  # type: ignore[attr-defined]
    assert claim_document(state.engine, document)
    process_document(state.engine, state.pipeline, state.settings, document)
    as_other = {"reviewer": "bob", "action": "confirm"}
    assert (
        client.post(f"/api/v1/documents/{document}/decisions", json=as_other, headers=ana).status_code == 403
    )
    assert (
        client.post(f"/api/v1/queue/{document}/claim", json={"reviewer": "bob"}, headers=ana).status_code
        == 403
    )
    own = {"reviewer": "ana", "action": "confirm"}
    assert client.post(f"/api/v1/documents/{document}/decisions", json=own, headers=ana).status_code == 201
    on_paper = {"reviewer": "bob", "action": "dismiss", "comment": "decided at the weekly meeting"}
    assert (
        client.post(f"/api/v1/documents/{document}/decisions", json=on_paper, headers=lead).status_code == 201
    )
    trail = client.get(f"/api/v1/documents/{document}/audit", headers=lead).json()
    decided = [e for e in trail if e["action"] == "decided"]
    assert [e["actor"] for e in decided] == ["ana", "bob"]
    assert decided[1]["details"]["recorded_by"].startswith("apikey:")
