"""Evidence-status cues: what makes a sentence read as denied, fixed or hypothetical, and what must not."""

from __future__ import annotations

import pytest

from service.nlp.evidence_status import STATUS_CUE_NAMES, classify_status, status_cues


@pytest.mark.parametrize(
    ("sentence", "status"),
    [
        # A month is not a modal verb.
        ("In May the foreman took our passports.", "first_hand"),
        ("Workers may be fined for leaving the hostel.", "hypothetical"),
        # A refusal told with "would not" is the abuse, not a condition.
        ("The captain would not let us go ashore.", "first_hand"),
        ("The agent wouldn't give the passports back.", "affirmed"),
        ("Workers would be fined if they left early.", "hypothetical"),
        ("The company did not confiscate any passports.", "negated"),
        ("Passports were returned to all workers in May.", "remediated"),
        ("CBP found that the crew were confined to the vessel.", "reported"),
        # A debt still to be paid off binds the worker: debt bondage told, not remediation.
        ("Nobody can leave the kiln until the advance is repaid.", "affirmed"),
        ("The workers could not quit before their fees were paid back.", "affirmed"),
        ("The company repaid the recruitment fees to 2,000 workers.", "remediated"),
        (
            "The mill ended its use of labor contractors and now hires workers with no advance to be repaid.",
            "remediated",
        ),
        ("Until the audit, fees were not refunded; they have since been repaid.", "remediated"),
    ],
)
def test_classify_status(sentence: str, status: str) -> None:
    assert classify_status(sentence) == status


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Passports were returned to all workers in May.", {"remediated"}),
        ("We prohibit suppliers from charging fees.", {"hypothetical", "policy", "first_hand"}),
        ("CBP found that the crew could not leave the vessel.", {"reported", "plain_negation"}),
        ("The men worked long shifts.", set()),
    ],
)
def test_status_cues_name_each_matching_pattern(sentence: str, expected: set[str]) -> None:
    found = {name for name, hit in zip(STATUS_CUE_NAMES, status_cues(sentence), strict=True) if hit}
    assert found == expected
