"""Rules baseline for US-market nexus and the WRO-bar tier, with the plain-words list of what is missing.

Hand-set weights over interpretable factors; the trained assessment replaces the weights, not the factors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from service.contract import (
    COERCION,
    INVOLUNTARINESS,
    Assessment,
    Entities,
    IndicatorResult,
    NexusEvidence,
    UsNexus,
)
from service.nlp.cues import COMPANY_VOICE, FINDING, LIFTED, ORDER, lead
from service.nlp.sentences import Sentence

# The nexus cue weights a sentence can carry: a US trade route (import, port, market, buyers) and a customs action
# (CBP, an order, a detention, the Tariff Act). The trained nexus model reads them as document inputs.
TRADE_ROUTE_CUE = 0.8
CUSTOMS_ACTION_CUE = 0.6

_NEXUS = [
    (
        re.compile(
            r"\b(U\.S\.|US|United States|American)\b.{0,60}\b(import\w*|ports?|market|consumers?|"
            r"buyers?|retailers?|brands?|customers?|shipments?)",
            re.IGNORECASE,
        ),
        TRADE_ROUTE_CUE,
    ),
    (
        re.compile(
            r"\b(import\w*|shipped|exported|shipments?)\b.{0,60}\b(U\.S\.|US|United States|America)\b",
            re.IGNORECASE,
        ),
        TRADE_ROUTE_CUE,
    ),
    (
        re.compile(
            r"\b(CBP|Customs and Border Protection|ports? of entry|Withhold Release Order|detention order|"
            r"detain\w*|bills? of lading|Tariff Act|Section 307|UFLPA)\b",
            re.IGNORECASE,
        ),
        CUSTOMS_ACTION_CUE,
    ),
]
_DOMESTIC = re.compile(
    r"\b(indictment|indicted|convicted|sentenced|pleaded guilty|U\.S\. Attorney|federal court|"
    r"Department of Justice|DOJ)\b",
    re.IGNORECASE,
)


def nexus_cue(text: str) -> float:
    """The strongest nexus cue of one sentence (0 when none, or when it speaks of a domestic prosecution)."""
    weight = max((w for pattern, w in _NEXUS if pattern.search(text)), default=0.0)
    return 0.0 if weight and _DOMESTIC.search(text) else weight


def assess_nexus(sentences: Sequence[Sentence]) -> UsNexus:
    evidence: list[NexusEvidence] = []
    for sentence in sentences:
        weight = nexus_cue(sentence.text)
        if weight:
            evidence.append(
                NexusEvidence(start=sentence.start, end=sentence.end, text=sentence.text, score=weight)
            )
    miss = 1.0
    for item in evidence:
        miss *= 1.0 - item.score
    score = 1.0 - miss
    return UsNexus(present=score >= 0.5, score=round(score, 4), evidence=evidence[:5])


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def assess(
    text: str,
    entities: Entities,
    indicators: Sequence[IndicatorResult],
    nexus: UsNexus,
) -> Assessment:
    """Tier and WRO-bar score from hand-weighted factors."""
    present = [i for i in indicators if i.present]
    involuntary = any(i.id in INVOLUNTARINESS for i in present)
    coercion = any(i.id in COERCION for i in present)
    factors: dict[str, float | int | str | bool | None] = {
        "indicators_present": len(present),
        "ilo_involuntariness": involuntary,
        "ilo_coercion": coercion,
        "producer_named": bool(entities.producers),
        "commodity_named": bool(entities.commodities),
        "location_named": bool(entities.locations),
        "us_nexus": nexus.present,
        "order_in_text": bool(ORDER.search(text)),
        "finding_in_text": bool(FINDING.search(text)),
        "lifted_or_remediated": bool(LIFTED.search(lead(text))),
        "company_voice": bool(COMPANY_VOICE.search(text)),
        "known_order_linked": any(p.known_orders for p in entities.producers),
    }
    logit = -2.2
    logit += 0.45 * min(len(present), 5)
    logit += 0.6 if involuntary and coercion else 0.0
    logit += 0.7 if entities.producers else 0.0
    logit += 0.5 if entities.commodities else 0.0
    logit += 0.4 if entities.locations else 0.0
    logit += 1.6 if factors["order_in_text"] else 0.0
    logit += 1.0 if factors["finding_in_text"] else 0.0
    logit -= 3.0 if factors["lifted_or_remediated"] else 0.0
    logit -= 1.5 if factors["company_voice"] else 0.0
    score = _sigmoid(logit)
    if score < 0.5:
        tier = "insufficient"
    elif factors["finding_in_text"] and not factors["lifted_or_remediated"]:
        tier = "conclusive"
    else:
        tier = "reasonable"
    missing = missing_elements(entities, present, nexus, involuntary, coercion)
    return Assessment(
        tier=tier,
        score=round(score, 4),
        missing=missing,
        factors=factors,
        ilo_involuntariness=involuntary,
        ilo_coercion=coercion,
    )


def missing_elements(
    entities: Entities,
    present: Sequence[IndicatorResult],
    nexus: UsNexus,
    involuntary: bool,
    coercion: bool,
) -> list[str]:
    """What a stronger allegation would need, in words a submitter can act on."""
    missing: list[str] = []
    if not entities.producers:
        missing.append(
            "Name the producer: the company, factory, farm, vessel or mine where the work happens."
        )
    if not entities.commodities:
        missing.append("Say which goods are produced (for example 'rubber gloves' or 'frozen shrimp').")
    if not entities.locations:
        missing.append("Say where the goods are produced: country, province or town, and the site if known.")
    if not present:
        missing.append(
            "Describe what happens to the workers: for example debts, kept passports, threats, unpaid wages, "
            "locked housing, violence or extreme hours."
        )
    elif not (involuntary and coercion):
        missing.append(
            "Show both sides of forced labor: how workers were made to take or keep the job (deception, "
            "vulnerability) and how they are kept there (debts, threats, kept documents, withheld pay)."
        )
    if not nexus.present:
        missing.append(
            "Show how the goods reach the United States: importer, brand or retailer names, shipments or bills "
            "of lading."
        )
    if not any(e.status in ("first_hand", "reported") for i in present for e in i.evidence):
        missing.append(
            "Say how you know: first-hand testimony, documents, photos, or a government or court finding."
        )
    return missing
