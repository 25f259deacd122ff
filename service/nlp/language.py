"""Which language a document is in, and whether the analysis can be trusted in it.

Evidence comes in the language of the place where the work happens. The indicator lexicon, the sentence
encoder's heads and the assessment were built on English text; run on Spanish or Malay they return confident
nonsense (mostly "nothing found", which reads as "no forced labor"). So every document's language is
identified, and for a language the stages were not built for, the analysis says so instead of judging.

Identification uses Lingua, whose n-gram models are compiled into its wheel: nothing is downloaded at run time.
The candidate set is limited to the languages of the regions and supply chains the service sees, which keeps
memory and time down and avoids confusing short texts with languages no submitter uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from service.contract import COERCION, Assessment, Entities, IndicatorResult

# Languages the indicator tagging and the assessment were built and evaluated on.
RELIABLE_LANGUAGES = frozenset({"en"})
CANDIDATES = (
    Language.ENGLISH,
    Language.SPANISH,
    Language.FRENCH,
    Language.PORTUGUESE,
    Language.MALAY,
    Language.INDONESIAN,
    Language.CHINESE,
    Language.VIETNAMESE,
    Language.THAI,
    Language.TAGALOG,
    Language.HINDI,
    Language.BENGALI,
    Language.URDU,
    Language.ARABIC,
    Language.TURKISH,
    Language.RUSSIAN,
    Language.JAPANESE,
    Language.KOREAN,
    Language.GERMAN,
    Language.ITALIAN,
    Language.DUTCH,
)
# Identification reads the start of a document: a long report does not change language half way, and reading
# two million characters would cost more than the rest of the analysis.
_SAMPLE_CHARS = 10_000
# Below this many letters (a title, a table of numbers) a guess is not worth reporting.
_MIN_LETTERS = 20
# A guess less sure than this is not reported; the document is then treated as English, as before.
_MIN_CONFIDENCE = 0.5

NAMES = {language.iso_code_639_1.name.lower(): language.name.title() for language in CANDIDATES}


@dataclass(frozen=True)
class LanguageGuess:
    code: str | None
    confidence: float


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*CANDIDATES).build()


def detect_language(text: str) -> LanguageGuess:
    """The document's language as an ISO 639-1 code, or None when the text is too short or too mixed."""
    sample = text[:_SAMPLE_CHARS]
    if len(re.findall(r"[^\W\d_]", sample)) < _MIN_LETTERS:
        return LanguageGuess(None, 0.0)
    values = _detector().compute_language_confidence_values(sample)
    if not values or values[0].value < _MIN_CONFIDENCE:
        return LanguageGuess(None, round(values[0].value, 4) if values else 0.0)
    return LanguageGuess(values[0].language.iso_code_639_1.name.lower(), round(values[0].value, 4))


def is_reliable(code: str | None) -> bool:
    """Unknown counts as reliable: short English notes are the commonest case and used to be judged."""
    return code is None or code.split("-")[0].lower() in RELIABLE_LANGUAGES


def language_name(code: str) -> str:
    return NAMES.get(code, code)


def not_evaluated(ids: tuple[str, ...] | list[str]) -> list[IndicatorResult]:
    """Indicator results that claim nothing: not present, score 0, no evidence."""
    return [
        IndicatorResult(
            id=indicator,
            present=False,
            score=0.0,
            dimension="coercion" if indicator in COERCION else "involuntariness",
        )
        for indicator in ids
    ]


# Producers found by the order gazetteer score at least this; English NER's guesses score less.
_GAZETTEER_SCORE = 0.9


def gazetteer_only(entities: Entities) -> Entities:
    """The entities that do not depend on English: names on the order lists, places and goods in the
    reference vocabulary. English NER run on Spanish marks 'el supervisor' as a company; those guesses go."""
    return Entities(
        producers=[p for p in entities.producers if p.known_orders or p.score >= _GAZETTEER_SCORE],
        commodities=[c for c in entities.commodities if c.normalized],
        locations=[loc for loc in entities.locations if loc.country],
        buyers=[],
    )


def unreliable_warning(code: str) -> str:
    return (
        f"The document is in {language_name(code)} ({code}). Indicator tagging and the WRO-bar assessment work "
        "on English text only, so no indicator is marked present and the tier stays 'insufficient'; producers, "
        "commodities, places, order links and shipment records were still extracted. Have a reviewer who "
        "reads the language judge it, or send an English translation."
    )


def withhold_judgement(assessment: Assessment, code: str) -> Assessment:
    """The assessment of a document in a language the stages were not built for.

    The tier stays 'insufficient' and the score is capped just below the WRO bar, so tier and score agree and
    the document ranks among the most uncertain in the review queue, where a reviewer who reads it will look.
    What was found (entities, order links, nexus) stays in the factors.
    """
    missing = [
        f"The text is in {language_name(code)}: indicator tagging and the assessment need English. Send an "
        "English translation, or ask a reviewer who reads the language.",
        *(m for m in assessment.missing if not m.startswith(("Describe what happens", "Show both sides"))),
    ]
    return assessment.model_copy(
        update={
            "tier": "insufficient",
            "score": min(assessment.score, 0.49),
            "missing": missing,
            "ilo_involuntariness": False,
            "ilo_coercion": False,
        }
    )
