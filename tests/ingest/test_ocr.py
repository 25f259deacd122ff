"""OCR on real Tesseract: text rendered to images and scanned PDFs must come back word for word (≥95%)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from service.ingest import ExtractionLimits, IngestError, IngestErrorCode, extract_text
from service.ingest.ocr import OcrSettings, estimate_skew
from tests.ingest.samples import (
    REPORT_TEXT,
    SCAN_TEXT,
    SECOND_PAGE_TEXT,
    email_bytes,
    image_bytes,
    pdf_bytes,
    scanned_pdf_bytes,
    text_image,
    word_recovery,
)

RECOVERY = 0.95


def _limits(ocr: OcrSettings, **changes: object) -> ExtractionLimits:
    from dataclasses import replace

    return ExtractionLimits(ocr=replace(ocr, **changes))  # type: ignore[arg-type]


def _code(data: bytes, limits: ExtractionLimits, filename: str | None = None) -> IngestErrorCode:
    with pytest.raises(IngestError) as caught:
        extract_text(data, filename, limits)
    assert caught.value.message
    return caught.value.code


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("TIFF", "image/tiff"), ("WEBP", "image/webp")],
)
def test_image_formats_are_read(tesseract: OcrSettings, fmt: str, media_type: str) -> None:
    result = extract_text(image_bytes(text_image(SCAN_TEXT), fmt), None, ExtractionLimits(ocr=tesseract))
    assert result.media_type == media_type
    assert word_recovery(SCAN_TEXT, result.text) >= RECOVERY
    [page] = result.ocr_pages
    assert (page.page, page.start, page.end) == (1, 0, len(result.text))
    assert 0.8 <= page.confidence <= 1.0


def test_scanned_pdf_is_read_page_by_page(tesseract: OcrSettings) -> None:
    data = scanned_pdf_bytes([text_image(SCAN_TEXT), text_image(SECOND_PAGE_TEXT)])
    result = extract_text(data, "scan.pdf", ExtractionLimits(ocr=tesseract))
    assert result.media_type == "application/pdf" and result.pages == 2
    first, second = result.ocr_pages
    assert word_recovery(SCAN_TEXT, result.text[first.start : first.end]) >= RECOVERY
    assert word_recovery(SECOND_PAGE_TEXT, result.text[second.start : second.end]) >= RECOVERY
    assert (first.page, second.page) == (1, 2)
    assert result.warnings == []


@pytest.mark.parametrize("angle", [90, 270, 180])
def test_rotated_page_is_turned_upright(tesseract: OcrSettings, angle: int) -> None:
    data = image_bytes(text_image(SCAN_TEXT, angle=angle), "PNG")
    result = extract_text(data, "sideways.png", ExtractionLimits(ocr=tesseract))
    assert word_recovery(SCAN_TEXT, result.text) >= RECOVERY
    # The page was turned counter-clockwise; reading it took the same angle clockwise.
    assert result.ocr_pages[0].rotation == angle


def test_skewed_scan_is_levelled(tesseract: OcrSettings) -> None:
    image = text_image(SCAN_TEXT, angle=4)
    assert estimate_skew(image) == pytest.approx(-4, abs=0.5)
    assert estimate_skew(text_image(SCAN_TEXT)) == pytest.approx(0, abs=0.3)
    data = scanned_pdf_bytes([image])
    result = extract_text(data, "crooked.pdf", ExtractionLimits(ocr=tesseract))
    assert word_recovery(SCAN_TEXT, result.text) >= RECOVERY
    assert result.ocr_pages[0].skew == pytest.approx(-4, abs=0.5)


def test_pdf_with_text_pages_and_a_scanned_page(tesseract: OcrSettings) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for source in (pdf_bytes([REPORT_TEXT]), scanned_pdf_bytes([text_image(SECOND_PAGE_TEXT)])):
        for pdf_page in PdfReader(io.BytesIO(source)).pages:
            writer.add_page(pdf_page)
    out = io.BytesIO()
    writer.write(out)
    result = extract_text(out.getvalue(), "mixed.pdf", ExtractionLimits(ocr=tesseract))
    assert result.text.startswith(REPORT_TEXT[:40])
    [page] = result.ocr_pages
    assert page.page == 2
    assert word_recovery(SECOND_PAGE_TEXT, result.text[page.start : page.end]) >= RECOVERY
    assert REPORT_TEXT[:40] not in result.text[page.start : page.end]


def test_blank_page_is_a_warning_and_the_rest_is_kept(tesseract: OcrSettings) -> None:
    blank = Image.new("L", (2480, 3508), 255)
    data = scanned_pdf_bytes([text_image(SCAN_TEXT), blank])
    result = extract_text(data, "scan.pdf", ExtractionLimits(ocr=tesseract))
    assert word_recovery(SCAN_TEXT, result.text) >= RECOVERY
    assert [p.page for p in result.ocr_pages] == [1]
    assert any(w.startswith("page 2:") and "no text" in w for w in result.warnings)


def test_scan_where_no_page_yields_text_fails_with_a_code(tesseract: OcrSettings) -> None:
    limits = ExtractionLimits(ocr=tesseract)
    assert _code(pdf_bytes(["", ""], draw_text=False), limits, "scan.pdf") == IngestErrorCode.OCR_NO_TEXT
    blank = image_bytes(Image.new("L", (800, 600), 255), "PNG")
    assert _code(blank, limits, "photo.png") == IngestErrorCode.OCR_NO_TEXT


def test_page_and_pixel_limits_come_from_settings(tesseract: OcrSettings) -> None:
    two_pages = scanned_pdf_bytes([text_image(SCAN_TEXT), text_image(SECOND_PAGE_TEXT)])
    assert _code(two_pages, _limits(tesseract, max_pages=1)) == IngestErrorCode.TOO_MANY_PAGES
    photo = image_bytes(text_image(SCAN_TEXT), "PNG")
    assert _code(photo, _limits(tesseract, max_pixels=1_000_000)) == IngestErrorCode.IMAGE_TOO_LARGE
    # A PDF page is rendered at a lower resolution rather than refused.
    small = extract_text(two_pages, None, _limits(tesseract, max_pixels=4_000_000))
    assert word_recovery(SCAN_TEXT + " " + SECOND_PAGE_TEXT, small.text) >= 0.9


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge size but holds almost nothing: what a decompression bomb looks like."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_refused_before_decoding(tesseract: OcrSettings) -> None:
    bomb = _png_header_only(40_000, 40_000)
    # Pillow's own guard, even when our limit is raised out of the way ...
    assert _code(bomb, _limits(tesseract, max_pixels=10**12)) == IngestErrorCode.IMAGE_TOO_LARGE
    # ... and ours, below Pillow's.
    assert (
        _code(_png_header_only(9000, 9000), ExtractionLimits(ocr=tesseract))
        == IngestErrorCode.IMAGE_TOO_LARGE
    )


def test_truncated_image_is_corrupt(tesseract: OcrSettings) -> None:
    data = image_bytes(text_image(SCAN_TEXT), "PNG")
    assert _code(data[: len(data) // 2], ExtractionLimits(ocr=tesseract)) == IngestErrorCode.CORRUPT_FILE


def test_missing_tesseract_is_a_retryable_code(tesseract: OcrSettings) -> None:
    data = image_bytes(text_image(SCAN_TEXT), "PNG")
    limits = _limits(tesseract, tesseract_cmd=Path("/nonexistent/tesseract"))
    assert _code(data, limits) == IngestErrorCode.OCR_UNAVAILABLE


def test_photo_attached_to_an_email_keeps_its_offsets(tesseract: OcrSettings) -> None:
    message = email_bytes(
        "A worker sent this photo of the notice on the dormitory wall.",
        attachments=[("notice.jpg", "image/jpeg", image_bytes(text_image(SCAN_TEXT), "JPEG"))],
    )
    result = extract_text(message, "tip.eml", ExtractionLimits(ocr=tesseract))
    [page] = result.ocr_pages
    assert result.text[page.start : page.start + 7] == "Workers"
    assert word_recovery(SCAN_TEXT, result.text[page.start : page.end]) >= RECOVERY
    assert "dormitory wall" in result.text[: page.start]
