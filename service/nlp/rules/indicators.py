"""Rules baseline for the 11 ILO indicators: a lexicon per indicator over sentences, with evidence status.

The lexicon is written from the ILO definitions and sub-signals (service/data/ilo_indicators.csv), not from any
evaluation document. It stays as the `rules` pipeline so the trained tagger is always compared against it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from service.contract import COERCION, INDICATOR_IDS, PRESENT_STATUSES, Evidence, IndicatorResult
from service.nlp.evidence_status import classify_status
from service.nlp.sentences import Sentence

_LEXICON: dict[str, list[str]] = {
    "abuse_of_vulnerability": [
        r"abuse of (their |the workers'? )?vulnerab\w+",
        r"exploit\w* (their|the workers'?|migrants'?) (vulnerab\w+|status|poverty|situation)",
        r"undocumented|irregular (status|migrants?)|without (legal )?papers",
        r"threat\w* to report .{0,30}(immigration|police|authorities)",
        r"(labou?r|labor) transfer|poverty alleviation|surplus labou?r",
        r"minorit(y|ies)|uyghurs?|indigenous|refugees?",
        r"tied visa|sponsorship|kafala|dependent on (the )?employer",
        r"vulnerable (migrant|worker|population|children|people)",
    ],
    "deception": [
        r"decei?v\w+|decept\w+|false promises?|lured|tricked|misled",
        r"promised .{0,60}(but|instead|never|only)",
        r"contract substitution|different contract|second contract|new contract .{0,30}(arriv|sign)",
        r"(were|was) not told|never told|hidden (fees|terms)",
        r"false pretenses|under false",
    ],
    "restriction_of_movement": [
        r"restrict\w* (on |their |of )?(freedom of )?movement|freedom of movement",
        r"not (allowed|permitted) to leave|could not leave|unable to leave|cannot leave|prevented from leaving",
        r"locked (in|inside|up)|guarded|guards|fenced|barbed wire|confined",
        r"permission to (leave|go out)|curfew|escorted",
        r"without (a |any )?port calls?|never (came|went) ashore|at sea for (months|years)",
    ],
    "isolation": [
        r"isolat\w+|remote (area|site|location|camp|plantation)",
        r"(phones?|mobile phones?) (were |was )?(confiscated|taken|seized)|took (their|our) phones",
        r"no (contact|communication) with|cut off from|not allowed to (call|contact|speak)",
        r"no access to (the outside|family|unions?|help)",
    ],
    "physical_sexual_violence": [
        r"beat(en|ings?)?|assault\w*|hit (us|them|him|her|workers)|kick\w*|slapp\w*|punch\w*",
        r"physical (violence|abuse)|sexual (violence|abuse|assault|harassment)|rape\w*",
        r"tortur\w+|whipp\w+|electric shock|violence",
    ],
    "intimidation_threats": [
        r"threat\w*|intimidat\w+|menace",
        r"(warned|told) .{0,40}(would be|will be) (fired|deported|arrested|reported|punished|killed|harmed)",
        r"fear (of|for) (reprisal|retaliation|their lives)|retaliat\w+|punish\w+",
        r"blacklist\w*|denounc\w+",
    ],
    "retention_of_identity_documents": [
        r"(retain|retention|withh[oe]ld|confiscat|kept|keep|keeps|took|taken|seiz|held|hold)\w* .{0,40}"
        r"(passports?|identity (documents?|cards?|papers)|id cards?|identification|work permits?|papers)",
        r"(passports?|identity (documents?|cards?)|id cards?|papers) .{0,40}(retain|confiscat|kept|held|"
        r"withheld|taken|seized|locked)\w*",
        r"retention of identity documents",
    ],
    "withholding_of_wages": [
        r"withh[oe]ld\w* (of )?(their |our )?(wages?|pay|salar\w+|earnings)",
        r"(wages?|pay|salar\w+) (were |was |are |is )?(withheld|unpaid|not paid|never paid|delayed|held back)",
        r"unpaid (wages?|salar\w+|work)|without (pay|wages)|(not|never|no) (been )?paid",
        r"withholding of wages",
    ],
    "debt_bondage": [
        r"debt bondage|bonded (labou?r|workers?)|debt",
        r"recruitment (fees?|costs?)|advance (payments?|wages?)|loans? .{0,30}(repay|deduct)",
        r"(owe|owed|owing) .{0,30}(recruiter|employer|agent|company)",
        r"peonage",
    ],
    "abusive_working_living_conditions": [
        r"(abusive|degrading|hazardous|dangerous|unsafe|inhumane|squalid|unsanitary|cramped|overcrowded) "
        r"(working |living )?(conditions|housing|dormitor\w+|quarters)",
        r"abusive working and living conditions",
        r"no (clean )?(drinking )?water|not enough food|hunger|starv\w+|malnourish\w+",
        r"without (protective|safety) (equipment|gear)|toxic|pesticides?|injur\w+|died|deaths?",
    ],
    "excessive_overtime": [
        r"excessive (overtime|hours|working hours)|forced overtime|mandatory overtime",
        r"\b(1[2-9]|2[0-4])[- ]hours?\b|(twelve|thirteen|fourteen|fifteen|sixteen|eighteen|twenty)[- ]hours?",
        r"no (rest )?days? off|seven days a week|(without|no) rest",
    ],
}
_COMPILED = {key: [re.compile(p, re.IGNORECASE) for p in patterns] for key, patterns in _LEXICON.items()}

# How much one affirmed sentence counts; a definition-heavy lexicon is less precise for some indicators.
_WEIGHT = {
    "abuse_of_vulnerability": 0.55,
    "debt_bondage": 0.7,
    "intimidation_threats": 0.65,
    "physical_sexual_violence": 0.65,
    "abusive_working_living_conditions": 0.55,
}


def lexicon_hits(sentence: str) -> list[int]:
    """1 per indicator whose lexicon matches the sentence (a feature for the trained tagger's hybrid)."""
    return [int(any(p.search(sentence) for p in _COMPILED[indicator])) for indicator in INDICATOR_IDS]


def tag_indicators(text: str, sentences: Sequence[Sentence]) -> list[IndicatorResult]:
    """Indicator decisions with evidence sentences; discounted mentions are listed apart."""
    all_eleven = re.compile(r"\b(all|each of the) (11|eleven)\b.{0,40}indicators", re.IGNORECASE)
    results: list[IndicatorResult] = []
    for indicator in INDICATOR_IDS:
        evidence: list[Evidence] = []
        discounted: list[Evidence] = []
        weight = _WEIGHT.get(indicator, 0.75)
        for sentence in sentences:
            hit = any(p.search(sentence.text) for p in _COMPILED[indicator]) or all_eleven.search(
                sentence.text
            )
            if not hit:
                continue
            status = classify_status(sentence.text)
            item = Evidence(
                start=sentence.start, end=sentence.end, text=sentence.text, score=weight, status=status
            )
            (evidence if status in PRESENT_STATUSES else discounted).append(item)
        if evidence:
            miss = 1.0
            for item in evidence:
                miss *= 1.0 - item.score
            score = 1.0 - miss
        else:
            score = 0.1 if discounted else 0.0
        results.append(
            IndicatorResult(
                id=indicator,
                present=bool(evidence),
                score=round(score, 4),
                dimension="coercion" if indicator in COERCION else "involuntariness",
                evidence=evidence[:5],
                discounted=discounted[:5],
            )
        )
    return results
