"""Evidence status of a sentence: does it assert the abuse, deny it, say it was fixed, or only talk about it?

Negated, remediated and hypothetical mentions must not switch an indicator on ("workers now keep their
passports"), while an authority's determination and a worker's own account are the strongest evidence. The
cues are scoped: abuse described with a negation ("were not paid", "could not leave") is still affirmed, so a
negation only counts when it denies an abusive act ("did not confiscate", "no worker was beaten").
"""

from __future__ import annotations

import re

from service.contract import EvidenceStatus

_ABUSE_VERB = (
    r"(retain|confiscat|withh[oe]ld|kept|keep|held|hold|took|taken|seiz|beat|hit|assault|abus|threat|intimidat|"
    r"lock|restrict|confin|forc|deceiv|mislead|misled|trick|charg|deduct|owe|indebt|bond|punish|harass|coerc|"
    r"exploit|isolat|detain|traffick|compel)"
)
_NEGATED = re.compile(
    rf"\b(not|never|n't|no longer)\s+(\w+\s+){{0,2}}{_ABUSE_VERB}\w*"
    r"|\b(no|none of the|neither)\s+(\w+\s+){0,2}(workers?|employees?|crew|one|evidence|sign|signs|indication|"
    r"indicators?|instances?|cases?|reports?|complaints?)\b(?!\s+(of\s+)?(leave|paid|pay|rest))"
    r"|\b(found no|find no|did not find|could not (find|confirm|substantiate)|free (of|from)|"
    r"den(y|ied|ies)|rejects?|unfounded|unsubstantiated|baseless|no evidence)\b"
    r"|\b(paid (in )?full|paid on time|exactly as .{0,40}(promised|described|advertised)|as promised|"
    r"come and go freely|(move|moved|leave|left) freely|kept their own|held their own)\b"
    r"|\b(workers|crew|crew members|they|employees|we)(\s+(on|at|in|from|of|aboard)(\s+\S+){1,4}?)?\s+(all\s+)?"
    r"(kept|keep|had|have|retained|held)\s+"
    r"(their|our)\s+(own\s+)?(phones|passports|documents|papers|ids?)\b",
    re.IGNORECASE,
)
_REMEDIATED = re.compile(
    r"\b(returned (all |the |their |its )?(passports|documents|papers|ids?|wages|fees)|(passports|documents) "
    r"(were|have been|had been) returned|reimburs\w*|repaid|refund\w*|remediat\w*|no longer|has since|have since|"
    r"now (keep|keeps|hold|holds|receive|receives|get|gets|have|has|control|controls|work|works|pay|pays|lets)|"
    r"(ended|stopped|discontinued|abandoned) (its|the|their) (use|practice)|now hires?|"
    r"restored|corrected|abolished|(was|were|has been|have been) (ended|stopped|lifted|removed|dismissed|"
    r"replaced)|lifted|revok\w*|modif(y|ied|ies|ication)|compensat\w*|paid back|back pay|back wages)\b",
    re.IGNORECASE,
)
# A debt still to be paid off is the shape of debt bondage ("could not leave until the advance was repaid"), not a
# remediation; the repayment words in such a phrase are not a remediation cue.
_PENDING_REPAYMENT = re.compile(
    r"\b(until|till|unless|before|to be|must be|has to be|have to be|had to be)\b[^.;]{0,40}?"
    r"\b(repaid|paid back|paid off|reimbursed|refunded)\b",
    re.IGNORECASE,
)


def _remediated(sentence: str) -> bool:
    return bool(_REMEDIATED.search(_PENDING_REPAYMENT.sub(" ", sentence)))


