"""Processes of services: the ordered steps a case goes through, each owned by an institution, each with its form.

A process is data, like a form (docs/processing.md): `registry/seed/processes/<service>.process.yaml`. This module
checks a process document and gives the loaded, immutable `Process`; storing versions is registry.models.processes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

_TEXT = {
    "type": "object",
    "properties": {"lv": {"type": "string", "minLength": 1}, "en": {"type": "string", "minLength": 1}},
    "required": ["lv", "en"],
    "additionalProperties": False,
}
_SLUG = {"type": "string", "pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$", "maxLength": 80}
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "service": _SLUG,
        "version": {"type": "integer", "minimum": 1},
        "steps": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {"id": _SLUG, "institution": _SLUG, "title": _TEXT, "form": _SLUG},
                "required": ["id", "institution", "title", "form"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["service", "version", "steps"],
    "additionalProperties": False,
}
_VALIDATOR = Draft202012Validator(SCHEMA)


class ProcessError(ValueError):
    """A process document that is not valid; `problems` lists each problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Step:
    id: str
    institution: str
    title: Mapping[str, str]
    form: str


@dataclass(frozen=True)
class Process:
    service: str
    version: int
    steps: tuple[Step, ...]

    @property
    def first(self) -> Step:
        return self.steps[0]

    def index(self, step_id: str) -> int:
        """Return the position of a step; ValueError for a step the process does not have."""
        for position, step in enumerate(self.steps):
            if step.id == step_id:
                return position
        raise ValueError(f"no step {step_id!r} in the process of {self.service}")

    def step(self, step_id: str) -> Step:
        return self.steps[self.index(step_id)]

    def is_last(self, step_id: str) -> bool:
        return self.index(step_id) == len(self.steps) - 1

    def after(self, step_id: str) -> Step | None:
        position = self.index(step_id)
        return self.steps[position + 1] if position + 1 < len(self.steps) else None

    def before(self, step_id: str) -> Step | None:
        position = self.index(step_id)
        return self.steps[position - 1] if position > 0 else None


def process_problems(document: Any) -> list[str]:
    """Return every problem of a process document (its shape, and unique step ids)."""
    problems = [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in _VALIDATOR.iter_errors(document)
    ]
    if not problems:
        ids = [step["id"] for step in document["steps"]]
        problems += [f"steps: the step id {i!r} is used twice" for i in sorted({i for i in ids if ids.count(i) > 1})]
    return problems


def load_process(document: Any) -> Process:
    """Return the process a document describes, or raise ProcessError."""
    problems = process_problems(document)
    if problems:
        raise ProcessError(problems)
    steps = tuple(
        Step(id=s["id"], institution=s["institution"], title=dict(s["title"]), form=s["form"])
        for s in document["steps"]
    )
    return Process(service=document["service"], version=document["version"], steps=steps)
