"""The review queue through the API: priority and uncertainty order, filters, claims and their expiry,
decisions as their own rows, the audit log and reviewer agreement."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from service.api.app import create_app
from service.auth import Role
from service.config import Settings
from service.db.engine import make_engine
from service.db.models import ReviewClaim
from tests.conftest import api_key, bearer

STRONG = (
    "Workers at the Sinar Jaya Rubber Products factory in Klang, Malaysia said the supervisor kept their passports "
    "and threatened to report them to immigration. They owed recruitment debts of 5,000 ringgit and were locked in "
    "the dormitory at night. The disposable gloves are shipped to Harbor Medical Supply in California."
)
MEDIUM = "Workers on a farm in Sinaloa said their wages were held back until the end of the harvest."
WEAK = "Someone told me that conditions are bad somewhere in the region."


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        test_client.headers.update(bearer(api_key(settings.database_url, Role.LEAD)))
        while test_client.get("/readyz").status_code != 200:
            time.sleep(0.05)
        yield test_client


def _submit(client: TestClient, text: str) -> str:
    response = client.post("/api/v1/documents?wait=true", json={"text": text, "source_type": "ngo_report"})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def test_queue_order_filters_claims_decisions_and_agreement(client: TestClient, settings: Settings) -> None:
    strong, medium, weak = _submit(client, STRONG), _submit(client, MEDIUM), _submit(client, WEAK)

    items = client.get("/api/v1/queue").json()["items"]
    assert items[0]["id"] == strong
    priorities = [i["priority"] for i in items]
    assert priorities == sorted(priorities, reverse=True)
    uncertain = client.get("/api/v1/queue", params={"order": "uncertain"}).json()["items"]
    values = [i["uncertainty"] for i in uncertain]
    assert values == sorted(values, reverse=True)

    by_indicator = client.get("/api/v1/queue", params={"indicator": "retention_of_identity_documents"}).json()
    assert [i["id"] for i in by_indicator["items"]] == [strong]
    by_country = client.get("/api/v1/queue", params={"country": "my"}).json()
    assert strong in [i["id"] for i in by_country["items"]] and weak not in [
        i["id"] for i in by_country["items"]
    ]
    assert client.get("/api/v1/queue", params={"indicator": "bogus"}).status_code == 422

    claim = client.post(f"/api/v1/queue/{strong}/claim", json={"reviewer": "alice", "minutes": 5})
    assert claim.status_code == 200
    assert strong not in [i["id"] for i in client.get("/api/v1/queue").json()["items"]]
    taken = client.post(f"/api/v1/queue/{strong}/claim", json={"reviewer": "bob"})
    assert taken.status_code == 409 and taken.json()["code"] == "claimed"
    assert client.post(f"/api/v1/queue/{strong}/claim", json={"reviewer": "alice"}).status_code == 200

    engine = make_engine(settings.database_url)
    with engine.begin() as connection:  # let alice's claim run out
        connection.execute(update(ReviewClaim).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    engine.dispose()
    assert strong in [i["id"] for i in client.get("/api/v1/queue").json()["items"]]
    assert client.post(f"/api/v1/queue/{strong}/claim", json={"reviewer": "bob"}).status_code == 200

    before = client.get(f"/api/v1/documents/{strong}/analysis").json()
    blocked = client.post(
        f"/api/v1/documents/{strong}/decisions", json={"reviewer": "alice", "action": "confirm"}
    )
    assert blocked.status_code == 409
    confirm = client.post(
        f"/api/v1/documents/{strong}/decisions", json={"reviewer": "bob", "action": "confirm"}
    )
    assert confirm.status_code == 201
    assert confirm.json()["tier"] == before["assessment"]["tier"]
    assert client.get(f"/api/v1/documents/{strong}/analysis").json() == before, "a decision never overwrites"
    assert strong not in [i["id"] for i in client.get("/api/v1/queue").json()["items"]]
    decided = client.get("/api/v1/queue", params={"include_decided": True}).json()["items"]
    assert strong in [i["id"] for i in decided]

    bad = client.post(
        f"/api/v1/documents/{strong}/decisions", json={"reviewer": "carol", "action": "correct"}
    )
    assert bad.status_code == 409
    correction = client.post(
        f"/api/v1/documents/{strong}/decisions",
        json={"reviewer": "carol", "action": "correct", "tier": "insufficient", "comment": "hearsay only"},
    )
    assert correction.status_code == 201
    both = client.get(f"/api/v1/documents/{strong}/decisions").json()
    assert [d["reviewer"] for d in both["decisions"]] == ["bob", "carol"]
    assert both["reviewers_agree_on_tier"] is (before["assessment"]["tier"] == "insufficient")

    dismissed = client.post(
        f"/api/v1/documents/{medium}/decisions", json={"reviewer": "bob", "action": "dismiss"}
    )
    assert dismissed.json()["tier"] == "insufficient"
    client.post(f"/api/v1/documents/{medium}/decisions", json={"reviewer": "alice", "action": "dismiss"})
    agreement = client.get("/api/v1/review/agreement").json()
    assert agreement["documents"] == 2
    expected = (1 + (before["assessment"]["tier"] == "insufficient")) / 2
    assert agreement["tier_agreement"] == expected

    actions = [e["action"] for e in client.get(f"/api/v1/documents/{strong}/audit").json()]
    assert actions[:2] == ["submitted", "analysed"]
    assert actions.count("claimed") == 3 and actions.count("decided") == 2


def test_claims_on_unready_or_unknown_documents(client: TestClient) -> None:
    assert client.post("/api/v1/queue/nope/claim", json={"reviewer": "a"}).status_code == 404
    failed = (
        client.post("/api/v1/documents?wait=true", files={"file": ("e.txt", b"")})
        .json()["message"]
        .split()[1]
    )
    response = client.post(f"/api/v1/queue/{failed}/claim", json={"reviewer": "a"})
    assert response.status_code == 409 and response.json()["code"] == "invalid_state"
    assert (
        client.post(
            f"/api/v1/documents/{failed}/decisions", json={"reviewer": "a", "action": "confirm"}
        ).status_code
        == 409
    )
