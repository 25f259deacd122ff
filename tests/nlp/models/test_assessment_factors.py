"""The assessment's text factors: a forced-labor statement the text stands behind, a government's voice, and
whether the goods are specific enough (DOMAIN.md's tier rules)."""

from __future__ import annotations

import pytest

from service.contract import CommodityMention, Entities, LocationMention, ProducerMention
from service.nlp.cues import GOVERNMENT_VOICE
from service.nlp.models.assessment import candidate_factors
from service.nlp.sentences import split_sentences


def factors(text: str) -> dict[str, float]:
    sentences = split_sentences(text)
    return candidate_factors(
        text, sentences, Entities(), [], 0.0, names=("forced_labor_stated", "government_voice")
    )


@pytest.mark.parametrize(
    ("text", "stated"),
    [
        ("ILAB has reason to believe that cotton from the region is produced with forced labor.", 1.0),
        ("Authorities forced teachers and students to pick cotton during the autumn harvest.", 1.0),
        ("The entity uses prison labor to assemble furniture for export.", 1.0),
        ("An audit found no evidence of forced labor at the mill.", 0.0),
        ("Importers should ask suppliers whether forced labor could occur in their supply chains.", 0.0),
        ("Wages at the mill rose by four percent this year.", 0.0),
    ],
)
def test_forced_labor_statement_counts_only_when_the_text_stands_behind_it(text: str, stated: float) -> None:
    assert factors(text)["forced_labor_stated"] == stated


@pytest.mark.parametrize(
    ("opening", "government"),
    [
        ("AGENCY: Department of Homeland Security. ACTION: Notice.", True),
        ("U.S. Customs and Border Protection today issued a Withhold Release Order.", True),
        ("The Bureau of International Labor Affairs adds two goods to its list.", True),
        ("Garment workers in the city marched for higher pay on Sunday.", False),
        ("Our company is committed to responsible sourcing.", False),
    ],
)
def test_government_voice_is_read_from_the_opening(opening: str, government: bool) -> None:
    assert bool(GOVERNMENT_VOICE.search(opening)) is government
    assert factors(opening)["government_voice"] == float(government)
    # Past the opening a government's name is a mention, not the document's voice.
    assert factors("Garment workers marched on Sunday. " * 40 + opening)["government_voice"] == 0.0


COTTON = CommodityMention(text="cotton", start=0, end=6, normalized="cotton")
XINJIANG = LocationMention(text="Xinjiang", start=10, end=18, country="CN", region="Xinjiang")
FARM = ProducerMention(text="Lop County Farm", start=20, end=35, normalized="lop county farm", score=0.9)


@pytest.mark.parametrize(
    ("entities", "specific"),
    [
        (Entities(producers=[FARM]), 1.0),
        (Entities(commodities=[COTTON], locations=[XINJIANG]), 1.0),
        (Entities(commodities=[COTTON]), 0.0),
        (Entities(locations=[XINJIANG]), 0.0),
        (Entities(), 0.0),
    ],
)
def test_goods_are_specific_with_a_producer_or_a_commodity_from_a_place(
    entities: Entities, specific: float
) -> None:
    names = ("goods_specific", "government_specific_goods")
    government = "AGENCY: Department of Homeland Security. ACTION: Notice."
    in_government_voice = candidate_factors(government, split_sentences(government), entities, [], 0.0, names)
    in_news = candidate_factors("A farm story.", split_sentences("A farm story."), entities, [], 0.0, names)
    assert in_government_voice == {"goods_specific": specific, "government_specific_goods": specific}
    assert in_news == {"goods_specific": specific, "government_specific_goods": 0.0}
