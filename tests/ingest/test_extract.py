from __future__ import annotations

import os

import pytest

from service.ingest import ExtractionLimits, IngestError, IngestErrorCode, extract_text, sniff_media_type
from tests.ingest.samples import (
    PNG_BYTES,
    REPORT_TEXT,
    ZIP_BYTES,
    docx_bytes,
    email_bytes,
    encrypted_pdf_bytes,
    html_bytes,
    pdf_bytes,
)


def _code(
    data: bytes, filename: str | None = None, limits: ExtractionLimits | None = None
) -> IngestErrorCode:
    with pytest.raises(IngestError) as caught:
        extract_text(data, filename, limits)
    assert caught.value.message, "every failure carries a message for people"
    return caught.value.code


def test_plain_text_utf8() -> None:
    result = extract_text(REPORT_TEXT.encode(), "report.txt")
    assert result.text == REPORT_TEXT
    assert result.media_type == "text/plain"


def test_text_in_legacy_encoding_is_detected() -> None:
    text = (
        "Les travailleurs ont déclaré que le contremaître gardait leurs passeports à l'usine, près de Sfax. "
        * 3
    )
    result = extract_text(text.encode("cp1252"))
    assert "contremaître gardait leurs passeports" in result.text


def test_utf16_text() -> None:
    result = extract_text(REPORT_TEXT.encode("utf-16"))
    assert "Sinar Jaya" in result.text


def test_pdf_text_and_pages() -> None:
    result = extract_text(
        pdf_bytes([REPORT_TEXT, "Second page about withheld wages at the factory."]), "r.pdf"
    )
    assert result.media_type == "application/pdf"
    assert result.pages == 2
    assert "kept their passports" in result.text
    assert "withheld wages" in result.text


def test_type_is_judged_by_content_not_name() -> None:
    result = extract_text(pdf_bytes([REPORT_TEXT]), "notes.txt")
    assert result.media_type == "application/pdf"
    assert any("read as application/pdf" in w for w in result.warnings)


def test_html_main_text_without_navigation() -> None:
    result = extract_text(html_bytes(REPORT_TEXT), "page.html")
    assert result.media_type == "text/html"
    assert "kept their passports" in result.text
    assert "Section menu item" not in result.text
    assert "Accept all cookies" not in result.text


def test_docx_paragraphs_and_tables() -> None:
    result = extract_text(docx_bytes([REPORT_TEXT, "A second paragraph."]), "r.docx")
    assert "kept their passports" in result.text
    assert "Harbor Glove Supply LLC" in result.text


def test_email_body_and_attachments_recursively() -> None:
    inner = email_bytes(
        "Forwarded note: the workers cannot leave the dormitory at night.",
        attachments=[("inner.txt", "text/plain", b"Inner attachment about debt bondage in the mill.")],
    )
    outer = email_bytes(
        "Please see the attached report.",
        attachments=[("report.pdf", "application/pdf", pdf_bytes([REPORT_TEXT]))],
        nested=inner,
    )
    result = extract_text(outer, "tip.eml")
    assert result.media_type == "message/rfc822"
    assert "Please see the attached report." in result.text
    assert "kept their passports" in result.text
    assert "cannot leave the dormitory" in result.text
    assert "debt bondage in the mill" in result.text


def test_email_with_bad_attachment_keeps_the_rest() -> None:
    outer = email_bytes(
        "Body text about the farm and its workers in Sinaloa.",
        attachments=[("clip.zip", "application/zip", ZIP_BYTES)],
    )
    result = extract_text(outer)
    assert "Sinaloa" in result.text
    assert any("clip.zip" in w and "unsupported_type" in w for w in result.warnings)


def test_empty_file() -> None:
    assert _code(b"") == IngestErrorCode.EMPTY_FILE
    assert _code(b"   \n\t ") == IngestErrorCode.EMPTY_FILE


def test_over_size_limit() -> None:
    assert _code(b"a" * 2000, limits=ExtractionLimits(max_bytes=1000)) == IngestErrorCode.TOO_LARGE


def test_extracted_text_over_limit() -> None:
    assert _code(b"word " * 400, limits=ExtractionLimits(max_text_chars=100)) == IngestErrorCode.TOO_LARGE


def test_too_many_pages() -> None:
    data = pdf_bytes([f"Page {i} of a long report on plantation labour." for i in range(5)])
    assert _code(data, limits=ExtractionLimits(max_pdf_pages=3)) == IngestErrorCode.TOO_MANY_PAGES


def test_encrypted_pdf() -> None:
    assert _code(encrypted_pdf_bytes(), "locked.pdf") == IngestErrorCode.ENCRYPTED_PDF


def test_corrupt_pdf() -> None:
    data = pdf_bytes([REPORT_TEXT])
    assert _code(data[: len(data) // 3], "broken.pdf") == IngestErrorCode.CORRUPT_FILE


def test_corrupt_docx() -> None:
    data = docx_bytes([REPORT_TEXT])
    assert _code(data[:200], "broken.docx") in (IngestErrorCode.CORRUPT_FILE,)


def test_unsupported_type() -> None:
    assert _code(ZIP_BYTES) == IngestErrorCode.UNSUPPORTED_TYPE


def test_mislabelled_type() -> None:
    assert _code(ZIP_BYTES, "report.pdf") == IngestErrorCode.MISLABELLED_TYPE


def test_binary_garbage_is_not_text() -> None:
    data = os.urandom(4096)
    assert _code(data) in (IngestErrorCode.UNSUPPORTED_TYPE, IngestErrorCode.UNDECODABLE_TEXT)


def test_html_without_content() -> None:
    assert _code(b"<html><body><nav></nav><script>var a=1;</script></body></html>") == IngestErrorCode.NO_TEXT


def test_email_nesting_limit() -> None:
    innermost = email_bytes("level three")
    middle = email_bytes("level two", nested=innermost)
    outer = email_bytes("level one", nested=middle)
    assert _code(outer, limits=ExtractionLimits(max_email_depth=2)) == IngestErrorCode.TOO_DEEP


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"%PDF-1.7\n...", "application/pdf"),
        (b"<!DOCTYPE html><html><body><p>x</p></body></html>", "text/html"),
        (b"From: a@b.org\nTo: c@d.org\nSubject: hi\n\nbody", "message/rfc822"),
        (b"Just some words about a farm.", "text/plain"),
        (PNG_BYTES, "image/png"),
    ],
)
def test_sniffing(data: bytes, expected: str) -> None:
    assert sniff_media_type(data) == expected
