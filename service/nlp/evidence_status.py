"""Evidence status of a sentence: does it assert the abuse, deny it, say it was fixed, or only talk about it?

Negated, remediated and hypothetical mentions must not switch an indicator on ("workers now keep their
passports"), while an authority's determination and a worker's own account are the strongest evidence. These
cue rules are shared by the rules baseline and the trained tagger.
"""

from __future__ import annotations

import re

from service.contract import EvidenceStatus

_NEGATED = re.compile(
    r"\b(not|never|no|none|nobody|neither|nor|without|den(y|ied|ies)|free of|no evidence|did ?n[o']t|"
    r"does ?n[o']t|do ?n[o']t|was ?n[o']t|were ?n[o']t|is ?n[o']t|are ?n[o']t|has ?n[o']t|have ?n[o']t|"
    r"had ?n[o']t|could ?n[o']t find|found no|rejects?|unfounded|unsubstantiated)\b",
    re.IGNORECASE,
)
_REMEDIATED = re.compile(
    r"\b(returned|reimburs\w*|repaid|refund\w*|remediat\w*|no longer|has since|have since|now (keep|hold|"
    r"receive|get|have|control)|restored|corrected|abolished|ended the|were released|lifted|revok\w*|"
    r"modif(y|ied|ies|ication)|compensat\w*|paid back|paid in full|back pay)\b",
    re.IGNORECASE,
)
_HYPOTHETICAL = re.compile(
    r"\b(prohibit\w*|polic(y|ies)|code of conduct|must not|shall not|should|could|may|might|would|risk\w*|"
    r"if|whether|require[sd]? (our )?suppliers|zero[- ]tolerance|commit\w*|pledge\w*|indicators? (include|of|"
    r"such as)|such as|defined as|definition|can include|include[sd]?:|for example|common in|widespread in|"
    r"vulnerable to|guidance|training|we expect|expect(s|ed)? suppliers|forbid\w*|ban(s|ned)? the)\b",
    re.IGNORECASE,
)
_REPORTED = re.compile(
    r"\b(CBP|Customs and Border Protection|Department of (Labor|Homeland Security|Justice|State)|DHS|DOL|"
    r"the court|indictment|indicted|convicted|pleaded guilty|sentenced|prosecutors?|jury|the agency|"
    r"investigation (found|identified|determined)|identified|determined|found that|finding|the government|"
    r"authorities|inspectors?|labour inspect\w*|labor inspect\w*|Withhold Release Order)\b",
    re.IGNORECASE,
)
_FIRST_HAND = re.compile(r"(\b(I|we|my|our|me|us)\b|[\"“][^\"”]{8,})", re.IGNORECASE)


def classify_status(sentence: str) -> EvidenceStatus:
    """Best guess of the evidence status of a sentence that mentions an indicator."""
    if _REMEDIATED.search(sentence):
        return "remediated"
    if _NEGATED.search(sentence):
        return "negated"
    if _HYPOTHETICAL.search(sentence):
        return "hypothetical"
    if _REPORTED.search(sentence):
        return "reported"
    if re.search(r"\b(I|we|my|our)\b", sentence) or _FIRST_HAND.search(sentence):
        return "first_hand"
    return "affirmed"
