"""Optical character recognition for scans and photos, through Tesseract (pytesseract).

What NGOs and workers have is often a phone photo of a pay slip or a scanned report, so an image is a document
like any other. OCR text is never as trustworthy as typed text, so each page keeps its confidence and the
analysis can show it beside the evidence drawn from that page. Pages arrive turned sideways and slightly
skewed; orientation (Tesseract's OSD) and skew (a projection profile) are corrected before recognition.

Every failure is an `IngestError` or a per-page warning: a hostile image (a decompression bomb, a page of
absurd size) is refused from its header, before its pixels are decoded.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytesseract
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from service.ingest.errors import IngestError, IngestErrorCode

IMAGE_TYPES = ("image/png", "image/jpeg", "image/tiff", "image/webp")
# Rendering resolution for PDF pages: Tesseract is trained on text of about 300 DPI.
PDF_RENDER_DPI = 300
# Small angles tried by the deskew search, in degrees; scans beyond ±8° are rare and OSD catches quarter turns.
_SKEW_RANGE = 8.0
_SKEW_STEP = 0.5
# Pages below this many recognised word characters count as having yielded nothing.
_MIN_WORD_CHARS = 3


class PageUnreadable(Exception):
    """One page could not be read (Tesseract gave up on it or timed out); the other pages still count."""


def _failure(exc: Exception) -> Exception:
    """A Tesseract failure as what it means: the engine is missing or misconfigured (the whole document must
    wait for a fix), or this one page could not be read."""
    message = str(exc)
    if isinstance(exc, pytesseract.TesseractNotFoundError):
        return IngestError(IngestErrorCode.OCR_UNAVAILABLE, "the tesseract binary was not found")
    if "Failed loading language" in message or "Error opening data file" in message:
        return IngestError(
            IngestErrorCode.OCR_UNAVAILABLE, f"tesseract lacks a configured language: {message[:200]}"
        )
    if "timeout" in message.casefold():
        return PageUnreadable("OCR timed out")
    return PageUnreadable(f"OCR failed ({message.strip()[:120] or exc.__class__.__name__})")


@dataclass(frozen=True)
class OcrSettings:
    """How to run Tesseract; filled from `Settings` by the caller, so this module never reads the environment."""

    languages: str = "eng+spa+fra+por+msa+ind"
    han_languages: str = "chi_sim+eng"
    max_pages: int = 50
    max_pixels: int = 60_000_000
    page_timeout_seconds: float = 120.0
    tesseract_cmd: Path | None = None


@dataclass(frozen=True)
class OcrPageText:
    """One page as read by OCR; `confidence` is Tesseract's mean word confidence scaled to 0..1."""

    text: str
    confidence: float
    rotation: int
    skew: float


def _use_binary(settings: OcrSettings) -> None:
    """pytesseract keeps the binary's path in a module global; every caller sets the same configured value."""
    pytesseract.pytesseract.tesseract_cmd = str(settings.tesseract_cmd or "tesseract")


def check_image_size(width: int, height: int, settings: OcrSettings, what: str) -> None:
    if width * height > settings.max_pixels:
        raise IngestError(
            IngestErrorCode.IMAGE_TOO_LARGE,
            f"{what} is {width}x{height} pixels, over the limit of {settings.max_pixels} pixels "
            "(TRIAGE_MAX_OCR_PIXELS)",
        )


