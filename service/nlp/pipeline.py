"""The analysis pipeline: text in, one contract `Analysis` out.

Loaded once (API lifespan, worker start, CLI run) because spaCy, the sentence encoder and the gazetteers take
seconds to build. `analyze_many` batches across documents: spaCy runs over the batch with `nlp.pipe` and every
sentence of the batch goes through the encoder in one call.

Two implementations share this frame: `rules` (the baseline every model is measured against) and `models`,
which uses each trained artefact listed in models/manifest.json and says in `versions` which stage is which.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import spacy
from numpy.typing import NDArray
from spacy.language import Language
from spacy.tokens import Doc

from service import __version__
from service.config import Settings
from service.contract import INDICATOR_IDS, Analysis, Entities, IndicatorResult, Versions
from service.ingest.ocr import OcrPage
from service.ingest.tables import ShipmentRow
from service.nlp.language import (
    detect_language,
    gazetteer_only,
    is_reliable,
    not_evaluated,
    unreliable_warning,
    withhold_judgement,
)
from service.nlp.models.assessment import AssessmentModel
from service.nlp.models.encoder import EMBEDDING_DIM, SentenceEncoder
from service.nlp.models.entities import MentionReader, MentionStage, TrainedEntityExtractor
from service.nlp.models.indicators import IndicatorModel
from service.nlp.models.manifest import ModelManifest
from service.nlp.models.mentions import GENERIC_EXCLUDE, MentionClassifier, SentenceVectors
from service.nlp.normalize import EntityNormalizer
from service.nlp.provenance import mark_ocr, page_info
from service.nlp.reference import ReferenceData, load_reference
from service.nlp.rules.assessment import assess, assess_nexus
from service.nlp.rules.entities import RulesEntityExtractor
from service.nlp.rules.indicators import tag_indicators
from service.nlp.sentences import Sentence, split_sentences
from service.nlp.shipments import merge_nexus, shipment_entities, shipment_nexus

log = logging.getLogger(__name__)


def _boundaries(sentences: Sequence[Sequence[Sentence]]) -> list[int]:
    """Where each document's sentences start in the batch's stacked sentence list, plus the total."""
    boundaries = [0]
    for doc in sentences:
        boundaries.append(boundaries[-1] + len(doc))
    return boundaries


class EntityExtractor(Protocol):
    @property
    def needs_sentence_vectors(self) -> bool: ...

    def extract(self, doc: Doc) -> Entities: ...

    def extract_all(
        self, docs: Sequence[Doc], sentence_vectors: Sequence[SentenceVectors] | None = None
    ) -> list[Entities]: ...


@dataclass(frozen=True)
class AnalysisInput:
    """One document to analyse: its text, the language the submitter named (a hint; the text decides), and
    what extraction learnt about the text's structure (OCR-read pages, shipment-table rows)."""

    id: str
    text: str
    language: str | None = None
    shipments: Sequence[ShipmentRow] = ()
    ocr_pages: Sequence[OcrPage] = ()


# spaCy components the entity stage does not use; leaving them out makes NER several times faster.
_UNUSED_SPACY = ["parser", "lemmatizer", "attribute_ruler", "tagger"]


