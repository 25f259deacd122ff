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
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import PurePath

import filetype
from charset_normalizer import from_bytes

from service.ingest.errors import IngestError, IngestErrorCode

TEXT_TYPES = ("text/plain", "text/html", "message/rfc822")
SUPPORTED = (
    "text/plain",
    "text/html",
    "message/rfc822",
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
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
}
_EMAIL_HEADER = re.compile(
    r"^(From|To|Subject|Date|Message-ID|MIME-Version|Received|Return-Path|Content-Type|Reply-To|Cc):[ \t]",
    re.IGNORECASE | re.MULTILINE,
)
_HTML_HINT = re.compile(r"<(!doctype html|html|body|head|p|div|article|table|h[1-6])[\s>]", re.IGNORECASE)


@dataclass(frozen=True)
class ExtractionLimits:
    """The limits that keep a hostile or huge upload from exhausting the machine."""

    max_bytes: int = 20 * 1024 * 1024
    max_pdf_pages: int = 300
    max_text_chars: int = 2_000_000
    max_email_depth: int = 3


@dataclass
class ExtractedText:
    """Text taken from a document, with what was learnt on the way."""

    text: str
    media_type: str
    pages: int | None = None
    warnings: list[str] = field(default_factory=list)


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
                if "word/document.xml" in archive.namelist():
                    return DOCX
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
    elif media_type == DOCX:
        result = ExtractedText(_extract_docx(data), media_type)
    elif media_type == "message/rfc822":
        result = _extract_email(data, limits, depth)
    elif media_type == "text/html":
        result = ExtractedText(_extract_html(_decode_text(data)), media_type)
    else:
        result = ExtractedText(_normalise(_decode_text(data)), media_type)
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
    parts: list[str] = []
    warnings: list[str] = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            parts.append(page.extract_text() or "")
        except Exception as exc:  # a single broken page must not lose the rest of the report
            warnings.append(f"page {number} could not be read ({exc.__class__.__name__})")
        if sum(len(p) for p in parts) > limits.max_text_chars:
            break
    text = _normalise("\n\n".join(p.strip() for p in parts if p.strip()))
    if len(re.findall(r"\w", text)) < 20:
        raise IngestError(
            IngestErrorCode.NO_TEXT_LAYER,
            f"none of the {n_pages} page(s) has a text layer; it looks like a scan",
        )
    return ExtractedText(text, "application/pdf", pages=n_pages, warnings=warnings)


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
    subject = message.get("Subject")
    if subject:
        parts.append(f"Subject: {subject}")
    body = message.get_body(preferencelist=("plain", "html"))
    if body is not None:
        try:
            content = body.get_content()
        except (LookupError, ValueError):
            payload = body.get_payload(decode=True)
            content = _decode_text(payload) if isinstance(payload, bytes) else ""
        if body.get_content_type() == "text/html":
            content = _extract_html(content)
        parts.append(_normalise(str(content)))
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
            if exc.code == IngestErrorCode.TOO_DEEP:
                raise
            warnings.append(f"attachment {name!r} skipped: {exc.code.value}: {exc.message}")
            continue
        warnings.extend(f"attachment {name!r}: {w}" for w in inner_text.warnings)
        parts.append(f"--- Attachment: {name} ---\n{inner_text.text}")
    return ExtractedText(
        _normalise("\n\n".join(p for p in parts if p.strip())), "message/rfc822", warnings=warnings
    )
