"""Shipment tables (CSV, XLSX): rows become text lines, and recognised columns keep their offsets."""

from __future__ import annotations

import pytest

from service.ingest import ExtractionLimits, IngestError, IngestErrorCode, extract_text
from service.ingest.tables import CSV, XLSX, role_of
from tests.ingest.samples import SHIPMENT_HEADER, SHIPMENT_ROWS, shipment_csv_bytes, shipment_xlsx_bytes


@pytest.mark.parametrize(
    ("header", "role"),
    [
        ("Consignee Name", "consignee"),
        ("Importer of Record", "importer"),
        ("Shipper", "shipper"),
        ("Port of Unlading", "port_of_unlading"),
        ("US Port", "port_of_unlading"),
        ("HS Code", "hts_code"),
        ("HTS", "hts_code"),
        ("Product Description", "product_description"),
        ("Weight (kg)", None),
    ],
)
def test_column_roles(header: str, role: str | None) -> None:
    assert role_of(header) == role


@pytest.mark.parametrize(
    ("data", "filename", "media_type"),
    [
        (shipment_csv_bytes(), "bills.csv", CSV),
        (shipment_csv_bytes(), None, CSV),  # recognised by its header, without a name
        (shipment_xlsx_bytes(), "bills.xlsx", XLSX),
        (shipment_xlsx_bytes(), None, XLSX),
    ],
    ids=["csv", "csv-unnamed", "xlsx", "xlsx-unnamed"],
)
def test_shipment_rows_with_their_cells(data: bytes, filename: str | None, media_type: str) -> None:
    result = extract_text(data, filename)
    assert result.media_type == media_type
    assert result.warnings == []
    assert [r.row for r in result.shipments] == [2, 3]
    first = result.shipments[0]
    assert first.fields["shipper"] == "Sinar Jaya Gloves Sdn Bhd"
    assert first.fields["consignee"] == "Harbor Glove Supply LLC, 1200 Harbor Ave, Long Beach, CA 90802, USA"
    assert first.fields["hts_code"] == "4015.19.0510"
    cell = {role: result.text[start:end] for role, (start, end) in first.spans.items()}
    assert cell["shipper"] == "Sinar Jaya Gloves Sdn Bhd"
    assert (
        cell["consignee"] == "Harbor Glove Supply LLC"
    )  # the first consignee column; the address joins the field
    assert cell["port_of_unlading"] == "Long Beach, California"
    assert cell["hts_code"] == "4015.19.0510"
    assert cell["product_description"] == "nitrile rubber examination gloves"
    assert "Weight (kg): 18250" in result.text[first.start : first.end]


def test_plain_csv_is_a_table_without_shipments() -> None:
    data = b"name,age,city\nAda,36,London\nGrace,45,New York\n"
    result = extract_text(data, "people.csv")
    assert result.media_type == CSV
    assert result.shipments == []
    assert "city: New York" in result.text


def test_long_table_stops_at_the_text_limit_with_a_warning() -> None:
    rows = [SHIPMENT_ROWS[0]] * 50
    result = extract_text(shipment_csv_bytes(rows), "big.csv", ExtractionLimits(max_text_chars=2000))
    assert 0 < len(result.shipments) < 50
    assert any("not read" in w for w in result.warnings)


def test_header_only_table_has_no_text() -> None:
    with pytest.raises(IngestError) as caught:
        extract_text(",".join(SHIPMENT_HEADER).encode() + b"\n", "empty.csv")
    assert caught.value.code == IngestErrorCode.NO_TEXT


def test_corrupt_workbook() -> None:
    data = shipment_xlsx_bytes()
    with pytest.raises(IngestError) as caught:
        extract_text(data[: len(data) // 2], "bills.xlsx")
    assert caught.value.code == IngestErrorCode.CORRUPT_FILE
