"""Two corrections to the classifier's intent that words can decide better than n-gram weights.

- **A request for a person wins.** "My name is not on the list, I want to talk to a person" is a
  request for a person that also names a topic. The classifier picks one intent and often picks the
  topic (then the EPIC form starts and the request is lost). When the message plainly asks for a
  human, the intent becomes ``ask_human``, and the topic the classifier saw (if any, and confident
  enough) is kept in the parse data as ``handoff_topic`` for the agent (bot/actions/handoff.py).
- **Nothing known, nothing guessed.** A message none of whose words (letters only: EPIC and PIN codes
  are not words) occurs in the training examples ("lkjh poiu mnbv") gets confidence 0, so the
  FallbackClassifier asks the voter to rephrase instead of guessing an intent.
- **A bare answer is an answer.** A message that is only values the entity patterns know (an EPIC
  number, a PIN code, a phone number, a constituency or state) and the words that wrap an answer ("my
  pin is 800001", "मेरा एपिक नंबर ABC1234567 है") is ``inform``, whatever the n-grams of an unseen code
  or place name suggest (``answer_entities`` in config.yml; the regexes are nlu/entities.yml's; place
  names beyond the constituencies of data/ come from ``answer_places``, a file of one name a line).
- **Form numbers route.** "form 8 kya hota hai" and "फॉर्म 8 कैसे भरें" name the form: the intent is
  the one configured for that number (``form_intents`` in config.yml), when the classifier already
  thought the message was about some form or was unsure.  A number whose intent was not trained is
  ignored, so the map may name intents that other content adds later.

Runs in Rasa (.venv-rasa), after the intent classifier and before the FallbackClassifier.
The words are in rasa_ext/intent_words.py.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_ext.intent_words import asks_for_a_person, form_numbers, is_bare_answer, read_places, words

ASK_HUMAN = "ask_human"
INFORM = "inform"
TOPIC_KEY = "handoff_topic"

_DEFAULT_FORM_INTENTS = {"6": "register_voter", "8": "update_details", "12d": "accessibility_help"}
# Intents that a form number may overrule: the classifier already thought "a form" or was unsure.
_DEFAULT_OVERRULABLE = ["register_voter", "update_details", "voter_id_card", "check_registration",
                        "accessibility_help", "inform", "out_of_scope"]  # fmt: skip


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class IntentRouting(GraphComponent, IntentClassifier):
    """Overrules the classifier for a person request (with its topic kept) and for a named form."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "form_intents": dict(_DEFAULT_FORM_INTENTS),
            "overrulable_intents": list(_DEFAULT_OVERRULABLE),
            # Below this confidence any intent may be overruled by a form number.
            "unsure_below": 0.5,
            # The classifier's best topic intent is kept for the agent only at or above this confidence.
            "topic_min_confidence": 0.02,
            # ... and at least this many times the next topic intent's.
            "topic_min_ratio": 3.0,
            # The entity regexes (nlu/entities.yml) whose values, alone, make a message an answer (inform).
            "answer_entities": ["epic_number", "pin_code", "phone_number", "constituency", "state"],
            # A file of place names (one a line, read when training, kept in the model); none when empty.
            "answer_places": "",
            "non_topic_intents": [
                "greet",
                "goodbye",
                "thanks",
                "affirm",
                "deny",
                "inform",
                "nlu_fallback",
                "ask_human",
                "request_callback",
                "bot_challenge",
                "out_of_scope",
            ],  # fmt: skip
        }

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 trained: set[str] | None = None, vocabulary: set[str] | None = None,
                 answer_patterns: list[str] | None = None, places: frozenset[str] = frozenset()) -> None:  # fmt: skip
        self._config = config
        self._storage = model_storage
        self._resource = resource
        self._trained = trained or set()
        self._vocabulary = vocabulary or set()
        self._answer_sources = answer_patterns or []
        self._answer_patterns = [re.compile(p, re.IGNORECASE) for p in self._answer_sources]
        self._places = places

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> IntentRouting:  # fmt: skip
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        self._trained = set(training_data.intents)
        self._vocabulary = {w for m in training_data.intent_examples for w in words(m.get("text") or "")}
        wanted = set(self._config["answer_entities"])
        self._answer_sources = [r["pattern"] for r in training_data.regex_features if r.get("name") in wanted]
        self._answer_patterns = [re.compile(p, re.IGNORECASE) for p in self._answer_sources]
        places_file = self._config["answer_places"]
        self._places = read_places(places_file) if places_file else frozenset()
        with self._storage.write_to(self._resource) as directory:
            (directory / "intents.txt").write_text("\n".join(sorted(self._trained)), encoding="utf-8")
            (directory / "vocabulary.txt").write_text("\n".join(sorted(self._vocabulary)), encoding="utf-8")
            (directory / "answers.json").write_text(json.dumps(self._answer_sources), encoding="utf-8")
            (directory / "places.txt").write_text("\n".join(sorted(self._places)), encoding="utf-8")
        return self._resource

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> IntentRouting:  # fmt: skip
        try:
            with model_storage.read_from(resource) as directory:
                trained = set((directory / "intents.txt").read_text(encoding="utf-8").split())
                vocabulary = set((directory / "vocabulary.txt").read_text(encoding="utf-8").split())
                answers_file = directory / "answers.json"
                answers = json.loads(answers_file.read_text(encoding="utf-8")) if answers_file.exists() else []
                places_file = directory / "places.txt"
                places = read_places(places_file) if places_file.exists() else frozenset()
        except (ValueError, FileNotFoundError):
            trained, vocabulary, answers, places = set(), set(), [], frozenset()
        return cls(config, model_storage, resource, trained, vocabulary, answers, places)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._route(message)
        return messages

    def _route(self, message: Message) -> None:
        text = message.get("text") or ""
        intent = message.get("intent") or {}
        name, confidence = intent.get("name"), float(intent.get("confidence") or 0.0)
        if not text or name is None:
            return
        if INFORM in self._trained and is_bare_answer(text, self._answer_patterns, self._places):
            if name != INFORM:
                self._set(message, INFORM)
            return
        letters = words(text)
        if self._vocabulary and letters and not any(w in self._vocabulary for w in letters):
            message.set("intent", {"name": name, "confidence": 0.0}, add_to_output=True)
            return
        if name != "request_callback" and ASK_HUMAN in self._trained and asks_for_a_person(text):
            topic = self._topic(message)
            if topic:
                message.set(TOPIC_KEY, topic, add_to_output=True)
            self._set(message, ASK_HUMAN)
            return
        forms = form_numbers(text)
        routed = {self._config["form_intents"].get(form) for form in forms} - {None}
        if len(routed) != 1:
            return
        target = routed.pop()
        if target not in self._trained:
            return
        # Confirmed (the classifier agreed but may have been torn between two forms), or overruled.
        if target == name or name in self._config["overrulable_intents"] or confidence < self._config["unsure_below"]:
            self._set(message, target)

    def _topic(self, message: Message) -> str | None:
        """What else the message is about: the classifier's best topic intent, when it stands out.

        Beside a confident ``ask_human`` the topic intents share what is left: a topic the message names
        stands well above the others ("my name is not on the list, I want a person": check_registration
        0.03-0.07, the next one 0.001-0.014); a plain request for a person leaves all of them near zero.
        """
        skip = self._config["non_topic_intents"]
        ranked = [r for r in message.get("intent_ranking") or [] if r.get("name") not in skip]
        if not ranked:
            return None
        best = float(ranked[0].get("confidence") or 0.0)
        runner_up = float(ranked[1].get("confidence") or 0.0) if len(ranked) > 1 else 0.0
        if best >= self._config["topic_min_confidence"] and best >= self._config["topic_min_ratio"] * runner_up:
            return str(ranked[0]["name"])
        return None

    @staticmethod
    def _set(message: Message, name: str) -> None:
        chosen = {"name": name, "confidence": 1.0}
        ranking = [r for r in message.get("intent_ranking") or [] if r.get("name") != name]
        message.set("intent", chosen, add_to_output=True)
        message.set("intent_ranking", [chosen, *ranking], add_to_output=True)
