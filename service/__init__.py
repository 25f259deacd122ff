"""WRO Triage: triage of forced-labor evidence for Section 307 Withhold Release Orders."""

__version__ = "0.1.0"
