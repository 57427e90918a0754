"""The gateway's own bilingual texts, loaded once from `gateway_texts.yml`."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.language import Language

LANGUAGES = tuple(lang.value for lang in Language)


class Texts:
    def __init__(self, texts: dict[str, dict[str, str]]) -> None:
        self._texts = texts

    @classmethod
    def load(cls, path: Path) -> Texts:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        texts = raw.get("texts") or {}
        for name, variants in texts.items():
            missing = [lang for lang in LANGUAGES if not (variants or {}).get(lang)]
            if missing:
                raise ValueError(f"{path}: text {name!r} has no {', '.join(missing)} version")
        return cls(texts)

    def get(self, name: str, language: str) -> str:
        variants = self._texts[name]
        return variants.get(language) or variants[Language.HI.value]
