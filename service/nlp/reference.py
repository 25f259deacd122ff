"""Reference facts (orders, entity lists, goods, places) loaded once and shared by every stage.

Loaded explicitly by the pipeline at start-up, never at import time, because the same tables feed gazetteers,
linking and the assessment and must be one consistent snapshot.
"""

from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pycountry

LEGAL_SUFFIXES = (
    "co",
    "company",
    "ltd",
    "limited",
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "llc",
    "plc",
    "sdn",
    "bhd",
    "berhad",
    "pte",
    "pty",
    "pvt",
    "private",
    "public",
    "gmbh",
    "sa",
    "sas",
    "srl",
    "spa",
    "tbk",
    "pt",
    "group",
    "holdings",
    "holding",
    "the",
    "and",
    "its",
    "subsidiaries",
)


def canonical_name(name: str) -> str:
    """Lower-case ASCII tokens without legal forms: 'Top Glove Corporation Bhd.' -> 'top glove'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    tokens = re.findall(r"[a-z0-9]+", ascii_name.casefold())
    kept = [t for t in tokens if t not in LEGAL_SUFFIXES]
    return " ".join(kept or tokens)


@dataclass(frozen=True)
class KnownOrderFact:
    id: str
    type: str
    status: str
    date: str | None
    entity: str
    country: str | None
    names: tuple[str, ...]
    commodity_ids: tuple[str, ...]
    region_wide: bool


@dataclass(frozen=True)
class CommodityFact:
    id: str
    name: str
    parent: str | None
    hts: tuple[str, ...]
    surfaces: tuple[str, ...]


@dataclass
class ReferenceData:
    """The reference tables as lookup structures."""

    commodities: dict[str, CommodityFact]
    orders: list[KnownOrderFact]
    dol_countries: dict[str, set[str]]
    regions: dict[str, tuple[str, str]]  # lower-case surface -> (region name, ISO code)
    checksum: str
    country_names: dict[str, str] = field(default_factory=dict)  # lower-case surface -> ISO code

    def country_code(self, surface: str) -> tuple[str | None, str | None]:
        """ISO code and region for a place name, or (None, None) when unknown."""
        key = surface.strip().replace("\u2019", "'").casefold().removeprefix("the ")
        if key in self.regions:
            region, code = self.regions[key]
            return code, region
        if key in self.country_names:
            return self.country_names[key], None
        return None, None


def _split(cell: str | None) -> list[str]:
    return [part.strip() for part in (cell or "").split(";") if part.strip()]


def _country_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                names[value.casefold()] = country.alpha_2
    extra = {
        "vietnam": "VN",
        "viet nam": "VN",
        "russia": "RU",
        "south korea": "KR",
        "korea": "KR",
        "north korea": "KP",
        "dprk": "KP",
        "taiwan": "TW",
        "laos": "LA",
        "burma": "MM",
        "myanmar": "MM",
        "iran": "IR",
        "syria": "SY",
        "bolivia": "BO",
        "venezuela": "VE",
        "tanzania": "TZ",
        "ivory coast": "CI",
        "côte d'ivoire": "CI",
        "cote d'ivoire": "CI",
        "côte d’ivoire": "CI",
        "drc": "CD",
        "democratic republic of the congo": "CD",
        "congo": "CD",
        "china": "CN",
        "prc": "CN",
        "people's republic of china": "CN",
        "turkey": "TR",
        "türkiye": "TR",
        "moldova": "MD",
        "united states": "US",
        "u.s.": "US",
        "usa": "US",
        "united kingdom": "GB",
        "uk": "GB",
        "britain": "GB",
        "czech republic": "CZ",
        "the gambia": "GM",
    }
    names.update(extra)
    return names


def load_reference(directory: Path) -> ReferenceData:
    """Read the CSV tables in `directory` (see service/data/README.md)."""
    digest = hashlib.sha256()
    for name in sorted(p.name for p in directory.glob("*.csv")):
        digest.update((directory / name).read_bytes())

    commodities: dict[str, CommodityFact] = {}
    with (directory / "commodities.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            surfaces = {row["name"].strip(), *_split(row["synonyms"])}
            commodities[row["commodity_id"]] = CommodityFact(
                id=row["commodity_id"],
                name=row["name"],
                parent=row["parent_id"] or None,
                hts=tuple(_split(row["hts_headings"])),
                surfaces=tuple(sorted(s for s in surfaces if s)),
            )

    orders: list[KnownOrderFact] = []
    with (directory / "wro_findings.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            names = [re.sub(r"\s*\(.*?\)\s*", " ", n).strip() for n in row["entity"].split(";")]
            names += [a for a in _split(row["aliases"]) if not re.search(r"flag|owner|owned", a, re.I)]
            orders.append(
                KnownOrderFact(
                    id=row["id"],
                    type=row["action_type"],
                    status=row["status"],
                    date=row["date_issued"] or None,
                    entity=row["entity"],
                    country=row["country_iso2"] or None,
                    names=tuple(n for n in names if len(n) > 3),
                    commodity_ids=tuple(_split(row["commodity_ids"])),
                    region_wide=row["region_wide"] == "yes",
                )
            )
    with (directory / "uflpa_entities.csv").open(encoding="utf-8") as handle:
        for index, row in enumerate(csv.DictReader(handle), start=1):
            names = [row["entity"], *_split(row["aliases"])]
            orders.append(
                KnownOrderFact(
                    id=f"uflpa-{index:03d}",
                    type="UFLPA Entity List",
                    status="active",
                    date=row["date_added"] or None,
                    entity=row["entity"],
                    country="CN",
                    names=tuple(n for n in names if len(n) > 3),
                    commodity_ids=(),
                    region_wide=False,
                )
            )

    dol: dict[str, set[str]] = {}
    with (directory / "dol_goods.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["commodity_id"]:
                dol.setdefault(row["commodity_id"], set()).add(row["country_iso2"])

    regions: dict[str, tuple[str, str]] = {}
    with (directory / "regions.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            for surface in [row["region"], *_split(row["aliases"])]:
                regions[surface.casefold()] = (row["region"], row["country_iso2"])

    return ReferenceData(
        commodities=commodities,
        orders=orders,
        dol_countries=dol,
        regions=regions,
        checksum=digest.hexdigest()[:12],
        country_names=_country_names(),
    )
