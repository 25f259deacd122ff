"""Shipment records: CSV and XLSX tables read row by row, with the columns that matter for a WRO recognised.

Investigators and NGOs pull bills of lading from trade-data services as spreadsheets. A consignee or importer in
the United States, a US port of unlading or an HTSUS code is the strongest US-nexus evidence there is, and the
shipper column names the producer. Each row becomes one line of text (so the gazetteers and the reader see it)
and a `ShipmentRow` that keeps which cell played which role, with offsets into that text.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from service.ingest.errors import IngestError, IngestErrorCode

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Header words -> role, tried in order: the first pattern that matches a header wins, so "port of unlading"
# is a port and not a product, and "consignee address" joins the consignee.
ROLE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "port_of_unlading",
        re.compile(
            r"\b(port of (unlading|discharge|entry|arrival)|unlading|discharge port|us port|destination port)\b"
        ),
    ),
    (
        "port_of_lading",
        re.compile(r"\b(port of (lading|loading|departure|export)|lading port|loading port|foreign port)\b"),
    ),
    ("country_of_origin", re.compile(r"\b(country of origin|origin country|origin)\b")),
    ("consignee", re.compile(r"\b(consignee|ship to|receiver)\b")),
    ("importer", re.compile(r"\b(importer|ior|buyer|notify party)\b")),
    ("shipper", re.compile(r"\b(shipper|exporter|supplier|manufacturer|seller|vendor|producer|consignor)\b")),
    ("hts_code", re.compile(r"\b(hts|hs code|hs|harmoni[sz]ed|tariff (code|number|classification))\b")),
    ("product_description", re.compile(r"\b(description|product|goods|commodity|cargo|merchandise)\b")),
    ("bill_of_lading", re.compile(r"\b(bill of lading|b l|bol|house bill|master bill)\b")),
    ("arrival_date", re.compile(r"\b(arrival date|arrival|date)\b")),
]
ROLE_LABELS = {
    "port_of_unlading": "Port of unlading",
    "port_of_lading": "Port of lading",
    "country_of_origin": "Country of origin",
    "consignee": "Consignee",
    "importer": "Importer",
    "shipper": "Shipper",
    "hts_code": "HTS code",
    "product_description": "Product description",
    "bill_of_lading": "Bill of lading",
    "arrival_date": "Arrival date",
}
# A table counts as shipment records only with at least this many recognised roles among its headers.
_MIN_ROLES = 2


@dataclass
class ShipmentRow:
    """One row of a shipment table: its line in the extracted text and the value of each recognised role.

    `spans` holds, per role, the offsets of the value in the extracted text (the first cell of that role)."""

    row: int
    start: int
    end: int
    sheet: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)

    def shifted(self, offset: int) -> ShipmentRow:
        return ShipmentRow(
            row=self.row,
            start=self.start + offset,
            end=self.end + offset,
            sheet=self.sheet,
            fields=dict(self.fields),
            spans={k: (s + offset, e + offset) for k, (s, e) in self.spans.items()},
        )


@dataclass
class TableText:
    text: str
    rows: list[ShipmentRow]
    warnings: list[str]


def role_of(header: str) -> str | None:
    key = re.sub(r"[^a-z0-9]+", " ", header.casefold()).strip()
    if not key:
        return None
    for role, pattern in ROLE_PATTERNS:
        if pattern.search(key):
            return role
    return None


def looks_like_shipment_csv(text: str) -> bool:
    """Whether text without a telling file name is a delimited table whose header names shipment columns."""
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    if len(first) > 2000:
        return False
    for delimiter in (",", ";", "\t", "|"):
        try:
            cells = next(csv.reader([first], delimiter=delimiter), [])
        except csv.Error:  # a stray carriage return or quote: not a table we can read as one
            return False
        if len(cells) >= 3 and len({role_of(c) for c in cells} - {None}) >= _MIN_ROLES:
            return True
    return False


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"\s+", " ", str(value)).strip()


def _render(sheets: Iterable[tuple[str | None, Iterator[list[str]]]], max_chars: int) -> TableText:
    """Each table's rows as lines of 'Label: value; ...'; stops, with a warning, before the text limit."""
    out: list[str] = []
    length = 0
    rows: list[ShipmentRow] = []
    warnings: list[str] = []

    def emit(line: str) -> int:
        nonlocal length
        start = length + (1 if out else 0)
        out.append(line)
        length = start + len(line)
        return start

    for sheet, cells in sheets:
        header = next(cells, None)
        if header is None:
            continue
        roles = [role_of(h) for h in header]
        shipment = len(set(roles) - {None}) >= _MIN_ROLES
        if sheet is not None:
            emit(f"Sheet: {sheet}")
        read = 0
        for number, values in enumerate(cells, start=2):
            pairs = [(i, v) for i, v in enumerate(values) if v]
            if not pairs:
                continue
            parts: list[tuple[str | None, str]] = []
            for i, value in pairs:
                label = header[i] if i < len(header) and header[i] else f"Column {i + 1}"
                role = roles[i] if i < len(roles) else None
                parts.append((role, f"{label}: "))
                parts.append((None, value))
            line_prefix = f"Row {number}: "
            line = line_prefix
            spans: dict[str, tuple[int, int]] = {}
            fields: dict[str, list[str]] = {}
            for k in range(0, len(parts), 2):
                role, label = parts[k]
                value = parts[k + 1][1]
                if k:
                    line += "; "
                line += label
                if role is not None:
                    spans.setdefault(role, (len(line), len(line) + len(value)))
                    fields.setdefault(role, []).append(value)
                line += value
            if length + len(line) + 1 > max_chars:
                warnings.append(
                    f"table{f' {sheet!r}' if sheet else ''}: rows from {number} on were not read "
                    "(over TRIAGE_MAX_TEXT_CHARS)"
                )
                break
            start = emit(line)
            read += 1
            if shipment and fields:
                rows.append(
                    ShipmentRow(
                        row=number,
                        start=start,
                        end=start + len(line),
                        sheet=sheet,
                        fields={role: ", ".join(values) for role, values in fields.items()},
                        spans={role: (start + s, start + e) for role, (s, e) in spans.items()},
                    )
                )
        if read == 0:
            warnings.append(f"table{f' {sheet!r}' if sheet else ''} has a header but no rows")
    return TableText("\n".join(out), rows, warnings)


def read_csv(text: str, max_chars: int) -> TableText:
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), dialect)

    def cells() -> Iterator[list[str]]:
        try:
            for record in reader:
                yield [_cell(v) for v in record]
        except csv.Error as exc:
            raise IngestError(IngestErrorCode.CORRUPT_FILE, f"the CSV could not be parsed ({exc})") from exc

    return _render([(None, cells())], max_chars)


def read_xlsx(data: bytes, max_chars: int) -> TableText:
    """Every sheet in read-only mode (rows stream from the XML; nothing holds the whole workbook)."""
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise IngestError(
            IngestErrorCode.CORRUPT_FILE, f"the XLSX workbook could not be parsed ({exc.__class__.__name__})"
        ) from exc

    def cells(sheet_name: str) -> Iterator[list[str]]:
        try:
            for record in workbook[sheet_name].iter_rows(values_only=True):
                yield [_cell(v) for v in record]
        except (KeyError, ValueError, TypeError, OSError, zipfile.BadZipFile) as exc:
            raise IngestError(
                IngestErrorCode.CORRUPT_FILE,
                f"sheet {sheet_name!r} could not be read ({exc.__class__.__name__})",
            ) from exc

    try:
        return _render([(name, cells(name)) for name in workbook.sheetnames], max_chars)
    finally:
        workbook.close()
