"""Document-level cues shared by the rules assessment and the trained assessment's factors.

What kind of document this is (an order, a Finding, a lifted order, a court case, a company's own voice, trade
news) is decided by the same expressions in both, so the two assessments differ only in how they weigh them.
"""

from __future__ import annotations

import re

ORDER = re.compile(
    r"\b(Withhold Release Order|WRO|detention order|detain\w*|Entity List|UFLPA)\b", re.IGNORECASE
)
# A Finding in force (capitalised, as CBP and the Federal Register write it), or goods seized or forfeited under
# one; a seizure of drugs or counterfeits is not a Finding.
FINDING = re.compile(
    r"\b(issu\w+|publish\w+|under|pursuant to|maintain\w*|formal)\b.{0,80}\bFinding\b|\bFinding\b.{0,80}"
    r"\b(issued|published|conclusive\w*|probable cause|in force|against)\b|\b(seiz\w+|forfeit\w*)\b.{0,80}\bFinding\b",
)
# The wider Finding cue the trained assessment reads: also a notice of Finding by its title, the regulation of the
# Finding bar (19 CFR 12.42(f)) or its wording ("conclusively demonstrates"). The rules assessment keeps FINDING.
FINDING_NOTICE = re.compile(
    r"\b[Nn]otice of [Ff]inding\b|\bFinding (of|under|that)\b|\b[Ff]inding under\b|\b12\.42\s?\(f\)|"
    r"\bconclusively (demonstrat|establish|show)\w*"
)
# A statement that every one of the ILO's eleven indicators was found ("CBP identified all 11 of the ILO's
# indicators of forced labor"). Guide 4.3 labels all eleven on that sentence; the sentence heads, trained on a
# handful of such sentences, did not learn the count, so the trained tagger reads it as evidence for each. The rules
# baseline keeps its own, looser pattern unchanged, so the comparison against it stays fixed.
ALL_ELEVEN_INDICATORS = re.compile(
    r"\b((all|each of the|every one of the) (11|eleven)|(11|eleven) (out )?of (the )?(11|eleven)) (of (the )?)?"
    r"((ILO|International Labou?r Organi[sz]ation)('s|’s)? )?(forced[- ]labou?r )?indicators\b",
    re.IGNORECASE,
)
SEIZURE = re.compile(r"\b(seiz\w+|forfeit\w*)\b", re.IGNORECASE)
LIFTED = re.compile(
    r"\b(revok\w+|revocation|modif(y|ies|ied|ication)|lift\w*|no longer (produce|use|subject)|"
    r"remediat\w+|allow\w* .{0,40}entry)\b",
    re.IGNORECASE,
)
COURT = re.compile(
    r"\b(convicted|sentenced|pleaded guilty|indict\w+|charged|jury|verdict|court)\b", re.IGNORECASE
)
COMPANY_VOICE = re.compile(
    r"\b(our (suppliers?|company|policy|code|commitment|supply chain)|we (are committed|prohibit|require|take|"
    r"have zero)|sustainability report|modern slavery statement|supplier code|social audit)\b",
    re.IGNORECASE,
)
TRADE_NEWS = re.compile(
    r"\b(tariff\w*|duties|trade deficit|trade statistics|exports? rose|imports? fell)\b", re.I
)
# The text states forced labor itself (not one indicator): "made with forced labor", "state-imposed labor",
# "prison labor". Government actions often say no more than this about the workers.
FORCED_LABOR = re.compile(
    r"\bforced labou?r|\bforced\b[^.;]{0,50}\bto (work|pick|harvest|labou?r|toil)\b|"
    r"\b(state|government)[- ](imposed|sponsored|compelled) (forced )?labou?r|"
    r"\b(prison|convict|penal|compulsory|bonded) labou?r",
    re.IGNORECASE,
)
# A government speaks in the document's opening: an agency's notice, list entry, designation or report. Who vouches
# for a claim matters for the bar (guide 7.1), and these documents often carry no indicator sentence at all.
GOVERNMENT_VOICE = re.compile(
    r"\b(U\.S\. Customs and Border Protection|CBP|Department of (Labor|Homeland Security|State|the Treasury|"
    r"Commerce|Justice)|Bureau of (International Labor Affairs|Industry and Security)|ILAB|Federal Register|"
    r"Forced Labor Enforcement Task Force|FLETF|Office of Foreign Assets Control|OFAC|Trafficking in Persons|"
    r"AGENCY:|ACTION:|Ministry of|Secretary of|Commissioner)\b",
)
LEAD_CHARS = 700


def lead(text: str) -> str:
    """The opening of a document, where headlines and first paragraphs say whether an order was lifted."""
    return text[:LEAD_CHARS]
