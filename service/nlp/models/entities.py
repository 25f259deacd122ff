"""Trained entity stage: the corpus-trained spaCy recogniser, optionally joined by the order gazetteer.

The recogniser learns producers, buyers and the roles of place names (production site, workers' origin,
market) from context; the gazetteer adds producers already under a CBP order or on the UFLPA list, because
missing one of those is the costliest error for an investigator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from service.contract import BuyerMention, CommodityMention, Entities, LocationMention, ProducerMention
import numpy as np
from numpy.typing import NDArray

from service.nlp.models.mentions import (
    Candidate,
    MentionClassifier,
    SentenceVectors,
    candidates,
    decide,
    mention_features,
)
from service.nlp.normalize import EntityNormalizer
from service.nlp.reference import ReferenceData
from service.nlp.rules.entities import commodity_matcher, producer_matcher


@dataclass
class MentionReader:
    """What the role classifier reads besides the recogniser: spaCy's pretrained pipeline (its entities and
    contextual vectors) and the gazetteers, matched on that pipeline's tokens. Training and service share it, so
    the classifier is trained on exactly the candidates and features it later sees."""

    generic: Language
    commodity_gazetteer: PhraseMatcher
    order_gazetteer: PhraseMatcher
    reference: ReferenceData

    @classmethod
    def build(cls, generic: Language, reference: ReferenceData) -> MentionReader:
        return cls(
            generic,
            commodity_matcher(generic, EntityNormalizer.build(reference)),
            producer_matcher(generic, reference),
            reference,
        )

    def read(
        self, doc: Doc | None, generic_doc: Doc, sentence_vectors: SentenceVectors
    ) -> tuple[list[Candidate], NDArray[np.float32]]:
        """Candidates of one text (`doc`: the recogniser's reading, if any) and their feature rows."""
        cands = candidates(doc, generic_doc, self.commodity_gazetteer, self.order_gazetteer, self.reference)
        return cands, mention_features(cands, generic_doc, sentence_vectors)


@dataclass
class MentionStage:
    """The role classifier over the reader's candidates."""

    reader: MentionReader
    classifier: MentionClassifier

    def roles(
        self, doc: Doc, generic_doc: Doc, sentence_vectors: SentenceVectors
    ) -> list[tuple[int, int, str, str, float]]:
        """(start, end, text, role, probability) of every candidate the classifier keeps; `generic_doc` is the
        pretrained pipeline's reading of the same text."""
        cands, features = self.reader.read(doc, generic_doc, sentence_vectors)
        probs = self.classifier.probabilities(features)
        return [
            (c.start, c.end, c.text, label, prob)
            for c, label, prob in decide(cands, probs, self.classifier.thresholds)
        ]


@dataclass
class TrainedEntityExtractor:
    normalizer: EntityNormalizer
    order_gazetteer: PhraseMatcher | None
    commodity_gazetteer: PhraseMatcher | None
    mentions: MentionStage | None = None

    @classmethod
    def build(
        cls,
        nlp: Language,
        reference: ReferenceData,
        order_gazetteer: bool,
        commodity_gazetteer: bool,
        mentions: MentionStage | None = None,
    ) -> TrainedEntityExtractor:
        normalizer = EntityNormalizer.build(reference)
        return cls(
            normalizer,
            producer_matcher(nlp, reference) if order_gazetteer else None,
            commodity_matcher(nlp, normalizer) if commodity_gazetteer else None,
            mentions,
        )

    @property
    def needs_sentence_vectors(self) -> bool:
        return self.mentions is not None

    def extract(self, doc: Doc) -> Entities:
        """One document's entities; only for an extractor without the mention stage (see extract_all)."""
        return self.extract_all([doc])[0]

    def extract_all(
        self, docs: Sequence[Doc], sentence_vectors: Sequence[SentenceVectors] | None = None
    ) -> list[Entities]:
        """Entities of each document; the pretrained pass of the mention stage runs over them as one batch.
        The mention stage needs each document's sentence vectors."""
        if self.mentions is None:
            return [self._recognised(doc) for doc in docs]
        if sentence_vectors is None or len(sentence_vectors) != len(docs):
            raise ValueError("the mention stage needs the sentence vectors of every document")
        generic_docs = self.mentions.reader.generic.pipe([doc.text for doc in docs], batch_size=max(len(docs), 1))
        return [
            self._classified(doc, self.mentions, generic_doc, vectors)
            for doc, generic_doc, vectors in zip(docs, generic_docs, sentence_vectors, strict=True)
        ]

    def _classified(
        self, doc: Doc, mentions: MentionStage, generic_doc: Doc, sentence_vectors: SentenceVectors
    ) -> Entities:
        producers: dict[str, ProducerMention] = {}
        commodities: dict[str, CommodityMention] = {}
        locations: dict[str, LocationMention] = {}
        buyers: dict[str, BuyerMention] = {}
        for start, end, surface, role, prob in mentions.roles(doc, generic_doc, sentence_vectors):
            key = surface.casefold()
            if role == "PRODUCER" and key not in {k.casefold() for k in producers}:
                producers[surface] = self.normalizer.producer(surface, start, end, round(prob, 4))
            elif role == "COMMODITY" and key not in {k.casefold() for k in commodities}:
                commodities[surface] = self.normalizer.commodity(surface, start, end)
            elif role == "LOCATION" and key not in {k.casefold() for k in locations}:
                locations[surface] = self.normalizer.location(surface, start, end)
            elif role == "BUYER" and surface not in buyers:
                buyers[surface] = BuyerMention(text=surface, start=start, end=end)
        return Entities(
            producers=list(producers.values()),
            commodities=list(commodities.values()),
            locations=list(locations.values()),
            buyers=list(buyers.values()),
        )

    def _recognised(self, doc: Doc) -> Entities:
        producers: dict[str, ProducerMention] = {}
        commodities: dict[str, CommodityMention] = {}
        locations: dict[str, LocationMention] = {}
        buyers: dict[str, BuyerMention] = {}
        for ent in doc.ents:
            surface = ent.text
            key = surface.casefold()
            if ent.label_ == "PRODUCER" and key not in {k.casefold() for k in producers}:
                producers[surface] = self.normalizer.producer(surface, ent.start_char, ent.end_char, 0.8)
            elif ent.label_ == "COMMODITY" and key not in {k.casefold() for k in commodities}:
                commodities[surface] = self.normalizer.commodity(surface, ent.start_char, ent.end_char)
            elif ent.label_ == "LOCATION" and key not in {k.casefold() for k in locations}:
                locations[surface] = self.normalizer.location(surface, ent.start_char, ent.end_char)
            elif ent.label_ == "BUYER" and surface not in buyers:
                buyers[surface] = BuyerMention(text=surface, start=ent.start_char, end=ent.end_char)
        if self.order_gazetteer is not None:
            taken = [(e.start_char, e.end_char) for e in doc.ents if e.label_ in ("BUYER", "PRODUCER")]
            for _id, start, end in self.order_gazetteer(doc):
                span = doc[start:end]
                if span.text in producers or any(s < span.end_char and span.start_char < e for s, e in taken):
                    continue
                producers[span.text] = self.normalizer.producer(
                    span.text, span.start_char, span.end_char, 0.9
                )
        if self.commodity_gazetteer is not None:
            recognised = [(e.start_char, e.end_char) for e in doc.ents]
            for _id, start, end in self.commodity_gazetteer(doc):
                span = doc[start:end]
                if span.text.casefold() in {k.casefold() for k in commodities}:
                    continue
                if any(s < span.end_char and span.start_char < e for s, e in recognised):
                    continue
                commodities[span.text] = self.normalizer.commodity(span.text, span.start_char, span.end_char)
        return Entities(
            producers=list(producers.values()),
            commodities=list(commodities.values()),
            locations=list(locations.values()),
            buyers=list(buyers.values()),
        )
