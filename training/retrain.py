"""Retrain the indicator tagger and the assessment from the corpus plus reviewers' decisions.

    triage export-decisions --out var/decisions.jsonl
    python training/retrain.py --decisions var/decisions.jsonl

Decisions only ever join the train split; thresholds, calibration and model choice stay on the corpus dev
split and the printed scores on the corpus test split, so a retrained model is compared on the same ground as
the one it would replace. It writes into models/ like the individual training scripts: review the printed
numbers and `git diff models/manifest.json` before committing, and run `triage eval` on the shared dev set.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--decisions", type=Path, action="append", required=True, help="exported JSONL")
    args = parser.parse_args()
    extra = [arg for path in args.decisions for arg in ("--extra-train", str(path.resolve()))]
    for script in ("train_indicators.py", "train_assessment.py"):
        print(f"== {script}", flush=True)
        result = subprocess.run([sys.executable, str(HERE / script), *extra], check=False)
        if result.returncode != 0:
            return result.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