# Modal "may" only in lower case: "in May" is a month. "Would not" and "would never" tell a refusal in the past
# ("the captain would not let us ashore"), not a condition; a conditional one brings its own "if".
_HYPOTHETICAL = re.compile(
    r"\b(prohibit\w*|polic(y|ies)|code of conduct|must not|must never|shall not|should|(?-i:may)|might|"
    r"would(?!\s+(not|never)\b|n't)|"
    r"could(?! not|n't)|risk\w*|if|whether|require[sd]?|zero[- ]tolerance|commit\w*|pledge\w*|"
    r"indicators? (include|of forced labou?r (include|are))|such as|defined as|definition|can (include|lead)|"
    r"for example|common in|widespread in|vulnerable to|guidance|we expect|expect(s|ed)? suppliers|forbid\w*|"
    r"ban(s|ned)? the|standard|standards|training)\b",
    re.IGNORECASE,
)
# A company's or a rule's own standard (what suppliers must do, what a code forbids) is never evidence about
# workers. Anchored on the policy's voice or subject, so abuse told with a prohibition ("workers were prohibited
# from leaving", "they must not speak to inspectors") is not matched.
_POLICY = re.compile(
    r"\b(our|its|the company'?s|the supplier'?s) (own )?(polic(y|ies)|code of conduct|standards?|supplier code|"
    r"guidelines?)\b"
    r"|\b(supplier|vendor)'?s? codes?\b|\bcode of conduct\b|\bzero[- ]tolerance\b"
    r"|\b(our |all |its )?(suppliers?|vendors?|business partners)\s+(must|shall|should|may not|are (required|expected|"
    r"prohibited|not (allowed|permitted)))\b"
    r"|\b(we|the company|the brand) (require|requires|expect|expects|prohibit|prohibits|forbid|forbids|do not tolerate|"
    r"does not tolerate)\b",
    re.IGNORECASE,
)
_REPORTED = re.compile(
    r"\b(CBP|Customs and Border Protection|Department of (Labor|Homeland Security|Justice|State)|DHS|DOL|"
    r"the court|indictment|indicted|convicted|pleaded guilty|sentenced|prosecutors?|jury|the agency|"
    r"investigation (found|identified|determined)|identified|determined|found that|finding|the government|"
    r"authorities|inspectors?|labou?r inspect\w*|Withhold Release Order|according to (the )?(complaint|charges))\b",
    re.IGNORECASE,
)
_FIRST_HAND = re.compile(r"\b(I|[Ww]e|[Mm]y|[Oo]ur|me|us)\b|[\"“][^\"”]{8,}")


def classify_status(sentence: str) -> EvidenceStatus:
    """Best guess of the evidence status of a sentence that mentions an indicator."""
    if _remediated(sentence):
        return "remediated"
    if _NEGATED.search(sentence):
        return "negated"
    if _HYPOTHETICAL.search(sentence):
        return "hypothetical"
    if _REPORTED.search(sentence):
        return "reported"
    if _FIRST_HAND.search(sentence):
        return "first_hand"
    return "affirmed"


def is_policy(sentence: str) -> bool:
    """The sentence states a policy or a rule for suppliers rather than describing what happened to workers."""
    return bool(_POLICY.search(sentence))


_PLAIN_NEGATION = re.compile(r"\b(not|never|no|none|nobody|nothing|without|cannot)\b|n't\b", re.IGNORECASE)
# The cue patterns as separate signals, in this order, for a learned status head to weigh (STATUS_CUE_NAMES).
# `plain_negation` is any negation word, scoped or not: the head can learn when one denies and when it tells the
# abuse ("were not allowed to leave").
STATUS_CUE_NAMES = (
    "remediated",
    "negated",
    "hypothetical",
    "policy",
    "reported",
    "first_hand",
    "plain_negation",
)
_CUE_PATTERNS = (_NEGATED, _HYPOTHETICAL, _POLICY, _REPORTED, _FIRST_HAND, _PLAIN_NEGATION)


def status_cues(sentence: str) -> tuple[bool, ...]:
    """Which cue patterns match the sentence, in STATUS_CUE_NAMES order."""
    return (_remediated(sentence), *(bool(pattern.search(sentence)) for pattern in _CUE_PATTERNS))
