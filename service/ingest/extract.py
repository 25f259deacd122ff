"""Turn uploaded bytes into text, judging the type by content rather than by the file name.

Submitters rename files, forward e-mails with reports attached and paste from anywhere, so the name is only a
hint: the bytes decide. Every failure is an `IngestError` with a stable code, never a bare exception.
"""

from __future__ import annotations

import email
import email.policy
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import PurePath

import filetype
from charset_normalizer import from_bytes
from PIL import Image

from service.ingest.errors import IngestError, IngestErrorCode
from service.ingest.ocr import (
    IMAGE_TYPES,
    OcrPage,
    OcrPageText,
    OcrSettings,
    PageUnreadable,
    ocr_page,
    open_image_pages,
    render_pdf_pages,
    yielded_text,
)
from service.ingest.tables import (
    CSV,
    XLSX,
    ShipmentRow,
    TableText,
    looks_like_shipment_csv,
    read_csv,
    read_xlsx,
)

TEXT_TYPES = ("text/plain", "text/html", "message/rfc822")
SUPPORTED = (
    "text/plain",
    "text/html",
    "message/rfc822",
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    *IMAGE_TYPES,
    CSV,
    XLSX,
)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

_EXTENSION_TYPES = {
    ".txt": "text/plain",
    ".text": "text/plain",
    ".md": "text/plain",
    ".pdf": "application/pdf",
    ".html": "text/html",
    ".htm": "text/html",
    ".docx": DOCX,
    ".eml": "message/rfc822",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".webp": "image/webp",
    ".csv": CSV,
    ".tsv": CSV,
    ".xlsx": XLSX,
}
_EMAIL_HEADER = re.compile(
    r"^(From|To|Subject|Date|Message-ID|MIME-Version|Received|Return-Path|Content-Type|Reply-To|Cc):[ \t]",
    re.IGNORECASE | re.MULTILINE,
)
# A PDF page with fewer word characters than this in its text layer is treated as a scan and read by OCR.
_MIN_LAYER_CHARS = 20
_HTML_HINT = re.compile(r"<(!doctype html|html|body|head|p|div|article|table|h[1-6])[\s>]", re.IGNORECASE)


@dataclass(frozen=True)
class ExtractionLimits:
    """The limits that keep a hostile or huge upload from exhausting the machine."""

    max_bytes: int = 20 * 1024 * 1024
    max_pdf_pages: int = 300
    max_text_chars: int = 2_000_000
    max_email_depth: int = 3
    ocr: OcrSettings = field(default_factory=OcrSettings)


@dataclass
class ExtractedText:
    """Text taken from a document, with what was learnt on the way.

    `ocr_pages` says which stretches of `text` came from OCR and how reliable each is; `shipments` holds the
    rows of shipment tables with the offsets of their cells. Both index `text`, like the analysis' evidence."""

    text: str
    media_type: str
    pages: int | None = None
    warnings: list[str] = field(default_factory=list)
    ocr_pages: list[OcrPage] = field(default_factory=list)
    shipments: list[ShipmentRow] = field(default_factory=list)


def extension_type(filename: str | None) -> str | None:
    if not filename:
        return None
    return _EXTENSION_TYPES.get(PurePath(filename).suffix.lower())


