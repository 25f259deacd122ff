"""Compare entity-stage combinations on the corpus dev split (lenient matching, as the shared scorer does).

The combination with the best mean F1 over producers, commodities and locations is written into the shipped
model's meta.json (`wro_triage.order_gazetteer`, `wro_triage.commodity_gazetteer`); the others stay out.

Run after training/train_entities.py; it also records the model in models/manifest.json.

usage: python training/compare_entities.py [--model models/entities] [--split dev]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import spacy

from service.config import REPO_ROOT, Settings
from service.evaluation import score_predictions
from service.nlp.models.entities import TrainedEntityExtractor
from service.nlp.reference import load_reference
from service.nlp.rules.entities import RulesEntityExtractor
from training.datasets import english, load_docs


def evaluate(
    extractor: object, nlp: spacy.language.Language, rows: list[dict[str, object]]
) -> dict[str, float]:
    docs = nlp.pipe([str(r["text"]) for r in rows], batch_size=16)
    preds = {}
    for row, doc in zip(rows, docs, strict=True):
        entities = extractor.extract(doc)  # type: ignore[attr-defined]
        preds[str(row["id"])] = {"entities": entities.model_dump(mode="json")}
    scores = score_predictions(rows, preds)
    keys = ("producers_f1", "commodities_f1", "locations_f1")
    return {**{k: scores[k] for k in keys}, "mean_f1": round(sum(scores[k] for k in keys) / 3, 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description="Compare entity-stage combinations")
    parser.add_argument("--model", type=Path, default=REPO_ROOT / "models" / "entities")
    parser.add_argument("--split", default="dev")
    args = parser.parse_args()
    settings = Settings()
    reference = load_reference(settings.reference_dir)
    rows = english(load_docs(args.split))
    results = []
    base = spacy.load(settings.spacy_model, exclude=["parser", "lemmatizer", "attribute_ruler", "tagger"])
    results.append(
        {
            "combination": "rules baseline (spaCy ORG/GPE + gazetteers)",
            **evaluate(RulesEntityExtractor.build(base, reference), base, rows),
        }
    )
    trained = spacy.load(args.model)
    best = None
    for order in (False, True):
        for commodity in (False, True):
            extractor = TrainedEntityExtractor.build(trained, reference, order, commodity)
            scores = evaluate(extractor, trained, rows)
            name = f"trained NER{' + order gazetteer' if order else ''}{' + commodity gazetteer' if commodity else ''}"
            results.append({"combination": name, **scores})
            if best is None or scores["mean_f1"] > best[0]:
                best = (scores["mean_f1"], order, commodity)
    for row in results:
        print(json.dumps(row))
    assert best is not None
    meta_path = args.model / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta.setdefault("wro_triage", {}).update(
        {
            "order_gazetteer": best[1],
            "commodity_gazetteer": best[2],
            f"comparison_on_corpus_{args.split}": results,
        }
    )
    meta_path.write_text(json.dumps(meta, indent=1), encoding="utf-8")
    print(f"chosen: order gazetteer {best[1]}, commodity gazetteer {best[2]}")
    from service.nlp.models.manifest import ModelManifest

    manifest = ModelManifest.load(args.model.parent)
    chosen = next(r for r in results[1:] if r["mean_f1"] == best[0])
    manifest.record(
        "entities",
        str(meta["wro_triage"]["version"]),
        args.model,
        {
            f"corpus_{args.split}_lenient": chosen,
            "corpus_dev_strict_ents_f": round(float(meta["performance"]["ents_f"]), 3),
        },
        "corpora/wro_triage/v1 train (dev for checkpoint and combination choice)",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
