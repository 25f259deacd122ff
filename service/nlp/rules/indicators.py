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
        r"undocumented|irregular (status|migrants?)|without (legal )?(papers|status)",
        r"threat\w* to (report|denounce) .{0,30}(immigration|police|authorities)",
        r"(labou?r|labor) transfer|poverty alleviation|surplus labou?r",
        r"ethnic minorit\w+|uyghurs?|religious minorit\w+",
        r"tied visa|visa (is |was )?tied to|sponsorship|kafala|depend(ed|ent|s)? on (the )?(employer|company|boss)",
        r"(did not|could not|couldn't|didn't) (speak|read|understand) (the )?(local )?(language|contract)",
        r"no (other|alternative) (work|job|option|choice|way home)|nowhere else to go",
        r"vulnerable (migrant|worker|population|children|people)",
    ],
    "deception": [
        r"decei?v\w+|decept\w+|false promises?|lured|tricked|misled|lied to",
        r"promised .{0,80}(but|instead|never|only|not)",
        r"contract substitution|(different|second|new|another) contract|switched contracts?",
        r"(were|was) not told|never told|(hidden|concealed|undisclosed) (fees|terms|deductions|costs)",
        r"false pretenses|under false|fake (job|contract|offer)",
        r"(different|other) (job|work|employer|workplace) (than|from) (the one )?(promised|advertised|offered)",
        r"never (received|got|obtained) (the |a |their |his |her )?(visa|work permit|permit|legal status)",
    ],
    "restriction_of_movement": [
        r"restrict\w* (on |their |of )?(freedom of )?movement|freedom of movement",
        r"(not|never) (allowed|permitted) to (leave|go out|go home)|(could|can)(not|n't) leave|unable to leave|"
        r"prevented from leaving|forbidden to leave|not free to leave",
        r"locked (in|inside|up|gates?|doors?|dormitor\w+|compound)|guarded|armed guards|guards|fenced|barbed wire",
        r"confined",
        r"permission (to|before) (leave|leaving|go|going)|curfew|escorted",
        r"fined for leaving|penalt\w+ for leaving",
        r"without (a |any )?(port calls?|shore leave)|never (came|went|set foot) ashore|at sea for (months|years)",
    ],
    "isolation": [
        r"isolat\w+|remote (area|site|location|camp|plantation|island|village|mine)",
        r"(phones?|mobile phones?) (were |was )?(confiscated|taken|seized|kept)|took (their|our|his|her) phones",
        r"no (contact|communication) with|cut off from|not allowed to (call|contact|speak|communicate)",
        r"no access to (the outside|family|unions?|help|lawyers?|inspectors?|ngos?)",
        r"did(n't| not) know where (they|we) (were|was)",
    ],
    "physical_sexual_violence": [
        r"\bbeat(en|ings?|s)?\b|assault\w*|\bhit (us|them|him|her|workers|crew)|kick\w*|slapp\w*|punch\w*",
        r"physical (violence|abuse|punishment)|sexual (violence|abuse|assault|harassment|exploitation)|rape\w*",
        r"tortur\w+|whipp\w+|electric shock|violence|corporal punishment",
        r"denied (food|water|medical care) as punishment|locked in (a )?(room|cell) as punishment",
    ],
    "intimidation_threats": [
        r"threat\w*|intimidat\w+|menace",
        r"(warned|told) .{0,40}(would|will) (be )?(fired|deported|arrested|reported|punished|killed|harmed|lose)",
        r"fear (of|for) (reprisal|retaliation|their lives)|retaliat\w+",
        r"blacklist\w*|denounc\w+|verbal abuse|humiliat\w+|shout(ed|ing) at",
    ],
    "retention_of_identity_documents": [
        r"(retain|retention|withh[oe]ld|confiscat|kept|keep|keeps|took|taken|seiz|held|hold|holds)\w* .{0,40}"
        r"(passports?|identity (documents?|cards?|papers)|id cards?|identification|work permits?|papers|"
        r"seafarer'?s? (identity )?books?|residence (cards?|permits?))",
        r"(passports?|identity (documents?|cards?)|id cards?|papers) .{0,40}(retain|confiscat|kept|held|"
        r"withheld|taken|seized|locked)\w*",
        r"retention of identity documents|for safekeeping|photocop\w+ of (their|his|her|my) (passport|id)",
    ],
    "withholding_of_wages": [
        r"withh[oe]ld\w* (of )?(their |our )?(wages?|pay|salar\w+|earnings)",
        r"(wages?|pay|salar\w+) (were |was |are |is )?(withheld|unpaid|not paid|never paid|delayed|held back|"
        r"deferred)",
        r"unpaid (wages?|salar\w+|work|labou?r)|without (pay|wages)|(not|never) (been )?paid",
        r"paid (only )?at the end of (the |their )?(contract|season|voyage|trip|harvest)",
        r"(months?|weeks?) (of|without) (pay|wages|salary)|deduct(ed|ions?) from (their |our )?(wages|pay)",
        r"forced savings|wages? (paid|sent) to (the )?(broker|captain|agent|recruiter)",
        r"withholding of wages",
    ],
    "debt_bondage": [
        r"debt bondage|bonded (labou?r|workers?)|\bdebts?\b|indebted",
        r"recruitment (fees?|costs?)|placement fees?|advance (payments?|wages?)|\badvances?\b|\bloans?\b",
        r"(owe|owed|owing) .{0,30}(recruiter|employer|agent|company|contractor|boss|broker)",
        r"peonage",
    ],
    "abusive_working_living_conditions": [
        r"(abusive|degrading|hazardous|dangerous|unsafe|inhumane|squalid|unsanitary|cramped|overcrowded|filthy) "
        r"(working |living )?(conditions|housing|dormitor\w+|quarters|shelters?|huts?|work)",
        r"abusive working and living conditions",
        r"no (clean )?(drinking )?water|not enough food|insufficient food|hunger|starv\w+|malnourish\w+",
        r"without (protective|safety) (equipment|gear|clothing)|no (protective|safety) (equipment|gear)",
        r"no (medical (care|treatment)|toilets?|shade)|toxic|pesticides?|injur\w+|\bdied\b|deaths?",
    ],
    "excessive_overtime": [
        r"excessive (overtime|hours|working hours)|forced overtime|mandatory overtime|compulsory overtime",
        r"\b(1[2-9]|2[0-4])[- ]hours?\b|(twelve|thirteen|fourteen|fifteen|sixteen|eighteen|twenty)[- ]hours?",
        r"no (rest )?days? off|seven days a week|(without|no) (rest|a day off|breaks?)|around the clock",
        r"quotas? (that|which) (could|can)(not|n't)|night shifts? without",
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


def tag_indicators(sentences: Sequence[Sentence]) -> list[IndicatorResult]:
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


def rules_scores(texts: Sequence[str]) -> list[float]:
    """The rules baseline's document score per indicator for a document given as sentence texts."""
    sentences: list[Sentence] = []
    offset = 0
    for text in texts:
        sentences.append(Sentence(offset, offset + len(text), text))
        offset += len(text) + 1
    return [result.score for result in tag_indicators(sentences)]