def _decode_text(data: bytes) -> str:
    if b"\x00" in data[:4096] and not (data.startswith((b"\xff\xfe", b"\xfe\xff"))):
        raise IngestError(IngestErrorCode.UNDECODABLE_TEXT, "the content looks binary, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data).best()
    if best is None:
        raise IngestError(IngestErrorCode.UNDECODABLE_TEXT, "no text encoding could be detected")
    return str(best)


def sniff_media_type(data: bytes) -> str:
    """The media type the bytes really are; raises for types we cannot read."""
    head = data[:2048]
    if b"%PDF-" in head[:1024]:
        return "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = archive.namelist()
                if "word/document.xml" in names:
                    return DOCX
                if "xl/workbook.xml" in names:
                    return XLSX
        except zipfile.BadZipFile as exc:
            raise IngestError(
                IngestErrorCode.CORRUPT_FILE, "the file looks like a ZIP/DOCX but is damaged"
            ) from exc
        return "application/zip"
    kind = filetype.guess(head)
    if kind is not None and kind.mime not in ("application/xml", "text/html"):
        return str(kind.mime)
    try:
        text = _decode_text(data[: 64 * 1024])
    except IngestError:
        return "application/octet-stream"
    start = text.lstrip()[:4096]
    first_block = start.split("\n\n", 1)[0]
    if len(_EMAIL_HEADER.findall(first_block)) >= 2 and re.match(r"^[\w-]+:", start):
        return "message/rfc822"
    if _HTML_HINT.search(start[:2048]):
        return "text/html"
    return "text/plain"


def extract_text(
    data: bytes, filename: str | None = None, limits: ExtractionLimits | None = None
) -> ExtractedText:
    """Extract text from one upload. The caller has already stored the bytes."""
    return _extract(data, filename, limits or ExtractionLimits(), depth=0)


def _extract(data: bytes, filename: str | None, limits: ExtractionLimits, depth: int) -> ExtractedText:
    if len(data) > limits.max_bytes:
        raise IngestError(
            IngestErrorCode.TOO_LARGE, f"{len(data)} bytes is over the limit of {limits.max_bytes} bytes"
        )
    if not data.strip():
        raise IngestError(IngestErrorCode.EMPTY_FILE, "the file is empty")
    media_type = sniff_media_type(data)
    claimed = extension_type(filename)
    warnings: list[str] = []
    plain: str | None = None
    if media_type == "text/plain":
        plain = _decode_text(data)
        if claimed == CSV or looks_like_shipment_csv(plain):
            media_type = CSV
    if media_type not in SUPPORTED:
        if claimed is not None:
            raise IngestError(
                IngestErrorCode.MISLABELLED_TYPE,
                f"the name {filename!r} says {claimed}, but the content is {media_type}",
            )
        raise IngestError(
            IngestErrorCode.UNSUPPORTED_TYPE, f"content of type {media_type} cannot be read as text"
        )
    if claimed is not None and claimed != media_type:
        warnings.append(f"file name suggests {claimed}; read as {media_type} by its content")
    if media_type == "application/pdf":
        result = _extract_pdf(data, limits)
    elif media_type in IMAGE_TYPES:
        result = _extract_image(data, media_type, limits)
    elif media_type == CSV:
        result = _from_table(
            read_csv(plain if plain is not None else _decode_text(data), limits.max_text_chars), CSV
        )
    elif media_type == XLSX:
        result = _from_table(read_xlsx(data, limits.max_text_chars), XLSX)
    elif media_type == DOCX:
        result = ExtractedText(_extract_docx(data), media_type)
    elif media_type == "message/rfc822":
        result = _extract_email(data, limits, depth)
    elif media_type == "text/html":
        result = ExtractedText(_extract_html(_decode_text(data)), media_type)
    else:
        result = ExtractedText(_normalise(plain if plain is not None else _decode_text(data)), media_type)
    result.warnings[:0] = warnings
    if not result.text.strip():
        raise IngestError(IngestErrorCode.NO_TEXT, "the document was read but holds no text")
    if len(result.text) > limits.max_text_chars:
        raise IngestError(
            IngestErrorCode.TOO_LARGE,
            f"the extracted text has {len(result.text)} characters, over the limit of {limits.max_text_chars}",
        )
    return result


def _normalise(text: str) -> str:
    """Unify line ends and drop control characters that break offsets in browsers and JSON consumers."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", " ", text).strip()


def _extract_pdf(data: bytes, limits: ExtractionLimits) -> ExtractedText:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                unlocked = reader.decrypt("")
            except Exception as exc:  # pypdf raises several types for unsupported ciphers
                raise IngestError(IngestErrorCode.ENCRYPTED_PDF, "the PDF is password-protected") from exc
            if not unlocked:
                raise IngestError(IngestErrorCode.ENCRYPTED_PDF, "the PDF is password-protected")
        n_pages = len(reader.pages)
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise IngestError(
            IngestErrorCode.CORRUPT_FILE, f"the PDF could not be parsed ({exc.__class__.__name__})"
        ) from exc
    if n_pages > limits.max_pdf_pages:
        raise IngestError(
            IngestErrorCode.TOO_MANY_PAGES, f"{n_pages} pages is over the limit of {limits.max_pdf_pages}"
        )
    if n_pages == 0:
        raise IngestError(IngestErrorCode.CORRUPT_FILE, "the PDF has no pages")
    texts: list[str] = []
    warnings: list[str] = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            texts.append(_normalise(page.extract_text() or ""))
        except Exception as exc:  # a single broken page must not lose the rest of the report
            texts.append("")
            warnings.append(f"page {number} could not be read ({exc.__class__.__name__})")
        if sum(len(p) for p in texts) > limits.max_text_chars:
            break
    # A page without a text layer is a scan (or a photo pasted into a report): read it by OCR.
    scanned = [i for i, t in enumerate(texts) if len(re.findall(r"\w", t)) < _MIN_LAYER_CHARS]
    has_layer = len(scanned) < len(texts)
    if len(scanned) > limits.ocr.max_pages:
        if not has_layer:
            raise IngestError(
                IngestErrorCode.TOO_MANY_PAGES,
                f"{len(scanned)} scanned pages is over the OCR limit of {limits.ocr.max_pages} "
                "(TRIAGE_MAX_OCR_PAGES)",
            )
        skipped = scanned[limits.ocr.max_pages :]
        warnings.append(
            f"{len(skipped)} page(s) without a text layer were not read by OCR (over TRIAGE_MAX_OCR_PAGES), "
            f"from page {skipped[0] + 1} on"
        )
        scanned = scanned[: limits.ocr.max_pages]
    read, ocr_warnings = _ocr_all(
        zip([i + 1 for i in scanned], render_pdf_pages(data, scanned, limits.ocr), strict=True), limits
    )
    warnings.extend(ocr_warnings)
    text = ""
    ocr_pages: list[OcrPage] = []
    for index, layer_text in enumerate(texts):
        ocr = read.get(index + 1)
        chunk = ocr.text if ocr is not None else layer_text
        if not chunk.strip():
            continue
        text += "\n\n" if text else ""
        start = len(text)
        text += chunk
        if ocr is not None:
            ocr_pages.append(OcrPage(index + 1, start, len(text), ocr.confidence, ocr.rotation, ocr.skew))
    if not text.strip():
        raise IngestError(
            IngestErrorCode.OCR_NO_TEXT,
            f"none of the {n_pages} page(s) has a text layer and OCR found no text on any of them",
        )
    return ExtractedText(text, "application/pdf", pages=n_pages, warnings=warnings, ocr_pages=ocr_pages)


def _ocr_all(
    pages: Iterable[tuple[int, Image.Image | str]], limits: ExtractionLimits
) -> tuple[dict[int, OcrPageText], list[str]]:
    """OCR each (page number, image) pair; pages that fail or yield nothing become warnings, not failures."""
    read: dict[int, OcrPageText] = {}
    warnings: list[str] = []
    for number, image in pages:
        if isinstance(image, str):
            warnings.append(f"page {number} {image}")
            continue
        try:
            page = ocr_page(image, limits.ocr)
        except PageUnreadable as exc:
            warnings.append(f"page {number}: {exc}")
            continue
        if not yielded_text(page):
            warnings.append(f"page {number}: OCR found no text on this page")
            continue
        read[number] = OcrPageText(_normalise(page.text), page.confidence, page.rotation, page.skew)
    return read, warnings


def _extract_image(data: bytes, media_type: str, limits: ExtractionLimits) -> ExtractedText:
    images = open_image_pages(data, limits.ocr)
    read, warnings = _ocr_all(enumerate(images, start=1), limits)
    text = ""
    ocr_pages: list[OcrPage] = []
    for number, page in sorted(read.items()):
        text += "\n\n" if text else ""
        start = len(text)
        text += page.text
        ocr_pages.append(OcrPage(number, start, len(text), page.confidence, page.rotation, page.skew))
    if not text:
        raise IngestError(
            IngestErrorCode.OCR_NO_TEXT, f"OCR found no text on any of the image's {len(images)} page(s)"
        )
    return ExtractedText(text, media_type, pages=len(images), warnings=warnings, ocr_pages=ocr_pages)


def _from_table(table: TableText, media_type: str) -> ExtractedText:
    return ExtractedText(table.text, media_type, warnings=table.warnings, shipments=table.rows)


def _extract_docx(data: bytes) -> str:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx surfaces zip, XML and key errors alike
        raise IngestError(IngestErrorCode.CORRUPT_FILE, "the DOCX file could not be parsed") from exc
    blocks = [p.text for p in document.paragraphs if p.text.strip()]
    for table in document.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells if c.text.strip()]
            if cells:
                blocks.append(" | ".join(cells))
    return _normalise("\n\n".join(blocks))


def _extract_html(html: str) -> str:
    import trafilatura

    main = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True)
    if not main or not main.strip():
        main = trafilatura.html2txt(html) or ""
    return _normalise(main)


def _extract_email(data: bytes, limits: ExtractionLimits, depth: int) -> ExtractedText:
    if depth >= limits.max_email_depth:
        raise IngestError(
            IngestErrorCode.TOO_DEEP, f"attachments nested deeper than {limits.max_email_depth} levels"
        )
    message = email.message_from_bytes(data, policy=email.policy.default)
    if not isinstance(message, EmailMessage):
        raise IngestError(IngestErrorCode.CORRUPT_FILE, "the e-mail could not be parsed")
    parts: list[str] = []
    warnings: list[str] = []
    ocr_pages: list[OcrPage] = []
    shipments: list[ShipmentRow] = []
    length = 0

    def add(part: str) -> int:
        """Append a part and return where it starts in the joined text (what attachment offsets shift by)."""
        nonlocal length
        start = length + (2 if parts else 0)
        parts.append(part)
        length = start + len(part)
        return start

    subject = message.get("Subject")
    if subject:
        add(_normalise(f"Subject: {subject}"))
    body = message.get_body(preferencelist=("plain", "html"))
    if body is not None:
        try:
            content = body.get_content()
        except (LookupError, ValueError):
            payload = body.get_payload(decode=True)
            content = _decode_text(payload) if isinstance(payload, bytes) else ""
        if body.get_content_type() == "text/html":
            content = _extract_html(content)
        content = _normalise(str(content))
        if content:
            add(content)
    for attachment in message.iter_attachments():
        name = attachment.get_filename() or attachment.get_content_type()
        if attachment.get_content_type() == "message/rfc822":
            inner = attachment.get_payload()
            inner_msg = inner[0] if isinstance(inner, list) and inner else inner
            payload = inner_msg.as_bytes() if hasattr(inner_msg, "as_bytes") else b""
        else:
            raw = attachment.get_payload(decode=True)
            payload = raw if isinstance(raw, bytes) else b""
        try:
            inner_text = _extract(payload, attachment.get_filename(), limits, depth + 1)
        except IngestError as exc:
            if exc.code in (IngestErrorCode.TOO_DEEP, IngestErrorCode.OCR_UNAVAILABLE):
                raise
            warnings.append(f"attachment {name!r} skipped: {exc.code.value}: {exc.message}")
            continue
        warnings.extend(f"attachment {name!r}: {w}" for w in inner_text.warnings)
        heading = f"--- Attachment: {_normalise(str(name))} ---\n"
        offset = add(heading + inner_text.text) + len(heading)
        ocr_pages.extend(p.shifted(offset) for p in inner_text.ocr_pages)
        shipments.extend(r.shifted(offset) for r in inner_text.shipments)
    return ExtractedText(
        "\n\n".join(parts), "message/rfc822", warnings=warnings, ocr_pages=ocr_pages, shipments=shipments
    )
