"""Count the probe sentences that switch their indicator on, for a trained indicator model.

The selection probe (`probes/discounted_mentions.jsonl`) is read by `train_indicators.py` when it chooses a recipe.
The held-out probe (`probes/heldout_discounted_mentions.jsonl`), written after the tenth round and seen by no
writer, is read only here. It gives the one measure of the denial problem that no choice has been fitted to.

usage: python training/probe_indicators.py [--model models/indicators] [--probe FILE] [--show]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.config import REPO_ROOT
from service.nlp.models.encoder import SentenceEncoder
from service.nlp.models.indicators import IndicatorModel
from training.train_indicators import PROBE_FILE, load_probes, probe_switch_ons

HELDOUT_PROBE_FILE = REPO_ROOT / "training" / "probes" / "heldout_discounted_mentions.jsonl"


def main() -> int:
    parser = argparse.ArgumentParser(description="Probe an indicator model with denials, fixes and risks")
    parser.add_argument("--model", type=Path, default=REPO_ROOT / "models" / "indicators")
    parser.add_argument("--probe", type=Path, action="append", help="probe JSONL (default: both probes)")
    parser.add_argument("--show", action="store_true", help="print the sentences switched on")
    args = parser.parse_args()
    if not (args.model / "meta.json").is_file():
        parser.error(f"no indicator model in {args.model} (expected meta.json and heads.npz there)")
    paths = args.probe or [PROBE_FILE, HELDOUT_PROBE_FILE]
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        parser.error(f"probe file not found: {', '.join(missing)}")
    encoder = SentenceEncoder.load(threads=2)
    model = IndicatorModel.load(args.model)
    for path in paths:
        probes = load_probes(path)
        switched_on = probe_switch_ons(model, encoder, probes, model.thresholds)
        print(f"{model.version} {path.name}: {len(switched_on)} of {len(probes)} switched on")
        if args.show:
            for text in switched_on:
                print(f"  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
