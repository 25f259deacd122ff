"""Shipment tables in the analysis: US nexus from the columns, producer and buyer from the parties."""

from __future__ import annotations

import pytest

from service.ingest import extract_text
from service.nlp.pipeline import Pipeline
from tests.ingest.samples import SHIPMENT_ROWS, shipment_csv_bytes

pytestmark = pytest.mark.integration


def test_us_consignee_and_hts_code_give_us_nexus(pipeline: Pipeline) -> None:
    extracted = extract_text(shipment_csv_bytes(), "bills.csv")
    analysis = pipeline.analyze("csv", extracted.text, shipments=extracted.shipments)
    nexus = analysis.us_nexus
    assert nexus.present and nexus.score >= 0.9
    record = nexus.evidence[0]
    assert record.source == "shipment_record"
    assert record.fields["consignee"].startswith("Harbor Glove Supply LLC")
    assert record.fields["hts_code"] == "4015.19.0510"
    assert extracted.text[record.start : record.end] == record.text
    # Two rows on the same trade lane are one piece of evidence.
    assert sum(e.source == "shipment_record" for e in nexus.evidence) == 1
    assert [p.text for p in analysis.entities.producers] == ["Sinar Jaya Gloves Sdn Bhd"]
    assert [b.text for b in analysis.entities.buyers] == ["Harbor Glove Supply LLC"]
    assert "rubber_glove" in {c.normalized for c in analysis.entities.commodities}
    assert analysis.assessment.factors["us_nexus"] is True


def test_foreign_consignee_without_us_columns_gives_no_nexus(pipeline: Pipeline) -> None:
    rows = [
        [*row[:3], "Rotterdam Glove BV", "Maasvlakte 2, Rotterdam, Netherlands", "", "", row[7], row[8]]
        for row in SHIPMENT_ROWS
    ]
    extracted = extract_text(shipment_csv_bytes(rows), "bills.csv")
    analysis = pipeline.analyze("csv", extracted.text, shipments=extracted.shipments)
    assert not any(e.source == "shipment_record" for e in analysis.us_nexus.evidence)
    assert not analysis.us_nexus.present
