"""Rasa's CountVectorsFeaturizer without the per-token (sequence) features nothing here reads.

Rasa's featurizer computes two matrices per message and attribute: one row per token (for sequence
models such as DIET or CRF entity extraction) and one row for the whole sentence.  This pipeline's
classifier, logistic regression, reads only the sentence row, and the entities come from regexes, so
the token rows were computed and thrown away on every message: half the featurizer's sklearn
transforms.  Training and predictions are unchanged (the same vocabulary, the same sentence
features); only the unused work goes.  Measured in ``benchmarks/nlu_speed.py`` (docs/content.md
section 13).

    - name: rasa_ext.sentence_featurizer.SentenceCountVectorsFeaturizer
      analyzer: char_wb        # any CountVectorsFeaturizer setting
"""

from __future__ import annotations

from typing import Any

import scipy.sparse
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.constants import TEXT


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SentenceCountVectorsFeaturizer(CountVectorsFeaturizer):
    """Sentence features of the text only; no sequence features (nothing in this pipeline reads them)."""

    def _create_features(
        self, attribute: str, all_tokens: list[list[str]]
    ) -> tuple[list[Any], list[Any]]:
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
            sentences.append(vector.tocoo())
        return [None] * len(all_tokens), sentences
