"""Language identification and what the analysis does with a language it was not built for."""

from __future__ import annotations

import pytest

from service.nlp.language import detect_language
from service.nlp.pipeline import Pipeline

ENGLISH = (
    "Workers at the Sinar Jaya rubber glove factory in Selangor, Malaysia told investigators that the supervisor "
    "kept their passports, that recruitment debts took most of their pay and that they were locked in the "
    "dormitory at night. The gloves are exported to importers in the United States."
)
SAMPLES = {
    "es": (
        "Los trabajadores de la fábrica de guantes de Top Glove Corporation Bhd en Selangor, Malasia, dijeron a los "
        "investigadores que el supervisor guardaba sus pasaportes, que las deudas de contratación se llevaban la "
        "mayor parte de su salario y que los encerraban en el dormitorio por la noche. Los guantes se exportan a "
        "importadores en los Estados Unidos."
    ),
    "ms": (
        "Pekerja di kilang sarung tangan getah Top Glove Corporation Bhd di Selangor, Malaysia memberitahu penyiasat bahawa "
        "penyelia menyimpan pasport mereka, hutang pengambilan mengambil sebahagian besar gaji mereka dan mereka "
        "dikunci di asrama pada waktu malam. Sarung tangan itu dieksport kepada pengimport di Amerika Syarikat."
    ),
    "zh": (
        "马来西亚雪兰莪州Sinar Jaya橡胶手套厂的工人告诉调查人员，主管扣留了他们的护照，招聘债务占去了他们大部分的工资，"
        "晚上他们被锁在宿舍里。这些手套出口给美国的进口商。"
    ),
}


@pytest.mark.parametrize("code", sorted(SAMPLES))
def test_language_codes(code: str) -> None:
    guess = detect_language(SAMPLES[code])
    assert guess.code == code
    assert guess.confidence >= 0.5


def test_english_and_too_short_text() -> None:
    assert detect_language(ENGLISH).code == "en"
    assert detect_language("MEDU1234567 4015.19").code is None


@pytest.mark.integration
def test_english_is_judged(pipeline: Pipeline) -> None:
    analysis = pipeline.analyze("en", ENGLISH)
    assert analysis.language == "en" and analysis.language_reliable
    assert analysis.assessment.factors["language_reliable"] is True
    assert any(i.present for i in analysis.indicators)
    assert analysis.warnings == []


@pytest.mark.integration
@pytest.mark.parametrize("code", sorted(SAMPLES))
def test_other_languages_are_flagged_not_judged(pipeline: Pipeline, code: str) -> None:
    analysis = pipeline.analyze(code, SAMPLES[code])
    assert analysis.language == code
    assert analysis.language_reliable is False
    assert analysis.assessment.factors["language_reliable"] is False
    assert analysis.assessment.factors["language"] == code
    assert not any(i.present for i in analysis.indicators)
    assert analysis.assessment.tier == "insufficient" and analysis.assessment.score < 0.5
    assert not analysis.assessment.ilo_coercion
    assert any("English text only" in w for w in analysis.warnings)
    assert "English translation" in analysis.assessment.missing[0]
    # What does not depend on English still runs: the producer is found on the order lists by name ...
    if code != "zh":
        [producer] = analysis.entities.producers
        assert producer.text.startswith("Top Glove") and producer.known_orders
    # ... while English NER's guesses on foreign text ('el supervisor' as a company) are dropped.
    assert all(p.known_orders for p in analysis.entities.producers)
    assert all(loc.country for loc in analysis.entities.locations)


@pytest.mark.integration
def test_submitter_language_is_a_hint_the_text_overrides(pipeline: Pipeline) -> None:
    analysis = pipeline.analyze("hint", ENGLISH, "es")
    assert analysis.language == "en" and analysis.language_reliable
    assert any("submitted as language 'es'" in w for w in analysis.warnings)
    short = pipeline.analyze("short", "Informe 3.", "es")
    assert short.language == "es" and not short.language_reliable
