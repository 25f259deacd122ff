"""Linking producers to CBP orders and the UFLPA list, as documents actually spell them."""

from __future__ import annotations

import pytest

from service.config import Settings
from service.nlp.linking import OrderLinker
from service.nlp.pipeline import Pipeline
from service.nlp.reference import load_reference


@pytest.fixture(scope="module")
def linker() -> OrderLinker:
    return OrderLinker.build(load_reference(Settings().reference_dir))


def order_ids(linker: OrderLinker, mention: str) -> set[str]:
    return {order.id for order in linker.link(mention)}


def test_misspelled_name_links(linker: OrderLinker) -> None:
    assert {"wf-053", "wf-065"} <= order_ids(linker, "Sime Darbi Plantation")


def test_name_without_legal_suffix_links(linker: OrderLinker) -> None:
    assert {"wf-042", "wf-056"} <= order_ids(linker, "Top Glove")
    orders = {o.id: o for o in linker.link("Top Glove")}
    assert orders["wf-056"].type == "Finding" and orders["wf-056"].date


def test_abbreviated_name_links(linker: OrderLinker) -> None:
    assert "wf-050" in order_ids(linker, "FGV")  # FGV Holdings Berhad


def test_short_names_match_exactly_not_fuzzily(linker: OrderLinker) -> None:
    assert order_ids(linker, "FGX") == set()


def test_producer_on_no_list_is_not_linked(linker: OrderLinker) -> None:
    assert order_ids(linker, "Kemuning Rubber Products Sdn Bhd") == set()


def test_acronym_in_document_inherits_the_full_names_orders(pipeline: Pipeline) -> None:
    text = (
        "Workers at Sime Darby Plantation Berhad (SDP) estates in Sabah said their passports were held. "
        "SDP said it had returned the documents."
    )
    analysis = pipeline.analyze("acronym", text)
    by_text = {p.text: p for p in analysis.entities.producers}
    assert "SDP" in by_text, by_text
    full = next(p for p in analysis.entities.producers if p.text.startswith("Sime Darby"))
    assert by_text["SDP"].normalized == full.normalized
    assert {o.id for o in by_text["SDP"].known_orders} >= {"wf-053"}
