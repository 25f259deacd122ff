"""The pages in a real browser: Debian's chromium driven by Playwright against a real `triage serve` process.

Walks an anonymous submission with an attachment while the coaching panel updates, a receipt look-up, an
investigator reviewing that document and the decision showing in the queue, and checks that a document carrying
script-injection payloads renders inert. Each page is saved as a screenshot under var/screenshots/browser/.
Outside CI the test skips when chromium is not installed; in CI it fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from service import config
from tests.servers import TRIAGE, free_port, triage_process, wait_until_ready

pytestmark = pytest.mark.integration

SHOTS = config.REPO_ROOT / "var" / "screenshots" / "browser"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STORY = (
    "Workers at the Sinar Jaya Rubber Products factory in Klang, Malaysia said the supervisor kept their "
    "passports and threatened to report them to immigration. They owed recruitment debts of 5,000 ringgit and "
    "were locked in the dormitory at night."
)
NEXUS = " The gloves are exported to the United States, where Harbor Medical Supply imports them."
HOSTILE = (
    'Report <script>window.__pwned=1</script> on the <img src=x onerror="window.__pwned=2"> factory. '
    "Workers at the Sinar Jaya Rubber Products factory in Klang, Malaysia said the supervisor kept their passports."
)


@pytest.fixture(scope="module")
def chromium(test_env: config.TestEnvironment) -> Path:
    env = test_env
    if not env.chromium_bin.is_file():
        message = f"chromium is not installed at {env.chromium_bin} (apt-get install chromium)"
        if env.ci:
            pytest.fail(f"CI must run the browser tests: {message}")
        pytest.skip(message)
    return env.chromium_bin


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`triage serve` on a free loopback port with a fresh SQLite database and the rules pipeline."""
    folder = tmp_path_factory.mktemp("web-server")
    env = {
        **os.environ,
        "TRIAGE_DATABASE_URL": f"sqlite:///{folder / 'triage.db'}",
        "TRIAGE_PIPELINE": "rules",
        "TRIAGE_SESSION_SECRET": "browser-test-" + "s" * 32,
        "TRIAGE_WORKER_POLL_SECONDS": "0.1",
        "TRIAGE_EVAL_RESULTS_PATH": str(folder / "no-eval.json"),
        "TRIAGE_LOG_LEVEL": "WARNING",
        "HF_HUB_OFFLINE": "1",
    }
    user = subprocess.run(
        [
            str(TRIAGE),
            "user",
            "add",
            "ines",
            "--role",
            "reviewer",
            "--password-stdin",
        ],
        input="a long password\n",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert user.returncode == 0 and "added as reviewer" in user.stderr, user.stderr
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = folder / "server.log"
    with triage_process(["serve", "--host", "127.0.0.1", "--port", str(port)], env, log):
        wait_until_ready(base, 120, log)
        yield base


def _wait_all_read(base: str, page: Page) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        statuses = page.locator("ul.documents > li").evaluate_all("els => els.map(e => e.dataset.status)")
        if statuses and all(s == "done" for s in statuses):
            return
        time.sleep(0.3)
        page.goto(f"{base}/status")
    raise AssertionError("the submitted documents were not analysed in time")


def test_intake_coaching_receipt_review_and_inert_payload(
    chromium: Path, server: str, tmp_path: Path
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()
    attachment = tmp_path / "testimony.txt"
    attachment.write_text("I worked there. The manager kept my passport for two years.", encoding="utf-8")
    shots: list[Path] = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(chromium),
            headless=True,
            args=LAUNCH_ARGS,
            viewport={"width": 390, "height": 844},  # a phone first
        )
        try:
            page = browser.new_page()

            def shot(name: str) -> None:
                path = SHOTS / f"{len(shots) + 1:02d}-{name}.png"
                page.screenshot(path=str(path), full_page=True)
                shots.append(path)

            # The public form, anonymous, with live coaching as the story is typed.
            page.goto(f"{server}/submit?lang=en")
            expect(page.locator("#coach-body")).to_contain_text("Start writing")
            shot("submit-empty-phone")
            page.locator("#f-details").press_sequentially("Conditions are bad.", delay=5)
            missing = page.locator("#coach-body ul.missing")
            expect(missing).to_contain_text("Name the producer")
            expect(missing).to_contain_text("Show how the goods reach the United States")
            shot("coaching-weak")
            page.locator("#f-details").fill("")
            page.locator("#f-details").press_sequentially(STORY + NEXUS, delay=1)
            expect(page.locator("#coach-body ul.present")).to_contain_text("retention of identity documents")
            expect(missing).not_to_contain_text("Name the producer")
            expect(missing).not_to_contain_text("Show how the goods reach the United States")
            page.set_viewport_size({"width": 1280, "height": 900})
            shot("coaching-strong")
            page.locator("#f-attachments").set_input_files(str(attachment))
            page.get_by_role("button", name="Send the report").click()
            code = page.locator("#receipt-code").inner_text().strip()
            assert re.fullmatch(r"[0-9A-Z]{5}(-[0-9A-Z]{5}){3}", code)
            expect(page.get_by_text("Documents received: 2")).to_be_visible()
            shot("receipt")

            # The receipt look-up, in Spanish.
            page.goto(f"{server}/status?lang=es")
            page.locator("#f-code").fill(code.lower())
            page.get_by_role("button", name="Consultar").click()
            _wait_all_read(server, page)
            expect(page.locator("ul.documents > li")).to_have_count(2)
            expect(page.locator("ul.documents")).to_contain_text("testimony.txt")
            shot("receipt-status-es")

            # A hostile document comes in through the form too.
            page.goto(f"{server}/submit")
            page.locator("#f-details").fill(HOSTILE)
            page.get_by_role("button", name="Send the report").click()
            expect(page.locator("#receipt-code")).to_be_visible()

            # The investigator logs in, opens the submission from the queue and decides.
            page.goto(f"{server}/review")
            expect(page).to_have_url(re.compile(r"/login\?next=/review$"))
            shot("login")
            page.locator("#f-user").fill("ines")
            page.locator("#f-password").fill("a long password")
            page.get_by_role("button", name="Log in").click()
            expect(page.locator("table.queue")).to_contain_text("allegation.txt")
            deadline = time.monotonic() + 60
            while page.locator("table.queue tbody tr[data-document]").count() < 3:
                assert time.monotonic() < deadline, "the hostile document never reached the queue"
                time.sleep(0.3)
                page.reload()
            shot("queue")
            hrefs = page.locator("table.queue a", has_text="allegation.txt").evaluate_all(
                "links => links.map(a => a.getAttribute('href'))"
            )
            assert len(hrefs) == 2
            by_content: dict[str, str] = {}
            for href in hrefs:
                page.goto(f"{server}{href}")
                content = page.locator("#document-text").inner_text()
                by_content["hostile" if "__pwned" in content else "story"] = href
            assert set(by_content) == {"hostile", "story"}

            page.goto(f"{server}{by_content['story']}")
            text = page.locator("#document-text")
            expect(text).to_contain_text("Harbor Medical Supply")
            evidence = page.locator("#document-text mark.ev").first
            expect(evidence).to_have_attribute(
                "title", re.compile(r"score 0\.\d\d, (affirmed|first_hand|reported)")
            )
            document_url = page.url
            shot("document")
            page.get_by_label("Correct tier or indicators").check()
            page.locator("#f-tier").select_option("conclusive")
            page.locator("#f-comment").fill("Passports and debts confirmed by the attachment.")
            page.get_by_role("button", name="Record decision").click()
            expect(page.locator(".notice")).to_contain_text("Decision recorded")
            document_id = document_url.rsplit("/", 1)[-1]
            row = page.locator(f'tr[data-document="{document_id}"]')
            expect(row.locator("td.decision")).to_have_text("correct → conclusive by ines")
            shot("queue-decided")

            # The hostile document renders as text; neither payload ran.
            page.goto(f"{server}{by_content['hostile']}")
            expect(page.locator("#document-text")).to_contain_text("<script>window.__pwned=1</script>")
            expect(page.locator("#document-text")).to_contain_text('<img src=x onerror="window.__pwned=2">')
            page.wait_for_timeout(300)
            assert page.evaluate("() => window.__pwned === undefined")
            assert page.locator("#document-text img, #document-text script").count() == 0
            shot("document-hostile-inert")

            # The reviewed document's case: its sources on a timeline, and its assessment.
            page.goto(document_url)
            page.locator("#case-link").click()
            expect(page.locator("#sources li")).not_to_have_count(0)
            expect(page.locator("#case-assessment")).to_be_visible()
            shot("case")
            page.goto(f"{server}/review/cases")
            expect(page.locator("#cases")).to_be_visible()
            shot("cases")

            page.goto(f"{server}/review/metrics")
            expect(page.locator("#no-eval")).to_contain_text("No evaluation results yet")
            shot("metrics-none-yet")
        finally:
            browser.close()

    listing = "\n".join(str(p.relative_to(config.REPO_ROOT)) for p in shots)
    (SHOTS / "index.txt").write_text(listing + "\n", encoding="utf-8")
    print(f"\nscreenshots:\n{listing}")
    assert len(shots) == 13 and all(p.stat().st_size > 5000 for p in shots)