@dataclass
class Pipeline:
    """Every stage, loaded and ready; `name` says which implementation (rules baseline or trained models)."""

    name: str
    nlp: Language
    reference: ReferenceData
    entities: EntityExtractor
    model_versions: dict[str, str]
    encoder: SentenceEncoder | None = None
    indicator_model: IndicatorModel | None = None
    assessment_model: AssessmentModel | None = None
    batch_size: int = 16
    stage_seconds: dict[str, float] = field(default_factory=dict)
    normalizer: EntityNormalizer | None = None

    @classmethod
    def load(cls, settings: Settings, with_trained_assessment: bool = True) -> Pipeline:
        """Load every stage; training the assessment loads the stages it learns from without the old one."""
        reference = load_reference(settings.reference_dir)
        manifest = ModelManifest.load(settings.models_dir) if settings.pipeline == "models" else None
        if manifest is not None:
            manifest.verify()
        entity_extractor: EntityExtractor
        mentions_encoder: str | None = None  # the sentence encoder the mention classifier was trained with
        if manifest is not None and "entities" in manifest.models:
            nlp = spacy.load(manifest.path_of("entities"))
            options = nlp.meta.get("wro_triage", {})
            mentions: MentionStage | None = None
            if "mentions" in options:
                generic = spacy.load(settings.spacy_model, exclude=GENERIC_EXCLUDE)
                generic.max_length = settings.max_text_chars + 1
                classifier = MentionClassifier.load(
                    manifest.path_of("entities") / "mentions.npz",
                    str(options["mentions"]["version"]),
                    dict(options["mentions"]["thresholds"]),
                )
                mentions = MentionStage(MentionReader.build(generic, reference), classifier)
                mentions_encoder = options["mentions"].get("sentence_encoder")
            entity_extractor = TrainedEntityExtractor.build(
                nlp,
                reference,
                order_gazetteer=bool(options.get("order_gazetteer", False)),
                commodity_gazetteer=bool(options.get("commodity_gazetteer", False)),
                mentions=mentions,
            )
            entity_version = manifest.version_of("entities")
        else:
            nlp = spacy.load(settings.spacy_model, exclude=_UNUSED_SPACY)
            entity_extractor = RulesEntityExtractor.build(nlp, reference)
            entity_version = f"rules+{nlp.meta.get('name', 'unknown')}-{nlp.meta.get('version', '?')}"
        nlp.max_length = settings.max_text_chars + 1
        versions = {
            "entities": entity_version,
            "reference_data": reference.checksum,
            "indicators": "rules-lexicon-1",
            "nexus": "rules-1",
            "assessment": "rules-weights-1",
        }
        encoder: SentenceEncoder | None = None
        indicator_model: IndicatorModel | None = None
        if manifest is not None and (
            "indicators" in manifest.models or entity_extractor.needs_sentence_vectors
        ):
            encoder = SentenceEncoder.load(threads=settings.torch_threads, adapter=manifest.encoder_adapter())
            versions["sentence_encoder"] = encoder.version
            if entity_extractor.needs_sentence_vectors and mentions_encoder != encoder.version:
                raise ValueError(
                    f"the mention classifier was trained on {mentions_encoder!r} sentence vectors, "
                    f"but the pipeline's encoder is {encoder.version!r}: retrain it (training/train_mentions.py)"
                )
        if encoder is not None and manifest is not None and "indicators" in manifest.models:
            indicator_model = IndicatorModel.load(manifest.path_of("indicators"))
            versions["indicators"] = manifest.version_of("indicators")
        assessment_model: AssessmentModel | None = None
        if (
            with_trained_assessment
            and manifest is not None
            and "assessment" in manifest.models
            and indicator_model is not None
        ):
            assessment_model = AssessmentModel.load(manifest.path_of("assessment"))
            versions["assessment"] = versions["nexus"] = manifest.version_of("assessment")
        pipeline = cls(
            name=settings.pipeline,
            nlp=nlp,
            reference=reference,
            entities=entity_extractor,
            model_versions=versions,
            encoder=encoder,
            indicator_model=indicator_model,
            assessment_model=assessment_model,
            normalizer=EntityNormalizer.build(reference),
        )
        log.info("pipeline %s loaded: %s", settings.pipeline, versions)
        return pipeline

    @property
    def versions(self) -> Versions:
        return Versions(pipeline=f"wro-triage-{__version__}/{self.name}", models=dict(self.model_versions))

    def analyze(
        self,
        doc_id: str,
        text: str,
        language: str | None = None,
        *,
        shipments: Sequence[ShipmentRow] = (),
        ocr_pages: Sequence[OcrPage] = (),
    ) -> Analysis:
        return next(self.analyze_inputs([AnalysisInput(doc_id, text, language, shipments, ocr_pages)]))

    def analyze_many(self, items: Iterable[tuple[str, str, str | None]]) -> Iterator[Analysis]:
        """Analyses of (id, text, language hint) in input order, computed batch by batch."""
        return self.analyze_inputs(AnalysisInput(i, t, lang) for i, t, lang in items)

    def analyze_inputs(self, items: Iterable[AnalysisInput]) -> Iterator[Analysis]:
        """Analyses in input order, computed batch by batch."""
        batch: list[AnalysisInput] = []
        for item in items:
            batch.append(item)
            if len(batch) >= self.batch_size:
                yield from self._analyze_batch(batch)
                batch = []
        if batch:
            yield from self._analyze_batch(batch)

    def _timed(self, stage: str, started: float) -> float:
        """Add the time since `started` to the stage's running total (read by the benchmark); returns now."""
        now = time.perf_counter()
        self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + now - started
        return now

    def _analyze_batch(self, batch: Sequence[AnalysisInput]) -> list[Analysis]:
        texts = [item.text for item in batch]
        started = time.perf_counter()
        spacy_docs: list[Doc] = list(self.nlp.pipe(texts, batch_size=len(texts)))
        started = self._timed("spacy", started)
        sentences = [split_sentences(text) for text in texts]
        started = self._timed("sentences", started)
        embeddings = self.sentence_embeddings(sentences)
        features = self.sentence_features_for(sentences, embeddings)
        started = self._timed("encoder", started)
        all_entities = self.entities_of(spacy_docs, sentences, embeddings)
        started = self._timed("entities", started)
        out: list[Analysis] = []
        for index, item in enumerate(batch):
            text = item.text
            warnings: list[str] = []
            language, reliable = self._language(item, warnings)
            started = self._timed("language", started)
            entities = all_entities[index]
            if not reliable:
                entities = gazetteer_only(entities)
            if item.shipments and self.normalizer is not None:
                entities = shipment_entities(entities, item.shipments, text, self.normalizer)
            started = self._timed("entities", started)
            if reliable:
                indicators = self._indicators(sentences[index], features[index] if features else None)
            else:
                indicators = not_evaluated(INDICATOR_IDS)
            started = self._timed("indicators", started)
            records = shipment_nexus(item.shipments, text)
            # Rows of a shipment table are judged by their columns; their labels ("Bill of Lading: ...") are
            # not prose, so the sentence patterns and the nexus head read only the rest of the text.
            prose = [not any(r.start <= s.start < r.end for r in item.shipments) for s in sentences[index]]
            prose_sentences = [s for s, keep in zip(sentences[index], prose, strict=True) if keep]
            if self.assessment_model is not None and features is not None:
                nexus = merge_nexus(
                    self.assessment_model.nexus.assess(
                        prose_sentences, features[index][np.array(prose, dtype=bool)]
                    ),
                    records,
                )
                assessment = self.assessment_model.assess(text, sentences[index], entities, indicators, nexus)
            else:
                nexus = merge_nexus(assess_nexus(prose_sentences), records)
                assessment = assess(text, entities, indicators, nexus)
            if not reliable and language is not None:
                assessment = withhold_judgement(assessment, language)
                warnings.append(unreliable_warning(language))
            assessment.factors["language"] = language
            assessment.factors["language_reliable"] = reliable
            indicators, nexus = mark_ocr(indicators, nexus, item.ocr_pages)
            started = self._timed("nexus_and_assessment", started)
            out.append(
                Analysis(
                    id=item.id,
                    language=language,
                    language_reliable=reliable,
                    ocr_pages=page_info(item.ocr_pages),
                    entities=entities,
                    indicators=indicators,
                    us_nexus=nexus,
                    assessment=assessment,
                    versions=self.versions,
                    warnings=warnings,
                )
            )
        return out

    def entities_of(
        self,
        spacy_docs: Sequence[Doc],
        sentences: Sequence[Sequence[Sentence]] | None = None,
        embeddings: Sequence[NDArray[np.float32]] | None = None,
    ) -> list[Entities]:
        """Entities of each document with a document's short names and acronyms merged into the full names.
        The trained mention stage also reads each document's sentences and their encoder embeddings."""
        vectors: list[SentenceVectors] | None = None
        if self.entities.needs_sentence_vectors:
            if sentences is None or embeddings is None:
                raise ValueError("the trained entity stage needs each document's sentences and embeddings")
            vectors = [
                SentenceVectors([s.start for s in doc], emb)
                for doc, emb in zip(sentences, embeddings, strict=True)
            ]
        found = self.entities.extract_all(spacy_docs, vectors)
        if self.normalizer is None:
            return found
        return [self.normalizer.merge_aliases(entities) for entities in found]

    @staticmethod
    def _language(item: AnalysisInput, warnings: list[str]) -> tuple[str | None, bool]:
        """The language the text is in (the submitter's word only when the text cannot tell), and whether the
        indicator and assessment stages can be trusted in it."""
        guess = detect_language(item.text)
        hint = item.language.split("-")[0].lower() if item.language else None
        if guess.code is not None and hint is not None and guess.code != hint:
            warnings.append(
                f"submitted as language {item.language!r}, but the text reads as {guess.code!r}; used {guess.code!r}"
            )
        language = guess.code or hint
        return language, is_reliable(language)

    def sentence_embeddings(
        self,
        sentences: Sequence[Sequence[Sentence]],
        embed: Callable[[list[str]], NDArray[np.float32]] | None = None,
    ) -> list[NDArray[np.float32]] | None:
        """The encoder's embedding of every sentence of the batch, in one encoder call, split by document
        (`embed` replaces the encoder call, e.g. with the training scripts' embedding cache)."""
        if self.encoder is None:
            return None
        flat = [s.text for doc in sentences for s in doc]
        vectors = (embed or self.encoder.encode)(flat).reshape(len(flat), EMBEDDING_DIM)
        return [vectors[start:end] for start, end in itertools.pairwise(_boundaries(sentences))]

    def sentence_features_for(
        self,
        sentences: Sequence[Sequence[Sentence]],
        embeddings: Sequence[NDArray[np.float32]] | None,
    ) -> list[NDArray[np.float32]] | None:
        """The indicator heads' input for every sentence of the batch, from `embeddings` as
        sentence_embeddings returns them."""
        if embeddings is None or self.indicator_model is None:
            return None
        flat = [s.text for doc in sentences for s in doc]
        boundaries = _boundaries(sentences)
        stacked = np.concatenate([np.zeros((0, EMBEDDING_DIM), dtype=np.float32), *embeddings])
        full = self.indicator_model.features(stacked, boundaries, flat)
        return [full[start:end] for start, end in itertools.pairwise(boundaries)]

    def _indicators(
        self, sentences: list[Sentence], features: NDArray[np.float32] | None
    ) -> list[IndicatorResult]:
        if self.indicator_model is not None and features is not None:
            return self.indicator_model.tag(sentences, features)
        return tag_indicators(sentences)
