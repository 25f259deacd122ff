"""Fuzzing the parsers: any bytes at all, and damaged copies of every supported format, give either text or an
`IngestError` with a code, never another exception; hostile shapes (deep nesting, huge lines, invalid UTF-8,
compression bombs) stay within time and memory bounds."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.ingest import ExtractedText, ExtractionLimits, IngestError, extract_text
from tests.ingest.samples import (
    REPORT_TEXT,
    docx_bytes,
    email_bytes,
    html_bytes,
    pdf_bytes,
    shipment_csv_bytes,
)

SEEDS = {
    "report.pdf": pdf_bytes([REPORT_TEXT, "Second page."]),
    "report.docx": docx_bytes([REPORT_TEXT, "Another paragraph."]),
    "page.html": html_bytes(REPORT_TEXT),
    "mail.eml": email_bytes(REPORT_TEXT, [("a.txt", "text/plain", REPORT_TEXT.encode())]),
    "ship.csv": shipment_csv_bytes(),
    "note.txt": REPORT_TEXT.encode("utf-8"),
}
LIMITS = ExtractionLimits(max_bytes=2_000_000, max_pdf_pages=20, max_text_chars=200_000, max_email_depth=3)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def _extract(data: bytes, filename: str | None) -> ExtractedText | None:
    try:
        result = extract_text(data, filename, LIMITS)
    except IngestError as exc:
        assert exc.code.value and exc.message
        return None
    assert isinstance(result.text, str) and len(result.text) <= LIMITS.max_text_chars
    return result


@FUZZ
@given(data=st.binary(max_size=4096), filename=st.sampled_from([None, *SEEDS]))
def test_any_bytes_give_text_or_a_coded_error(data: bytes, filename: str | None) -> None:
    _extract(data, filename)


@FUZZ
@given(
    name=st.sampled_from(sorted(SEEDS)),
    flips=st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=12
    ),
    cut=st.one_of(st.none(), st.floats(0, 1)),
)
def test_damaged_documents_give_text_or_a_coded_error(
    name: str, flips: list[tuple[float, int]], cut: float | None
) -> None:
    data = bytearray(SEEDS[name])
    for where, value in flips:
        data[int(where * len(data))] = value
    if cut is not None:
        data = data[: int(cut * len(data))]
    _extract(bytes(data), name)


def test_deeply_nested_html_and_huge_lines_are_bounded() -> None:
    nested = (
        b"<html><body>" + b"<div>" * 50_000 + REPORT_TEXT.encode() + b"</div>" * 50_000 + b"</body></html>"
    )
    _extract(nested, "deep.html")
    huge_line = (b"forced labour " * 120_000)[:1_900_000]  # one 1.9 MB line, no newline
    result = _extract(huge_line, "line.txt")
    assert result is None or len(result.text) <= LIMITS.max_text_chars
    invalid = b"Workers said \xff\xfe\xc3\x28 their passports were taken \xed\xa0\x80." * 50
    assert _extract(invalid, "bad.txt") is not None, "invalid UTF-8 is read, not refused"


@pytest.mark.parametrize("kind", ["pdf_stream", "eml_base64"])
def test_compression_bombs_fail_cleanly_within_a_memory_cap(kind: str) -> None:
    """Run in a child process whose address space is capped, so a parser that inflates a bomb fails the test
    instead of taking the machine down."""
    if kind == "pdf_stream":
        inflated = zlib.compress(b"0" * 400_000_000, 9)  # 400 MB of content in about 0.4 MB
        bomb = (
            b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R>>endobj\n"
            + f"4 0 obj<</Length {len(inflated)}/Filter/FlateDecode>>stream\n".encode()
            + inflated
            + b"\nendstream endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
        )
        name = "bomb.pdf"
    else:
        import base64

        payload = base64.encodebytes(zlib.compress(b"A" * 50_000_000))
        bomb = (
            b"From: a@example.org\nTo: b@example.org\nSubject: x\nMIME-Version: 1.0\n"
            b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nhello\n--b\n'
            b'Content-Type: application/zip; name="z.zip"\nContent-Transfer-Encoding: base64\n\n'
            + payload
            + b"\n--b--\n"
        )
        name = "bomb.eml"
    script = textwrap.dedent(
        f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))
        from service.ingest import ExtractionLimits, IngestError, extract_text
        data = sys.stdin.buffer.read()
        limits = ExtractionLimits(max_bytes=20_000_000, max_pdf_pages=20, max_text_chars=2_000_000, max_email_depth=3)
        try:
            result = extract_text(data, {name!r}, limits)
            print("text", len(result.text))
        except IngestError as exc:
            print("error", exc.code.value)
        """
    )
    child = subprocess.run([sys.executable, "-c", script], input=bomb, capture_output=True, timeout=300)
    assert child.returncode == 0, child.stderr.decode()[-2000:]
    outcome, value = child.stdout.decode().split()
    assert outcome == "error" or int(value) <= 2_000_000
