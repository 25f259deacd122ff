"""The analysis pipeline: text in, one contract `Analysis` out.

Loaded once (API lifespan, worker start, CLI run) because the spaCy pipeline and the reference gazetteers take
seconds to build; `analyze_many` batches documents through spaCy so bulk runs do not pay per-call overhead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import spacy
from spacy.language import Language

from service import __version__
from service.config import Settings
from service.contract import Analysis, Versions
from service.nlp.reference import ReferenceData, load_reference
from service.nlp.rules.assessment import assess, assess_nexus
from service.nlp.rules.entities import RulesEntityExtractor
from service.nlp.rules.indicators import tag_indicators
from service.nlp.sentences import split_sentences

log = logging.getLogger(__name__)

# spaCy components the rules baseline does not use; leaving them out makes NER several times faster.
_UNUSED_SPACY = ["parser", "lemmatizer", "attribute_ruler", "tagger"]


@dataclass
class Pipeline:
    """Every stage, loaded and ready; `name` says which implementation (rules baseline or trained models)."""

    name: str
    nlp: Language
    reference: ReferenceData
    entities: RulesEntityExtractor
    model_versions: dict[str, str]

    @classmethod
    def load(cls, settings: Settings) -> Pipeline:
        if settings.pipeline != "rules":
            raise ValueError(f"pipeline {settings.pipeline!r} has no trained models yet; use 'rules'")
        nlp = spacy.load(settings.spacy_model, exclude=_UNUSED_SPACY)
        nlp.max_length = settings.max_text_chars + 1
        reference = load_reference(settings.reference_dir)
        versions = {
            "spacy_ner": f"{nlp.meta.get('name', 'unknown')}-{nlp.meta.get('version', '?')}",
            "reference_data": reference.checksum,
            "indicators": "rules-lexicon-1",
            "assessment": "rules-weights-1",
        }
        log.info("pipeline %s loaded: %s", settings.pipeline, versions)
        return cls(
            name="rules",
            nlp=nlp,
            reference=reference,
            entities=RulesEntityExtractor.build(nlp, reference),
            model_versions=versions,
        )

    @property
    def versions(self) -> Versions:
        return Versions(pipeline=f"wro-triage-{__version__}/{self.name}", models=dict(self.model_versions))

    def analyze(self, doc_id: str, text: str, language: str | None = None) -> Analysis:
        return next(self.analyze_many([(doc_id, text, language)]))

    def analyze_many(
        self, items: Iterable[tuple[str, str, str | None]], batch_size: int = 16
    ) -> Iterator[Analysis]:
        """Analyses in input order; spaCy runs over the documents in batches."""
        buffered = list(items) if not isinstance(items, list) else items
        texts = (text for _id, text, _lang in buffered)
        for (doc_id, text, language), spacy_doc in zip(
            buffered, self.nlp.pipe(texts, batch_size=batch_size), strict=True
        ):
            sentences = split_sentences(text)
            entities = self.entities.extract(spacy_doc)
            indicators = tag_indicators(text, sentences)
            nexus = assess_nexus(sentences)
            assessment = assess(text, entities, indicators, nexus)
            yield Analysis(
                id=doc_id,
                language=language,
                entities=entities,
                indicators=indicators,
                us_nexus=nexus,
                assessment=assessment,
                versions=self.versions,
            )
