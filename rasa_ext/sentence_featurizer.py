"""Rasa's CountVectorsFeaturizer, sentence features only, optionally weighted by TF-IDF.

- **No per-token features.** Rasa's featurizer computes two matrices per message: one row per token
  (for sequence models such as DIET or CRF entity extraction) and one row for the whole sentence.
  This pipeline's classifier, logistic regression, reads only the sentence row and the entities come
  from regexes, so the token rows were computed and thrown away on every message: half the
  featurizer's sklearn transforms.  Without ``tfidf`` the features and predictions are Rasa's own.
- **``tfidf: true``**: each count becomes ``1 + ln(count)``, is multiplied by the n-gram's inverse
  document frequency over the training examples (``ln((1 + n) / (1 + df)) + 1``, scikit-learn's
  smoothed formula) and the row is scaled to unit length, within this featurizer's block.  Common
  n-grams ("hai", "kaise", "the") then count less than the rare ones that decide an intent, and a
  long message no longer outweighs a short one.  Measured on the same seeded folds in docs/content.md
  (section 13).

    - name: rasa_ext.sentence_featurizer.SentenceCountVectorsFeaturizer
      analyzer: char_wb        # any CountVectorsFeaturizer setting
      tfidf: true
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.training_data import TrainingData

_IDF_FILE = "idf.npy"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SentenceCountVectorsFeaturizer(CountVectorsFeaturizer):
    """Sentence features of the text only (nothing in this pipeline reads per-token ones), TF-IDF if asked."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**CountVectorsFeaturizer.get_default_config(), "tfidf": False}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 execution_context: ExecutionContext, *args: Any, idf: np.ndarray | None = None,
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(config, model_storage, resource, execution_context, *args, **kwargs)
        self._idf = idf

    def train(self, training_data: TrainingData, model: Any = None) -> Resource:
        resource = super().train(training_data, model)
        vectorizer = self.vectorizers.get(TEXT) if self.vectorizers else None
        if self._config["tfidf"] and vectorizer is not None:
            tokens = self._get_all_attributes_processed_tokens(training_data)[TEXT]
            texts = [" ".join(t) for t in tokens if t]
            counts = vectorizer.transform(texts)
            document_frequency = np.bincount(counts.indices, minlength=counts.shape[1])
            self._idf = np.log((1 + len(texts)) / (1 + document_frequency)) + 1.0
            self.persist()
        return resource

    def persist(self) -> None:
        super().persist()
        if self._idf is not None:
            with self._model_storage.write_to(self._resource) as directory:
                np.save(directory / _IDF_FILE, self._idf)

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> CountVectorsFeaturizer:  # fmt: skip
        featurizer = super().load(config, model_storage, resource, execution_context, **kwargs)
        if isinstance(featurizer, SentenceCountVectorsFeaturizer) and config.get("tfidf"):
            try:
                with model_storage.read_from(resource) as directory:
                    featurizer._idf = np.load(directory / _IDF_FILE)
            except (ValueError, FileNotFoundError):
                featurizer._idf = None
        return featurizer

    def _create_features(self, attribute: str, all_tokens: list[list[str]]) -> tuple[list[Any], list[Any]]:
        if attribute != TEXT:
            return super()._create_features(attribute, all_tokens)
        vectorizer = self.vectorizers.get(attribute) if self.vectorizers else None
        if not vectorizer:
            return [None], [None]
        sentences: list[scipy.sparse.spmatrix | None] = []
        for tokens in all_tokens:
            if not tokens:
                sentences.append(None)
                continue
            vector = vectorizer.transform([" ".join(tokens)])
            vector.sort_indices()
            sentences.append(self._weighted(vector) if self._idf is not None else vector.tocoo())
        return [None] * len(all_tokens), sentences

    def _weighted(self, vector: scipy.sparse.csr_matrix) -> scipy.sparse.coo_matrix:
        """The one-row count matrix as TF-IDF weights of unit length, built straight as the COO matrix Rasa keeps."""
        assert self._idf is not None
        data = (1.0 + np.log(vector.data)) * self._idf[vector.indices]
        norm = float(np.sqrt(np.dot(data, data)))
        if norm > 0:
            data /= norm
        rows = np.zeros(len(data), dtype=vector.indices.dtype)
        return scipy.sparse.coo_matrix((data, (rows, vector.indices)), shape=vector.shape)
