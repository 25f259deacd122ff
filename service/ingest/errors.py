"""Ingestion failures with stable codes.

The code is what a client or the web form branches on and what the document's failed state records, so each
failure a user can cause has its own code and a message that says what to do.
"""

from __future__ import annotations

from enum import StrEnum


class IngestErrorCode(StrEnum):
    EMPTY_FILE = "empty_file"
    TOO_LARGE = "too_large"
    TOO_MANY_PAGES = "too_many_pages"
    UNSUPPORTED_TYPE = "unsupported_type"
    MISLABELLED_TYPE = "mislabelled_type"
    ENCRYPTED_PDF = "encrypted_pdf"
    NO_TEXT_LAYER = "no_text_layer"
    CORRUPT_FILE = "corrupt_file"
    UNDECODABLE_TEXT = "undecodable_text"
    NO_TEXT = "no_text"
    TOO_DEEP = "too_deep"
    IMAGE_TOO_LARGE = "image_too_large"
    OCR_NO_TEXT = "ocr_no_text"
    OCR_UNAVAILABLE = "ocr_unavailable"


# One line per code for the README and the API documentation.
ERROR_DESCRIPTIONS: dict[IngestErrorCode, str] = {
    IngestErrorCode.EMPTY_FILE: "The upload has no bytes (or only white space).",
    IngestErrorCode.TOO_LARGE: "The upload or its extracted text is over the configured size limit.",
    IngestErrorCode.TOO_MANY_PAGES: "The PDF has more pages than the configured limit.",
    IngestErrorCode.UNSUPPORTED_TYPE: (
        "The content is not text, PDF, HTML, DOCX, e-mail, an image (PNG, JPEG, TIFF, WebP) or a table (CSV, "
        "XLSX), e.g. an archive or a video."
    ),
    IngestErrorCode.MISLABELLED_TYPE: "The file name claims one type but the content is an unsupported other type.",
    IngestErrorCode.ENCRYPTED_PDF: "The PDF is password-protected; send an unprotected copy.",
    IngestErrorCode.NO_TEXT_LAYER: (
        "No longer produced: scans are now read by OCR. Documents that failed with it before can be retried."
    ),
    IngestErrorCode.CORRUPT_FILE: "The file is damaged or truncated and could not be parsed.",
    IngestErrorCode.UNDECODABLE_TEXT: "The bytes are not text in any encoding that could be detected.",
    IngestErrorCode.NO_TEXT: "The file was read but holds no usable text.",
    IngestErrorCode.TOO_DEEP: "E-mail attachments are nested deeper than the configured limit.",
    IngestErrorCode.IMAGE_TOO_LARGE: (
        "An image or scanned page has more pixels than the configured limit, or is a decompression bomb."
    ),
    IngestErrorCode.OCR_NO_TEXT: "The scan or photo was read by OCR but no page yielded text.",
    IngestErrorCode.OCR_UNAVAILABLE: "The OCR engine (Tesseract) is not installed or failed; retry once it works.",
}


class IngestError(Exception):
    """A document that cannot be turned into text; `code` is stable, `message` is for people."""

    def __init__(self, code: IngestErrorCode, message: str) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message
