"""The content files (nlu/, domain.yml, stories/) read with the file and line of everything in them.

PyYAML's node tree keeps the position of every value; the content lint needs it to say where
a problem is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.settings import ROOT

LANGS = ("en", "hi", "hinglish")


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    check: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message} [{self.check}]"


@dataclass(frozen=True)
class Example:
    text: str  # as written, with entity annotations
    intent: str
    lang: str | None
    path: str
    line: int


@dataclass
class Content:
    """The content files, read with the line of everything the checks talk about."""

    root: Path
    examples: list[Example] = field(default_factory=list)
    blocks: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)  # (intent, lang) -> first block
    intent_blocks: dict[str, tuple[str, int]] = field(default_factory=dict)  # intent -> first block
    entity_blocks: list[tuple[str, str, int]] = field(default_factory=list)  # regex/lookup name, path, line
    domain_intents: dict[str, int] = field(default_factory=dict)  # name -> line in domain.yml
    domain_entities: dict[str, int] = field(default_factory=dict)
    domain_actions: dict[str, int] = field(default_factory=dict)
    forms: dict[str, tuple[int, list[str]]] = field(default_factory=dict)  # form -> (line, required slots)
    responses: dict[str, tuple[int, list[Node]]] = field(default_factory=dict)
    slot_actions: set[str] = field(default_factory=set)  # custom slot-mapping actions
    story_intents: set[str] = field(default_factory=set)
    story_actions: set[str] = field(default_factory=set)
    story_names: dict[str, tuple[str, int]] = field(default_factory=dict)  # story/rule name -> where
    problems: list[Problem] = field(default_factory=list)  # files that could not be read

    def rel(self, path: Path) -> str:
        return str(path.relative_to(self.root)) if path.is_relative_to(self.root) else str(path)


# ------------------------------------------------------------------ reading YAML with line numbers


def mapping(node: Node | None) -> dict[str, Node]:
    if not isinstance(node, MappingNode):
        return {}
    return {k.value: v for k, v in node.value if isinstance(k, ScalarNode)}


def sequence(node: Node | None) -> list[Node]:
    return list(node.value) if isinstance(node, SequenceNode) else []


def string(node: Node | None) -> str | None:
    return str(node.value) if isinstance(node, ScalarNode) and node.tag != "tag:yaml.org,2002:null" else None


def line_of(node: Node) -> int:
    return node.start_mark.line + 1


def _name_and_line(node: Node) -> tuple[str | None, int]:
    """An item of ``intents:``/``entities:``: a plain name, or ``- name: {options}``."""
    if isinstance(node, MappingNode) and node.value:
        return string(node.value[0][0]), line_of(node)
    return string(node), line_of(node)


def _compose(content: Content, path: Path) -> Node | None:
    try:
        return yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        content.problems.append(
            Problem(content.rel(path), line, "yaml", f"YAML syntax error: {exc.problem}; check the indentation here")
        )
    except (OSError, UnicodeDecodeError) as exc:
        content.problems.append(Problem(content.rel(path), 1, "yaml", f"cannot read the file: {exc}"))
    return None


def _example_lines(node: Node) -> Iterator[tuple[str, int]]:
    """The examples of a block with their file lines: ``examples: |`` text, or a list of ``- text:``."""
    if isinstance(node, ScalarNode):
        # A block scalar's text starts on the line after the `|`.
        first = line_of(node) + 1 if node.style in ("|", ">") else line_of(node)
        for offset, raw in enumerate(node.value.split("\n")):
            stripped = raw.strip()
            if stripped.startswith("- "):
                yield stripped[2:].strip(), first + offset
    for item in sequence(node):
        text_node = mapping(item).get("text")
        text = string(text_node)
        if text_node is not None and text is not None:
            yield text.strip().removeprefix("- ").strip(), line_of(text_node)


def load(root: Path = ROOT) -> Content:
    content = Content(root)
    for path in sorted((root / "nlu").glob("*.yml")):
        _load_nlu(content, path)
    _load_domain(content, root / "domain.yml")
    for path in sorted((root / "stories").glob("*.yml")):
        _load_stories(content, path)
    return content


def _load_nlu(content: Content, path: Path) -> None:
    rel = content.rel(path)
    for block in sequence(mapping(_compose(content, path)).get("nlu")):
        fields = mapping(block)
        if "regex" in fields or "lookup" in fields:
            name = string(fields.get("regex") or fields.get("lookup"))
            if name:
                content.entity_blocks.append((name, rel, line_of(block)))
            continue
        intent = string(fields.get("intent"))
        if intent is None:
            continue
        lang_node = mapping(fields.get("metadata")).get("lang")
        lang = string(lang_node)
        if lang not in LANGS:
            found = f"has lang {lang!r}" if lang_node is not None else "has no metadata lang"
            content.problems.append(
                Problem(
                    rel,
                    line_of(block),
                    "block-lang",
                    f"this block of intent '{intent}' {found}; add `metadata:` / `lang: en`, `hi` or `hinglish` "
                    "under the intent line",
                )
            )
            lang = None
        content.intent_blocks.setdefault(intent, (rel, line_of(block)))
        if lang:
            content.blocks.setdefault((intent, lang), (rel, line_of(block)))
        for text, line in _example_lines(fields.get("examples") or ScalarNode("tag:yaml.org,2002:null", "")):
            content.examples.append(Example(text, intent, lang, rel, line))


def _load_domain(content: Content, path: Path) -> None:
    domain = mapping(_compose(content, path))
    for key, target in (("intents", content.domain_intents), ("entities", content.domain_entities)):
        for item in sequence(domain.get(key)):
            name, line = _name_and_line(item)
            if name:
                target[name] = line
    for item in sequence(domain.get("actions")):
        name = string(item)
        if name:
            content.domain_actions[name] = line_of(item)
    for name_node, form in _map_items(domain.get("forms")):
        slots = [s for s in (string(n) for n in sequence(mapping(form).get("required_slots"))) if s]
        content.forms[str(name_node.value)] = (line_of(name_node), slots)
    for name_node, variations in _map_items(domain.get("responses")):
        content.responses[str(name_node.value)] = (line_of(name_node), sequence(variations))
    for _, slot in _map_items(domain.get("slots")):
        for slot_mapping in sequence(mapping(slot).get("mappings")):
            action = string(mapping(slot_mapping).get("action"))
            if action:
                content.slot_actions.add(action)


def _map_items(node: Node | None) -> list[tuple[ScalarNode, Node]]:
    return [(k, v) for k, v in node.value if isinstance(k, ScalarNode)] if isinstance(node, MappingNode) else []


def _load_stories(content: Content, path: Path) -> None:
    data = mapping(_compose(content, path))
    for item in sequence(data.get("stories")) + sequence(data.get("rules")):
        fields = mapping(item)
        name = string(fields.get("story") or fields.get("rule"))
        if name:
            content.story_names.setdefault(name, (content.rel(path), line_of(item)))
        for step in sequence(fields.get("condition")) + sequence(fields.get("steps")):
            _note_step(content, mapping(step))


def _note_step(content: Content, step: dict[str, Node]) -> None:
    intent, action, loop = string(step.get("intent")), string(step.get("action")), string(step.get("active_loop"))
    if intent:
        content.story_intents.add(intent)
    for name in (action, loop):
        if name:
            content.story_actions.add(name)
    for alternative in sequence(step.get("or")):
        _note_step(content, mapping(alternative))
