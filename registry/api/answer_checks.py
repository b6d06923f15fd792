"""Checking submitted answers: every problem, by JSON Pointer into the request body, as a message key.

The same checks as the portal's (forms.answers), then the stored JSON Schema (the contract other backends
implement), then the identity (prefilled codes must be the signed-in person's), then the files (each must be an
upload of the principal's that no other application has taken).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from sqlalchemy.orm import Session

from forms.answers import MESSAGES as ANSWER_MESSAGES
from forms.answers import clean_answers, is_blank, normalise_answers, validate_answers
from forms.model import DECLARATION_ID, FormDefinition, Question
from forms.validators import MESSAGES as VALIDATOR_MESSAGES
from forms.validators import format_checker
from identity import Identity
from registry.api.personal import pointer
from registry.models.applications import RIGA
from registry.models.files import resolve_files

# JSON Schema keywords -> the message keys of forms.validators.MESSAGES (what the portal shows).
_SCHEMA_MESSAGE = {
    "required": "required",
    "minLength": "too_short",
    "maxLength": "too_long",
    "minimum": "too_small",
    "maximum": "too_large",
    "exclusiveMinimum": "too_small",
    "exclusiveMaximum": "too_large",
    "enum": "not_an_option",
    "const": "invalid",
    "minItems": "group.too_few",
    "maxItems": "group.too_many",
    "additionalProperties": "unknown",
    "unevaluatedProperties": "unknown",
    "not": "hidden",
}
# Every key the portal can turn into a message (forms.validators and forms.answers).
MESSAGE_KEYS = frozenset(VALIDATOR_MESSAGES) | frozenset(ANSWER_MESSAGES)


def _dropped(definition: FormDefinition, raw: Mapping[str, Any], cleaned: Mapping[str, Any]) -> list[dict[str, str]]:
    """Name every answer clean_answers removed: `unknown` to the form, or `hidden` (its question is not asked).

    A blank answer ("", [], null, an unticked declaration) is simply unanswered: dropping it is no error.
    """
    top = {q.id: q for q in definition.questions() if q.has_answer}
    if definition.declaration is not None:
        top[DECLARATION_ID] = Question(id=DECLARATION_ID, type="declaration")
    errors: list[dict[str, str]] = []

    def walk(raw_value: Any, kept: Any, path: tuple[Any, ...], known: Mapping[str, Question]) -> None:
        if isinstance(raw_value, Mapping) and isinstance(kept, Mapping):
            for name, value in raw_value.items():
                question = known.get(name)
                if name in kept:
                    walk(value, kept[name], (*path, name), {})
                elif not is_blank(question or Question(id=str(name), type="text"), value):
                    detail = "hidden" if question is not None else "unknown"
                    errors.append({"pointer": pointer(*path, name), "detail": detail})
        elif isinstance(raw_value, list) and isinstance(kept, list) and len(raw_value) == len(kept):
            group = top.get(path[-1]) if len(path) == 2 else None
            subs = {q.id: q for q in group.questions} if group is not None and group.type == "group" else {}
            for index, (item, kept_item) in enumerate(zip(raw_value, kept, strict=True)):
                walk(item, kept_item, (*path, index), subs)

    walk(raw, cleaned, ("answers",), top)
    return errors


def _schema_errors(error: ValidationError) -> list[dict[str, str]]:
    """Turn one JSON Schema error into pointers at the answers it is about."""
    at = ("answers", *error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        return [{"pointer": pointer(*at, name), "detail": "required"} for name in missing]
    if error.validator == "format":
        # forms.validators raises ValueError(message key), kept as the cause: "personal_code.checksum".
        cause = error.cause.args[0] if isinstance(error.cause, ValueError) and error.cause.args else None
        detail = cause if isinstance(cause, str) and cause in MESSAGE_KEYS else "invalid"
        return [{"pointer": pointer(*at), "detail": detail}]
    if error.validator in ("if", "then", "else", "allOf", "anyOf", "oneOf") and error.context:
        return [found for sub in error.context for found in _schema_errors(sub)]
    return [{"pointer": pointer(*at), "detail": _SCHEMA_MESSAGE.get(str(error.validator), "invalid")}]


def _identity_errors(definition: FormDefinition, answers: dict[str, Any], identity: Identity) -> list[dict[str, str]]:
    """Codes prefilled from the sign-in must be the signed-in person's: nobody applies in another's name."""
    expected = {"person.personal_code": identity.sub, "company.registration_number": identity.company}
    return [
        {"pointer": pointer("answers", question.id), "detail": "identity_mismatch"}
        for question in definition.questions()
        if question.prefill in expected
        and expected[question.prefill] is not None
        and question.id in answers
        and answers[question.id] != expected[question.prefill]
    ]


def checked_answers(
    session: Session,
    definition: FormDefinition,
    schema: dict[str, Any],
    raw: dict[str, Any],
    identity: Identity | None,
) -> tuple[dict[str, Any], list[dict[str, str]], set[str]]:
    """Return the answers as they will be stored, every problem by JSON Pointer, and the ids of the files used.

    File answers are replaced by what the registry stored (name, size, type), so the checks of type and size
    below judge the real file, not what the request said about it. Without an `identity` (an institution's
    system answering a data request: forms with no files and no prefills) there are neither files nor prefills.
    """
    cleaned = clean_answers(definition, raw)
    errors = _dropped(definition, raw, cleaned)
    normalised = normalise_answers(definition, cleaned)
    answers, file_problems, file_ids = (
        resolve_files(session, identity.principal, definition, normalised)
        if identity is not None
        else (normalised, [], set())
    )
    errors += [{"pointer": pointer("answers", *path), "detail": key} for path, key in file_problems]
    today = datetime.now(RIGA).date()
    for path, keys in validate_answers(definition, answers, today=today).items():
        # Paths are `moving_people/0/personal_code`; question ids never contain a slash.
        parts = [int(p) if p.isdigit() else p for p in path.split("/") if p]
        errors += [{"pointer": pointer("answers", *parts), "detail": key} for key in keys]
    # The stored JSON Schema is the contract other backends implement; it must agree with the checks above.
    # Mostly it repeats what validate_answers said in its own words: keep only what is new, not what is inside
    # an answer already reported ("file.type" on a file makes "invalid" on its name noise).
    validator = Draft202012Validator(schema, format_checker=format_checker())
    reported = {error["pointer"] for error in errors}
    for schema_error in validator.iter_errors(answers):
        errors += [
            found
            for found in _schema_errors(schema_error)
            if not any(found["pointer"] == p or found["pointer"].startswith(p + "/") for p in reported)
        ]
    errors += _identity_errors(definition, answers, identity) if identity is not None else []
    # One problem per pointer is what a person can act on; the first (most specific) wins.
    unique: dict[str, dict[str, str]] = {}
    for error in errors:
        unique.setdefault(error["pointer"], error)
    return answers, list(unique.values()), file_ids
