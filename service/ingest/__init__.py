"""Ingestion: bytes in, text out. Imports neither FastAPI nor the database, so the CLI and workers share it."""

from service.ingest.errors import ERROR_DESCRIPTIONS, IngestError, IngestErrorCode
from service.ingest.extract import ExtractedText, ExtractionLimits, extract_text, sniff_media_type

__all__ = [
    "ERROR_DESCRIPTIONS",
    "ExtractedText",
    "ExtractionLimits",
    "IngestError",
    "IngestErrorCode",
    "extract_text",
    "sniff_media_type",
]