def open_image_pages(data: bytes, settings: OcrSettings) -> list[Image.Image]:
    """The frames of an image file (a TIFF may hold many pages), each checked against the pixel limit from
    its header before any pixel is decoded."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its own limit and twice it; a warning is not a refusal, so make it one.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise IngestError(
            IngestErrorCode.IMAGE_TOO_LARGE, f"the image is a decompression bomb ({exc})"
        ) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise IngestError(
            IngestErrorCode.CORRUPT_FILE, f"the image could not be opened ({exc.__class__.__name__})"
        ) from exc
    n_frames = int(getattr(image, "n_frames", 1))
    if n_frames > settings.max_pages:
        raise IngestError(
            IngestErrorCode.TOO_MANY_PAGES,
            f"the image has {n_frames} pages, over the OCR limit of {settings.max_pages} (TRIAGE_MAX_OCR_PAGES)",
        )
    pages: list[Image.Image] = []
    try:
        for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
            check_image_size(frame.width, frame.height, settings, f"page {number} of the image")
            # Phone photos carry their rotation in EXIF rather than in the pixels.
            upright = ImageOps.exif_transpose(frame)
            pages.append(upright.convert("L"))
    except IngestError:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        raise IngestError(
            IngestErrorCode.CORRUPT_FILE, f"the image is damaged or truncated ({exc.__class__.__name__})"
        ) from exc
    return pages


def render_pdf_pages(data: bytes, indices: list[int], settings: OcrSettings) -> Iterator[Image.Image | str]:
    """Render the given (0-based) PDF pages for OCR; a page that cannot be rendered yields a message instead.

    The resolution drops below 300 DPI when a page is so large that it would pass the pixel limit, so a PDF
    with a giant media box cannot make us allocate gigabytes.
    """
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        raise IngestError(IngestErrorCode.CORRUPT_FILE, f"the PDF could not be rendered ({exc})") from exc
    try:
        for index in indices:
            try:
                page = document[index]
                width_pt, height_pt = page.get_size()
                scale = PDF_RENDER_DPI / 72
                area = max(width_pt * height_pt, 1.0)
                if area * scale * scale > settings.max_pixels:
                    scale = (settings.max_pixels / area) ** 0.5
                bitmap = page.render(scale=scale, grayscale=True)
                yield bitmap.to_pil().convert("L")
            except (pypdfium2.PdfiumError, ValueError, OSError) as exc:
                yield f"could not be rendered ({exc.__class__.__name__})"
    finally:
        document.close()


def estimate_skew(image: Image.Image) -> float:
    """The small rotation (degrees, counter-clockwise positive) that makes text lines horizontal.

    Projection profile: when lines are level, rows alternate between ink and paper, so the variance of the
    row sums peaks. Searched on a reduced copy because only the line structure matters.
    """
    small = image.copy()
    small.thumbnail((1000, 1000))
    ink = ImageOps.invert(small.convert("L")).point(lambda v: 255 if v > 96 else 0)
    if not ink.getbbox():
        return 0.0

    def score(angle: float) -> float:
        rotated = np.asarray(
            ink.rotate(angle, resample=Image.Resampling.NEAREST, expand=True), dtype=np.float32
        )
        return float(np.var(rotated.sum(axis=1)))

    coarse = [
        i * _SKEW_STEP for i in range(int(-_SKEW_RANGE / _SKEW_STEP), int(_SKEW_RANGE / _SKEW_STEP) + 1)
    ]
    best: float = max(coarse, key=score)
    fine = [best + i * 0.1 for i in range(-4, 5)]
    return round(float(max(fine, key=score)), 2)


def _orientation(image: Image.Image, settings: OcrSettings) -> tuple[int, str | None]:
    """Clockwise quarter turns that make the page upright, and its script, from Tesseract's OSD; (0, None)
    when the page has too little text for OSD to judge."""
    _use_binary(settings)
    try:
        osd = pytesseract.image_to_osd(
            image, config="--psm 0 -c min_characters_to_try=10", timeout=settings.page_timeout_seconds
        )
    except (pytesseract.TesseractNotFoundError, pytesseract.TesseractError, RuntimeError) as exc:
        failure = _failure(exc)
        if isinstance(failure, IngestError):
            raise failure from exc
        # Too little text for OSD to judge is the usual case: read the page as it lies.
        return 0, None
    rotate = re.search(r"Rotate:\s*(\d+)", str(osd))
    confidence = re.search(r"Orientation confidence:\s*([\d.]+)", str(osd))
    script = re.search(r"Script:\s*(\w+)", str(osd))
    turn = int(rotate.group(1)) if rotate else 0
    # OSD on a page with little text guesses; a low-confidence quarter turn does more harm than none.
    if confidence and float(confidence.group(1)) < 1.0:
        turn = 0
    return turn % 360, script.group(1) if script else None


def ocr_page(image: Image.Image, settings: OcrSettings) -> OcrPageText:
    """Upright, level and read one page; the text keeps Tesseract's lines and paragraphs."""
    _use_binary(settings)
    turn, script = _orientation(image, settings)
    if turn:
        image = image.rotate(-turn, expand=True, fillcolor=255)
    skew = estimate_skew(image)
    if abs(skew) >= 0.2:
        image = image.rotate(skew, expand=True, fillcolor=255, resample=Image.Resampling.BICUBIC)
    languages = settings.han_languages if script in ("Han", "HanS", "HanT") else settings.languages
    try:
        data = pytesseract.image_to_data(
            image,
            lang=languages,
            config="--psm 3",
            output_type=pytesseract.Output.DICT,
            timeout=settings.page_timeout_seconds,
        )
    except (pytesseract.TesseractNotFoundError, pytesseract.TesseractError, RuntimeError) as exc:
        raise _failure(exc) from exc
    text, confidence = _assemble(data)
    return OcrPageText(text=text, confidence=confidence, rotation=turn, skew=skew)


def _assemble(data: dict[str, list[object]]) -> tuple[str, float]:
    """Text with Tesseract's layout (a line per line, a blank line between paragraphs) and the mean word
    confidence weighted by word length, so a stray one-letter mark does not drag a clean page down."""
    lines: list[str] = []
    current: list[str] = []
    key: tuple[object, ...] | None = None
    paragraph: tuple[object, ...] | None = None
    weighted = 0.0
    total = 0
    for i, word in enumerate(data["text"]):
        word = str(word).strip()
        if not word:
            continue
        line_key = (data["page_num"][i], data["block_num"][i], data["par_num"][i], data["line_num"][i])
        par_key = line_key[:3]
        if line_key != key:
            if current:
                lines.append(" ".join(current))
            if paragraph is not None and par_key != paragraph:
                lines.append("")
            current, key, paragraph = [], line_key, par_key
        current.append(word)
        conf = float(str(data["conf"][i]))
        if conf >= 0:
            weighted += conf * len(word)
            total += len(word)
    if current:
        lines.append(" ".join(current))
    text = "\n".join(lines).strip()
    return text, round(weighted / total / 100.0, 4) if total else 0.0


def yielded_text(page: OcrPageText) -> bool:
    return len(re.findall(r"\w", page.text)) >= _MIN_WORD_CHARS


@dataclass(frozen=True)
class OcrPage:
    """Where in the extracted text one OCR-read page lies, and how sure Tesseract was of it."""

    page: int
    start: int
    end: int
    confidence: float
    rotation: int = 0
    skew: float = 0.0

    def shifted(self, offset: int) -> OcrPage:
        return OcrPage(
            self.page, self.start + offset, self.end + offset, self.confidence, self.rotation, self.skew
        )
