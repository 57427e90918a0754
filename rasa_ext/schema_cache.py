"""Rasa launcher that checks the action-server response schema once, not on every custom action call.

Rasa 3.6 validates every action server response with ``jsonschema.validate(result, schema)``.
That function first checks the *schema* against the JSON Schema meta-schema (draft 2020-12,
slow), then the response against the schema. The schema never changes, so here the checked
validator is built once per distinct schema and reused: every response is still validated
exactly as before; only the repeated meta-schema check goes. Profiled, it was about 80 % of
Rasa's time per message with the project's custom slot mapping (benchmarks/profile_rasa.py).

    .venv-rasa/bin/python rasa_ext/schema_cache.py run --enable-api ...   # = rasa run ...

It runs in .venv-rasa (it imports Rasa), which is why it lives here and not in ``bot/``.
``bot/devstack.py`` starts Rasa through it; measured in ``docs/performance.md``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import jsonschema

# endpoints.yml names classes in rasa_ext (rasa_ext.tracker_store): the project must be importable.
sys.path.append(str(Path(__file__).resolve().parent.parent))  # last: never shadows an installed package

_original_validate = jsonschema.validate
_validators: dict[str, Any] = {}


def validate(instance: Any, schema: Any, cls: Any = None, *args: Any, **kwargs: Any) -> None:
    """`jsonschema.validate` with the schema check and validator construction cached per schema."""
    if args or kwargs:
        _original_validate(instance, schema, cls, *args, **kwargs)
        return
    key = json.dumps(schema, sort_keys=True, default=str)
    validator = _validators.get(key)
    if validator is None:
        validator_cls = cls or jsonschema.validators.validator_for(schema)
        validator_cls.check_schema(schema)
        validator = _validators[key] = validator_cls(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is not None:
        raise error


def install() -> None:
    jsonschema.validate = validate  # Rasa imports it inside the function, at call time


if __name__ == "__main__":
    install()
    from rasa.__main__ import main

    sys.argv = ["rasa", *sys.argv[1:]]
    main()
