"""The web pages through FastAPI's TestClient: CSRF on every POST, escaping, upload and rate limits, language
choice, receipts and login."""

from __future__ import annotations

import re
import time

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.api.app import create_app
from service.auth import Role, create_user
from service.config import Settings
from service.db.engine import make_engine
from service.db.models import IntakeItem
from service.intake import receipt_hash
from service.web.routes import router as web_router
from tests.web.conftest import token_of

STRONG = (
    "Workers at the Sinar Jaya Rubber Products factory in Klang, Malaysia said the supervisor kept their passports "
    "and threatened to report them to immigration. They owed recruitment debts of 5,000 ringgit and were locked in "
    "the dormitory at night. The disposable gloves are shipped to Harbor Medical Supply in California."
)
NEXUS = " The gloves are exported to the United States, where Harbor Medical Supply imports them."


def _receipt(text: str) -> str:
    match = re.search(r'id="receipt-code">([^<]+)<', text)
    assert match
    return match.group(1)


def _wait_done(client: TestClient, document_ids: list[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        states = [client.get(f"/api/v1/documents/{d}/status").json()["status"] for d in document_ids]
        if all(s in ("done", "failed") for s in states):
            return
        time.sleep(0.1)
    raise AssertionError("documents were not processed")


def test_every_web_post_route_refuses_a_missing_or_wrong_csrf_token(client: TestClient) -> None:
    posts = [
        r.path.replace("{document_id}", "0" * 32).replace("{case_id}", "0" * 32)
        for r in web_router.routes
        if isinstance(r, APIRoute) and "POST" in (r.methods or set())
    ]
    assert {"/submit", "/submit/coach", "/status", "/status/evidence", "/login", "/logout"} <= set(posts)
    token_of(client)  # the session now has a token, so only the missing/wrong value is at fault
    for path in posts:
        assert client.post(path, data={"details": "x"}).status_code == 403, path
        assert client.post(path, data={"csrf_token": "forged"}).status_code == 403, path


def test_anonymous_submission_gets_a_receipt_stored_only_as_a_hash(
    client: TestClient, web_settings: Settings
) -> None:
    token = token_of(client)
    response = client.post(
        "/submit",
        data={"csrf_token": token, "details": STRONG, "identity": "anonymous", "name": "should not be kept"},
        files={"attachments": ("note.txt", b"They kept our passports at the Klang factory.", "text/plain")},
    )
    assert response.status_code == 200
    code = _receipt(response.text)
    assert response.headers["cache-control"] == "no-store"
    engine = make_engine(web_settings.database_url)
    with Session(engine) as session:
        items = session.exec(select(IntakeItem)).all()
    engine.dispose()
    assert len(items) == 2 and {i.kind for i in items} == {"form", "attachment"}
    assert all(i.receipt_hash == receipt_hash(code) and code not in i.receipt_hash for i in items)
    assert all(i.submitter_name is None for i in items)

    _wait_done(client, [i.document_id for i in items])
    assert client.post("/status", data={"csrf_token": token, "code": "NOPE-NOPE"}).status_code == 404
    found = client.post("/status", data={"csrf_token": token, "code": code.lower()}, follow_redirects=True)
    assert found.status_code == 200 and found.text.count('data-status="done"') == 2
    added = client.post(
        "/status/evidence", data={"csrf_token": token, "text": "Photos of the dormitory locks."}
    )
    assert added.status_code == 200 and "Your new evidence was added" in added.text
    assert added.text.count("<li data-status=") == 3


def test_named_submission_keeps_the_name_out_of_the_analysed_text(
    client: TestClient, web_settings: Settings
) -> None:
    token = token_of(client)
    response = client.post(
        "/submit",
        data={
            "csrf_token": token,
            "details": STRONG,
            "identity": "named",
            "name": "Ana Ruiz",
            "contact": "a@x",
        },
    )
    assert response.status_code == 200
    engine = make_engine(web_settings.database_url)
    with Session(engine) as session:
        item = session.exec(select(IntakeItem)).one()
    engine.dispose()
    assert item.submitter_name == "Ana Ruiz" and item.submitter_contact == "a@x"
    _wait_done(client, [item.document_id])
    text = client.get(f"/api/v1/documents/{item.document_id}/text").json()["text"]
    assert "Ana Ruiz" not in text and "Sinar Jaya" in text


def test_empty_submission_and_oversized_attachment_are_refused(web_settings: Settings) -> None:
    small = web_settings.model_copy(update={"max_upload_bytes": 1000})
    with TestClient(create_app(small)) as client:
        token = token_of(client)
        assert client.post("/submit", data={"csrf_token": token}).status_code == 422
        big = client.post(
            "/submit",
            data={"csrf_token": token, "details": "x"},
            files={"attachments": ("big.txt", b"a" * 1001, "text/plain")},
        )
        assert big.status_code == 413 and "too large" in big.text
        too_many = client.post(
            "/submit",
            data={"csrf_token": token},
            files=[("attachments", (f"{n}.txt", b"a", "text/plain")) for n in range(6)],
        )
        assert too_many.status_code == 400


def test_coaching_lists_present_and_missing_elements_in_the_chosen_language(client: TestClient) -> None:
    token = token_of(client)
    headers = {"X-CSRF-Token": token}
    empty = client.post("/submit/coach", data={"lang": "en"}, headers=headers)
    assert "Start writing" in empty.text
    weak = client.post(
        "/submit/coach", data={"details": "Conditions are bad.", "lang": "fr"}, headers=headers
    )
    assert "Nommez le producteur" in weak.text and "Name the producer" not in weak.text
    strong = client.post("/submit/coach", data={"details": STRONG + NEXUS, "lang": "es"}, headers=headers)
    assert "Nombre al productor" not in strong.text
    assert "retención de documentos de identidad" in strong.text
    assert "Un vínculo con Estados Unidos" in strong.text


def test_language_from_query_then_accept_language(client: TestClient) -> None:
    assert 'lang="es"' in client.get("/submit?lang=es").text
    page = client.get("/submit", headers={"Accept-Language": "de-DE, fr;q=0.8, en;q=0.5"})
    assert '<html lang="fr">' in page.text and "Qui produit les marchandises" in page.text
    assert '<html lang="en">' in client.get("/submit", headers={"Accept-Language": "de"}).text


def test_public_form_is_rate_limited(web_settings: Settings) -> None:
    limited = web_settings.model_copy(update={"submit_rate_limit": "2/minute"})
    with TestClient(create_app(limited)) as client:
        token = token_of(client)
        codes = [
            client.post("/status", data={"csrf_token": token, "code": "X"}).status_code for _ in range(3)
        ]
        assert codes == [404, 404, 429]
        assert client.post("/submit", data={"csrf_token": token}).status_code == 422  # its own bucket


def test_login_roles_and_logout(client: TestClient, web_settings: Settings) -> None:
    engine = make_engine(web_settings.database_url)
    create_user(engine, "rita", Role.REVIEWER, "correct horse")
    create_user(engine, "sam", Role.SUBMITTER, "battery staple")
    engine.dispose()
    assert client.get("/review", follow_redirects=False).headers["location"] == "/login?next=/review"
    token = token_of(client, "/login")
    wrong = client.post("/login", data={"csrf_token": token, "name": "rita", "password": "nope"})
    assert wrong.status_code == 401
    away = client.post(
        "/login",
        data={"csrf_token": token, "name": "rita", "password": "correct horse", "next": "//evil.example"},
        follow_redirects=False,
    )
    assert away.headers["location"] == "/review"
    assert client.get("/review").status_code == 200
    assert client.get("/review/metrics").status_code == 200
    fresh = token_of(client, "/review")
    assert fresh != token  # a new session, and so a new token, at login
    client.post("/logout", data={"csrf_token": fresh})
    assert client.get("/review", follow_redirects=False).status_code == 303
    token = token_of(client, "/login")
    client.post("/login", data={"csrf_token": token, "name": "sam", "password": "battery staple"})
    assert client.get("/review").status_code == 403


def test_document_view_escapes_hostile_text_and_decisions_reach_the_queue(
    client: TestClient, web_settings: Settings
) -> None:
    payload = STRONG + ' <script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2">'
    document_id = client.post("/api/v1/documents?wait=true", json={"text": payload}).json()["id"]
    engine = make_engine(web_settings.database_url)
    create_user(engine, "rita", Role.REVIEWER, "correct horse")
    engine.dispose()
    token = token_of(client, "/login")
    client.post("/login", data={"csrf_token": token, "name": "rita", "password": "correct horse"})
    page = client.get(f"/review/documents/{document_id}")
    assert page.status_code == 200
    assert "<script>window.__pwned" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page.text
    assert "retention of identity documents: score 0.75, affirmed" in page.text
    token = token_of(client, "/review")
    decided = client.post(
        f"/review/documents/{document_id}/decision",
        data={"csrf_token": token, "action": "correct", "tier": "conclusive", "comment": "<b>bold</b>"},
    )
    assert decided.status_code == 200
    row = re.search(rf'<tr data-document="{document_id}"[^>]*>.*?</tr>', decided.text, re.S)
    assert row and "correct → conclusive by rita" in row.group(0)
    again = client.get(f"/review/documents/{document_id}")
    assert "&lt;b&gt;bold&lt;/b&gt;" in again.text
    assert client.get("/api/v1/documents/" + document_id + "/audit").json()[-1]["action"] == "decided"


def test_metrics_page_says_when_no_results_exist_and_shows_stored_ones(
    web_settings: Settings, tmp_path: object
) -> None:
    from pathlib import Path

    from service.evaluation import reliability_plot

    folder = Path(str(tmp_path))
    results = folder / "eval.json"
    settings = web_settings.model_copy(update={"eval_results_path": results})
    with TestClient(create_app(settings)) as client:
        engine = make_engine(settings.database_url)
        create_user(engine, "lee", Role.LEAD, "correct horse")
        engine.dispose()
        token = token_of(client, "/login")
        client.post("/login", data={"csrf_token": token, "name": "lee", "password": "correct horse"})
        assert 'id="no-eval"' in client.get("/review/metrics").text
        plot = folder / "plot.png"
        reliability_plot([0.1, 0.8, 0.9, 0.3], [False, True, True, True], plot, "test")
        results.write_text(
            '{"pipeline": "rules", "gold": "dev.jsonl", "tier_accuracy": 0.843, '
            f'"wro_bar_ece": 0.136, "reliability_plot": "{plot}"}}'
        )
        page = client.get("/review/metrics").text
        assert "dev.jsonl · rules" in page and "0.843" in page and 'id="no-eval"' not in page
        image = client.get("/review/metrics/plot/0.png")
        assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
        assert client.get("/review/metrics/plot/1.png").status_code == 404


def test_case_pages_show_sources_on_a_timeline_and_split_them(
    client: TestClient, web_settings: Settings
) -> None:
    from tests.test_cases import TOP_GLOVE_INDEPENDENT, TOP_GLOVE_REPORT

    hostile = TOP_GLOVE_INDEPENDENT + " <script>window.__pwned=3</script>"
    ids = [
        client.post("/api/v1/documents?wait=true", json={"text": text, "title": title}).json()["id"]
        for text, title in ((TOP_GLOVE_REPORT, "ngo-report.txt"), (hostile, "<b>witness</b>.txt"))
    ]
    engine = make_engine(web_settings.database_url)
    create_user(engine, "lena", Role.LEAD, "correct horse")
    engine.dispose()
    token = token_of(client, "/login")
    client.post("/login", data={"csrf_token": token, "name": "lena", "password": "correct horse"})
    listing = client.get("/review/cases")
    assert listing.status_code == 200
    link = re.search(r'href="/review/cases/([0-9a-f]{32})"', listing.text)
    assert link
    case_id = link.group(1)
    page = client.get(f"/review/cases/{case_id}")
    assert page.status_code == 200
    assert "2 independent sources" in page.text and "ngo-report.txt" in page.text
    assert "&lt;b&gt;witness&lt;/b&gt;.txt" in page.text and "<b>witness</b>" not in page.text
    assert page.text.index("ngo-report.txt") < page.text.index("witness"), "oldest source first"
    assert f'href="/review/cases/{case_id}"' in client.get(f"/review/documents/{ids[0]}").text
    token = token_of(client, f"/review/cases/{case_id}")
    split = client.post(f"/review/cases/{case_id}/split", data={"csrf_token": token, "document_ids": ids[1]})
    assert split.status_code == 200 and "1 document" in split.text
    assert client.get("/api/v1/cases").json()["items"].__len__() == 2
    refused = client.post(
        f"/review/cases/{case_id}/split", data={"csrf_token": token, "document_ids": ids[0]}
    )
    assert refused.status_code == 409, "a split must leave a document behind"
