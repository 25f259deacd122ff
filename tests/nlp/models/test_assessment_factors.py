"""The assessment's text factors: a forced-labor statement the text stands behind, and a government's voice."""

from __future__ import annotations

import pytest

from service.contract import Entities
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
