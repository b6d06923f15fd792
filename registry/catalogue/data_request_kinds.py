"""Kinds of data request (level 5): what one institution may ask another, and the form the answer is given in.

A kind is data, like a form or a process (docs/processing.md): `registry/seed/data_requests/<kind>.yaml`. Its
`answer_form` is a form definition in the forms package's format (docs/forms.md) without `service`, `form` and
`version`: those are the kind's id, `answer` and the kind's version, so the forms package loads, checks, builds and
validates an answer form exactly like a service's step form. This module checks a kind document and gives the
loaded, immutable `Kind`; storing versions is registry.models.data_request_kinds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from forms.loader import DefinitionError, load_definition
from forms.model import FormDefinition, Question
from identity import COMPANY_NUMBER

ANSWER_FORM = "answer"
# Whom a kind can be about: a person (personal code) or a company (registration number), as a case's principal is.
SUBJECTS = ("person", "company")
# An answer form is filled in by an institution, not by a person: nothing to upload, nothing prefilled from a
# sign-in, nothing to declare. Keeping it to one page keeps the answer one screen in the portal and one object
# for a machine.
_REFUSED_TYPES = ("file", "declaration")

_TEXT = {
    "type": "object",
    "properties": {"lv": {"type": "string", "minLength": 1}, "en": {"type": "string", "minLength": 1}},
    "required": ["lv", "en"],
    "additionalProperties": False,
}
_SLUG = {"type": "string", "pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$", "minLength": 2, "maxLength": 80}
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "id": _SLUG,
        "version": {"type": "integer", "minimum": 1},
        "title": _TEXT,
        "description": _TEXT,
        "answered_by": _SLUG,
        "asked_by": {"type": "array", "items": _SLUG, "minItems": 1, "uniqueItems": True},
        "about": {"type": "array", "items": {"enum": list(SUBJECTS)}, "minItems": 1, "uniqueItems": True},
        "answer_form": {
            "type": "object",
            "not": {"anyOf": [{"required": ["service"]}, {"required": ["form"]}, {"required": ["version"]}]},
        },
    },
    "required": ["id", "version", "title", "answered_by", "about", "answer_form"],
    "additionalProperties": False,
}
_VALIDATOR = Draft202012Validator(SCHEMA)


class KindError(ValueError):
    """A kind document that is not valid; `problems` lists each problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Kind:
    """One version of a kind of data request."""

    id: str
    version: int
    title: Mapping[str, str]
    description: Mapping[str, str] | None
    answered_by: str
    asked_by: tuple[str, ...] | None  # None: every institution but the answering one
    about: tuple[str, ...]
    answer_form: FormDefinition

    def may_be_asked_by(self, institution: str) -> bool:
        """Say whether `institution` may send a request of this kind (never to itself)."""
        if institution == self.answered_by:
            return False
        return self.asked_by is None or institution in self.asked_by

    def is_about(self, principal: str) -> bool:
        """Say whether the kind can be asked about this principal (a personal code or a company number)."""
        return ("company" if COMPANY_NUMBER.fullmatch(principal) else "person") in self.about


def answer_form_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """Return the kind's answer form as a complete form definition (docs/forms.md): what the forms package loads."""
    return {
        "service": document.get("id"),
        "form": ANSWER_FORM,
        "version": document.get("version"),
        **dict(document.get("answer_form") or {}),
    }


def _answer_form_rules(definition: FormDefinition) -> list[str]:
    problems: list[str] = []
    if len(definition.pages) != 1:
        problems.append("answer_form: an answer form has exactly one page")
    if definition.declaration is not None:
        problems.append("answer_form: an answer form has no declaration")

    def walk(questions: Iterable[Question], where: str) -> None:
        for question in questions:
            if question.type in _REFUSED_TYPES:
                problems.append(f"{where}{question.id}: an answer form has no {question.type} questions")
            if question.prefill is not None:
                problems.append(f"{where}{question.id}: an answer form prefills nothing")
            walk(question.questions, f"{where}{question.id}/")

    walk(definition.questions(), "answer_form: question ")
    return problems


def kind_problems(document: Any, institutions: set[str] | None = None) -> list[str]:
    """Return every problem of a kind document: its shape, its answer form, and (if given) unknown institutions."""
    problems = [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in _VALIDATOR.iter_errors(document)
    ]
    if problems:
        return problems
    try:
        definition = load_definition(answer_form_document(document))
    except DefinitionError as exc:
        return [f"answer_form: {problem}" for problem in exc.problems]
    problems += _answer_form_rules(definition)
    asked_by = document.get("asked_by") or []
    if document["answered_by"] in asked_by:
        problems.append("asked_by: the answering institution does not ask itself")
    if institutions is not None:
        for name in [document["answered_by"], *asked_by]:
            if name not in institutions:
                problems.append(f"unknown institution {name!r}")
    return problems


def data_request_kind_problems(documents: list[Any], institutions: set[str]) -> list[str]:
    """Check every kind of the seed: each document, its institutions, and that no id is used twice."""
    problems: list[str] = []
    seen: set[Any] = set()
    for document in documents:
        ident = document.get("id", "?") if isinstance(document, dict) else "?"
        problems += [f"Data request kind {ident}: {problem}" for problem in kind_problems(document, institutions)]
        if ident in seen:
            problems.append(f"Data request kind {ident}: duplicate id")
        seen.add(ident)
    return problems


def load_kind(document: Any) -> Kind:
    """Return the kind a document describes, or raise KindError."""
    problems = kind_problems(document)
    if problems:
        raise KindError(problems)
    return Kind(
        id=document["id"],
        version=document["version"],
        title=dict(document["title"]),
        description=dict(document["description"]) if document.get("description") else None,
        answered_by=document["answered_by"],
        asked_by=tuple(document["asked_by"]) if document.get("asked_by") else None,
        about=tuple(document["about"]),
        answer_form=load_definition(answer_form_document(document)),
    )
