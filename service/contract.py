"""The analysis object of CONTRACT.md: one schema for the API, the CLI and the web pages.

Pydantic models rather than dicts so that the OpenAPI document is generated from the same definition the
pipeline fills in, and a field cannot silently go missing in one output path.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service.labels import INDICATOR_IDS, PRESENT_STATUSES

__all__ = ["INDICATOR_IDS", "PRESENT_STATUSES"]

# The ILO operational rule needs both involuntariness and a menace of penalty; each indicator speaks mainly
# to one of them (ILO 2012 survey guidelines group them this way).
INVOLUNTARINESS = frozenset(
    {"deception", "abusive_working_living_conditions", "excessive_overtime", "abuse_of_vulnerability"}
)
COERCION = frozenset(
    {
        "restriction_of_movement",
        "isolation",
        "physical_sexual_violence",
        "intimidation_threats",
        "retention_of_identity_documents",
        "withholding_of_wages",
        "debt_bondage",
    }
)

Tier = Literal["insufficient", "reasonable", "conclusive"]
EvidenceStatus = Literal["affirmed", "first_hand", "reported", "negated", "remediated", "hypothetical"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KnownOrder(_Strict):
    id: str
    type: str = Field(description="WRO, Finding or UFLPA entity list")
    status: str
    date: str | None = None
    entity: str


class ProducerMention(_Strict):
    text: str
    start: int
    end: int
    normalized: str
    score: float = Field(ge=0, le=1)
    known_orders: list[KnownOrder] = Field(default_factory=list)


class CommodityMention(_Strict):
    text: str
    start: int
    end: int
    normalized: str | None = Field(description="commodity id from the reference vocabulary, when known")
    hts: list[str] = Field(default_factory=list)
    parent: str | None = None
    dol_listed_countries: list[str] = Field(
        default_factory=list, description="ISO codes of countries where DOL lists this good"
    )


class LocationMention(_Strict):
    text: str
    start: int
    end: int
    country: str | None = Field(description="ISO 3166-1 alpha-2 code, when known")
    region: str | None = None
    role: Literal["production"] = "production"


class BuyerMention(_Strict):
    text: str
    start: int
    end: int


class Entities(_Strict):
    producers: list[ProducerMention] = Field(default_factory=list)
    commodities: list[CommodityMention] = Field(default_factory=list)
    locations: list[LocationMention] = Field(default_factory=list)
    buyers: list[BuyerMention] = Field(default_factory=list)


_OCR_CONFIDENCE = (
    "Tesseract's confidence (0..1) in the OCR-read page the text came from; null when it was typed text"
)


class Evidence(_Strict):
    start: int
    end: int
    text: str
    score: float = Field(ge=0, le=1)
    status: EvidenceStatus = "affirmed"
    ocr_confidence: float | None = Field(default=None, ge=0, le=1, description=_OCR_CONFIDENCE)


class IndicatorResult(_Strict):
    id: str
    present: bool
    score: float = Field(ge=0, le=1)
    dimension: Literal["involuntariness", "coercion"]
    evidence: list[Evidence] = Field(default_factory=list)
    discounted: list[Evidence] = Field(
        default_factory=list,
        description="mentions that do not count: negated, remediated or hypothetical",
    )


class NexusEvidence(_Strict):
    start: int
    end: int
    text: str
    score: float = Field(ge=0, le=1)
    source: Literal["text", "shipment_record"] = Field(
        default="text", description="a sentence of the text, or a row of a shipment table (CSV/XLSX)"
    )
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="for a shipment record: its recognised columns (consignee, importer, shipper, "
        "port_of_unlading, hts_code, product_description, ...)",
    )
    ocr_confidence: float | None = Field(default=None, ge=0, le=1, description=_OCR_CONFIDENCE)


class UsNexus(_Strict):
    present: bool
    score: float = Field(ge=0, le=1)
    evidence: list[NexusEvidence] = Field(default_factory=list)


class Assessment(_Strict):
    tier: Tier
    score: float = Field(ge=0, le=1, description="probability that the WRO bar is met")
    missing: list[str] = Field(default_factory=list)
    factors: dict[str, float | int | str | bool | None] = Field(default_factory=dict)
    ilo_involuntariness: bool = False
    ilo_coercion: bool = False


class Versions(_Strict):
    pipeline: str
    models: dict[str, str] = Field(default_factory=dict)


class OcrPageInfo(_Strict):
    """A stretch of the text that was read by OCR from a scanned page or photo."""

    page: int
    start: int
    end: int
    confidence: float = Field(ge=0, le=1, description="Tesseract's mean word confidence on the page")


class Analysis(_Strict):
    id: str
    language: str | None = Field(
        default=None, description="ISO 639-1 code identified from the text (or given by the submitter)"
    )
    language_reliable: bool = Field(
        default=True,
        description="false when indicator tagging and the assessment do not work for the document's language "
        "(they are built for English): no indicator is marked present and the tier stays 'insufficient'",
    )
    ocr_pages: list[OcrPageInfo] = Field(default_factory=list)
    entities: Entities
    indicators: list[IndicatorResult]
    us_nexus: UsNexus
    assessment: Assessment
    versions: Versions
    warnings: list[str] = Field(default_factory=list)


class AnalysisError(_Strict):
    """One line of `triage analyze` output for an input that could not be analysed."""

    id: str | None
    error: str
