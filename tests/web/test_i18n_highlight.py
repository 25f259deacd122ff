"""The catalogue covers every "missing" sentence the pipeline can write; the highlighter escapes hostile text."""

from __future__ import annotations

from service.contract import Entities, Evidence, IndicatorResult, UsNexus
from service.nlp.rules.assessment import missing_elements
from service.web.highlight import Span, highlight
from service.web.i18n import CATALOGUE, MISSING_KEYS, choose_language, translate_missing


def test_every_missing_sentence_has_a_key_and_each_language_translates_it() -> None:
    nothing = missing_elements(Entities(), [], UsNexus(present=False, score=0.0), False, False)
    one_sided = missing_elements(
        Entities(),
        [
            IndicatorResult(
                id="debt_bondage",
                present=True,
                score=0.9,
                dimension="coercion",
                evidence=[Evidence(start=0, end=1, text="x", score=0.9)],
            )
        ],
        UsNexus(present=False, score=0.0),
        False,
        True,
    )
    sentences = set(nothing) | set(one_sided)
    assert len(sentences) == len(MISSING_KEYS) == 7
    for sentence in sentences:
        assert sentence in MISSING_KEYS, sentence
        for lang in ("es", "fr"):
            assert translate_missing(lang, sentence) != sentence
    assert (
        translate_missing("es", "A sentence the catalogue does not know.")
        == "A sentence the catalogue does not know."
    )
    assert set(CATALOGUE["es"]) == set(CATALOGUE["en"]) == set(CATALOGUE["fr"])


def test_language_choice() -> None:
    assert choose_language("FR", "es") == "fr"
    assert choose_language(None, "de, es-MX;q=0.4, fr;q=0.9") == "fr"
    assert choose_language(None, "fr;q=0, es;q=0.1") == "es"
    assert choose_language("xx", "de") == "en"


def test_highlight_escapes_every_piece_and_merges_overlaps() -> None:
    text = 'a <script>x()</script> b "c" & d'
    spans = [Span(0, 22, "ev ind-1", 'debt "bondage" <b>'), Span(2, 10, "ent ent-producer", "producer")]
    html = str(highlight(text, spans))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.count("<mark") == 3  # before, inside and after the nested entity
    assert 'class="ev ind-1 ent ent-producer"' in html
    assert 'title="debt &#34;bondage&#34; &lt;b&gt; | producer"' in html
    assert html.endswith(" b &#34;c&#34; &amp; d")
    assert str(highlight(text, [Span(5, 999, "ev", "out of range")])) == str(highlight(text, []))
