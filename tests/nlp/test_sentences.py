from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from service.nlp.sentences import split_sentences, split_with_forced_boundaries


def test_abbreviations_and_initials_do_not_split() -> None:
    text = "U.S. Customs detained gloves from Top Glove Corp. Bhd. on Jan. 5. J. Smith said No. 4 was shut."
    assert [s.text for s in split_sentences(text)] == [
        "U.S. Customs detained gloves from Top Glove Corp. Bhd. on Jan. 5.",
        "J. Smith said No. 4 was shut.",
    ]


def test_lines_and_quotes() -> None:
    text = 'Headline here\n\nWorkers said "we could not leave." Nobody came.\n- a bullet'
    assert [s.text for s in split_sentences(text)] == [
        "Headline here",
        'Workers said "we could not leave."',
        "Nobody came.",
        "- a bullet",
    ]


def test_forced_boundaries() -> None:
    text = "First clause, then second clause and more."
    spans = split_with_forced_boundaries(text, [14])
    assert [s.text for s in spans] == ["First clause,", "then second clause and more."]


@given(st.text(alphabet=st.sampled_from(list('ab .!?\n"U.S')), max_size=200))
def test_offsets_always_index_the_original(text: str) -> None:
    previous_end = 0
    for sentence in split_sentences(text):
        assert text[sentence.start : sentence.end] == sentence.text
        assert sentence.text == sentence.text.strip() and sentence.text
        assert sentence.start >= previous_end
        previous_end = sentence.end


def test_lower_case_submissions_are_split() -> None:
    text = "i work in the factory. they keep my passport. we cannot go out! e.g. call me."
    assert [s.text for s in split_sentences(text)] == [
        "i work in the factory.",
        "they keep my passport.",
        "we cannot go out!",
        "e.g. call me.",
    ]


def test_quote_attributions_stay_with_their_quote() -> None:
    text = '"Where are my papers?" a cutter asked. Nobody answered.'
    assert [s.text for s in split_sentences(text)] == [
        '"Where are my papers?" a cutter asked.',
        "Nobody answered.",
    ]


def test_chinese_sentence_punctuation() -> None:
    assert [s.text for s in split_sentences("工人说护照被收走了。他们不能离开工厂！")] == [
        "工人说护照被收走了。",
        "他们不能离开工厂！",
    ]
