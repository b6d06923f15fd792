"""Apply online: drafts and applications of the signed-in person, or of the company a representative acts for.

Whose data it is (the principal) comes only from the signed identity (`X-Portal-Identity`), never from the URL or
the body; another principal's draft or application is a 404, so ids reveal nothing. Responses carry personal data
and are never cached (`Cache-Control: no-store`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import wraps
from typing import Any

from flask import Response, request
from jsonschema import Draft202012Validator, ValidationError
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from forms.answers import MESSAGES as ANSWER_MESSAGES
from forms.answers import clean_answers, is_blank, normalise_answers, validate_answers
from forms.loader import load_definition
from forms.model import DECLARATION_ID, FormDefinition, Question
from forms.validators import MESSAGES as VALIDATOR_MESSAGES
from forms.validators import format_checker
from identity import Identity
from registry.api import API_PREFIX, api
from registry.api.params import int_param
from registry.api.problems import ApiProblem
from registry.db import db_session
from registry.identity import require_identity
from registry.models.applications import (
    RIGA,
    application_created,
    application_document,
    application_item,
    consume_draft,
    create_draft,
    draft_document,
    get_application,
    get_draft,
    list_applications,
    list_drafts,
    new_id,
    store_application,
    utc_now,
    withdraw_application,
)
from registry.models.forms import get_form
from registry.models.idempotency import (
    MAX_KEY_LENGTH,
    Claim,
    KeyInFlight,
    KeyReused,
    Replay,
    claim_key,
    complete_key,
    fingerprint,
    hold_key,
    release_key,
)
from registry.models.services import get_service
from registry.models.tables import Application, Draft, Service
from registry.models.tables import FormDefinition as StoredForm

RESOURCE_ID = re.compile(r"[0-9a-f]{32}")
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Visible ASCII and spaces: a key ends up in a database column and in problem details.
IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]+")
MAX_PER_PAGE = 100
# Versions are small integers; a huge one would overflow the database's integer before it could be looked up.
MAX_FORM_VERSION = 1_000_000
_REFERENCE_ATTEMPTS = 5
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


# --- helpers ---------------------------------------------------------------------------------------------------


class StorageError(Exception):
    """A database failure, described without the values it was given."""


def _scrubbed(view: Callable[..., Response]) -> Callable[..., Response]:
    """Keep personal codes out of the error log: SQLAlchemy's messages list the bound parameters (principals)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except SQLAlchemyError as exc:
            statement = getattr(exc, "statement", None) or ""
            # `from None`: the traceback then shows only this error, so the parameters never reach the log.
            raise StorageError(f"{type(exc).__name__} in {view.__name__}: {statement}") from None

    return wrapper


def _private(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Return JSON that no cache may keep: it is somebody's personal data."""
    if status == 204:
        response = Response(status=204)
    else:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        response = Response(body, status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(headers or {})
    return response


def _pointer(*parts: Any) -> str:
    """Return a JSON Pointer fragment (RFC 6901) to `parts` of the request document."""
    return "#" + "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _json_object() -> dict[str, Any]:
    """Return the JSON object in the body, or refuse: 415 not JSON, 400 malformed, 422 not an object."""
    if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
        raise ApiProblem(415, "Send the body as application/json.")
    body = request.get_json(silent=True)
    if body is None:
        raise ApiProblem(400, "The request body is not valid JSON.")
    if not isinstance(body, dict):
        raise ApiProblem(422, "The body must be a JSON object.", errors=[{"pointer": "#", "detail": "type"}])
    return body


def _check_fields(body: dict[str, Any], required: dict[str, type | tuple[type, ...]], optional: dict[str, Any]) -> None:
    """Refuse a body with unknown fields (status, decision...), missing fields or fields of the wrong type."""
    errors = [
        {"pointer": _pointer(key), "detail": "not_allowed"} for key in body if key not in {**required, **optional}
    ]
    errors += [{"pointer": _pointer(key), "detail": "required"} for key in required if key not in body]
    for key, kind in {**required, **optional}.items():
        value = body.get(key)
        # bool is an int in Python; a version or a page id is never true or false.
        if key in body and (not isinstance(value, kind) or (isinstance(value, bool) and bool not in _types(kind))):
            errors.append({"pointer": _pointer(key), "detail": "type"})
    if errors:
        raise ApiProblem(422, "The request body is not valid.", errors=errors)


def _types(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _resource_id(value: str, what: str) -> str:
    """A malformed id cannot exist: answer it exactly like somebody else's (404)."""
    if RESOURCE_ID.fullmatch(value) is None:
        raise ApiProblem(404, f"There is no such {what}.")
    return value


def _page() -> tuple[int, int]:
    page = int_param("page", 1, 1, 10_000) or 1
    per_page = int_param("per_page", 20, 1, MAX_PER_PAGE) or 20
    return page, per_page


def _open_service(identity: Identity, service_id: str) -> Service:
    """Return a published service this identity may apply for: 404 if there is none, 403 for another audience."""
    if SLUG.fullmatch(service_id) is None:
        raise ApiProblem(404, "There is no such service to apply for.")
    row = get_service(db_session(), service_id)
    if row is None or row.status != "published":
        raise ApiProblem(404, f"There is no service '{service_id}' to apply for.")
    if identity.audience not in row.document.get("audiences", []):
        who = "companies" if identity.kind == "company_representative" else "private persons"
        raise ApiProblem(403, f"The service '{service_id}' is not offered to {who}.")
    return row


def _form(service: Service, form: str, version: int | None) -> StoredForm:
    if SLUG.fullmatch(form) is None:
        raise ApiProblem(404, f"The service '{service.id}' has no such form.")
    row = get_form(db_session(), service, form, version)
    if row is None:
        which = f"version {version} of " if version is not None else ""
        raise ApiProblem(404, f"The service '{service.id}' has no {which}form '{form}'.")
    return row


def _draft(identity: Identity, draft_id: str) -> Draft:
    draft = get_draft(db_session(), identity.principal, _resource_id(draft_id, "draft"))
    if draft is None:
        raise ApiProblem(404, "There is no such draft.")
    return draft


# --- drafts ----------------------------------------------------------------------------------------------------


@api.post("/me/drafts")
@_scrubbed
def start_draft() -> Response:
    """Start a draft of the newest version of a service's form."""
    identity = require_identity()
    body = _json_object()
    _check_fields(body, {"service": str, "form": str}, {})
    service = _open_service(identity, body["service"])
    form = _form(service, body["form"], None)
    session = db_session()
    draft = create_draft(session, identity.principal, service, form.form, form.version)
    session.commit()
    return _private(draft_document(draft), 201, {"Location": f"{API_PREFIX}/me/drafts/{draft.id}"})


@api.get("/me/drafts")
@_scrubbed
def my_drafts() -> Response:
    """List the principal's drafts, most recently saved first."""
    identity = require_identity()
    page, per_page = _page()
    drafts, total = list_drafts(db_session(), identity.principal, page, per_page)
    items = [{k: v for k, v in draft_document(d).items() if k != "answers"} for d in drafts]
    return _private({"items": items, "total": total, "page": page, "per_page": per_page})


@api.get("/me/drafts/<draft_id>")
@_scrubbed
def my_draft(draft_id: str) -> Response:
    """Return one of the principal's drafts with its answers."""
    return _private(draft_document(_draft(require_identity(), draft_id)))


@api.put("/me/drafts/<draft_id>")
@_scrubbed
def save_draft(draft_id: str) -> Response:
    """Save a draft's answers and the page the person is on; a draft may be incomplete, so nothing is required."""
    identity = require_identity()
    draft = _draft(identity, draft_id)
    body = _json_object()
    _check_fields(body, {"answers": dict}, {"current_page": (str, type(None))})
    definition = load_definition(_form(draft.service, draft.form, draft.form_version).definition)
    page = body.get("current_page")
    # "check" is the check-your-answers step that follows the last page.
    if page is not None and page not in {p.id for p in definition.pages} | {"check"}:
        raise ApiProblem(422, "The draft is not valid.", errors=[{"pointer": "#/current_page", "detail": "unknown"}])
    draft.answers = clean_answers(definition, body["answers"])
    draft.current_page = page
    draft.updated_at = utc_now()
    db_session().commit()
    return _private(draft_document(draft))


@api.delete("/me/drafts/<draft_id>")
@_scrubbed
def delete_draft(draft_id: str) -> Response:
    """Delete one of the principal's drafts."""
    identity = require_identity()
    session = db_session()
    session.delete(_draft(identity, draft_id))
    session.commit()
    return _private(None, 204)


# --- answers ---------------------------------------------------------------------------------------------------


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
                    errors.append({"pointer": _pointer(*path, name), "detail": detail})
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
        return [{"pointer": _pointer(*at, name), "detail": "required"} for name in missing]
    if error.validator == "format":
        # forms.validators raises ValueError(message key), kept as the cause: "personal_code.checksum".
        cause = error.cause.args[0] if isinstance(error.cause, ValueError) and error.cause.args else None
        detail = cause if isinstance(cause, str) and cause in MESSAGE_KEYS else "invalid"
        return [{"pointer": _pointer(*at), "detail": detail}]
    if error.validator in ("if", "then", "else", "allOf", "anyOf", "oneOf") and error.context:
        return [found for sub in error.context for found in _schema_errors(sub)]
    return [{"pointer": _pointer(*at), "detail": _SCHEMA_MESSAGE.get(str(error.validator), "invalid")}]


def _identity_errors(definition: FormDefinition, answers: dict[str, Any], identity: Identity) -> list[dict[str, str]]:
    """Codes prefilled from the sign-in must be the signed-in person's: nobody applies in another's name."""
    expected = {"person.personal_code": identity.sub, "company.registration_number": identity.company}
    return [
        {"pointer": _pointer("answers", question.id), "detail": "identity_mismatch"}
        for question in definition.questions()
        if question.prefill in expected
        and expected[question.prefill] is not None
        and question.id in answers
        and answers[question.id] != expected[question.prefill]
    ]


def checked_answers(
    definition: FormDefinition, schema: dict[str, Any], raw: dict[str, Any], identity: Identity
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Return the answers as they will be stored, and every problem with them by JSON Pointer into the body."""
    cleaned = clean_answers(definition, raw)
    errors = _dropped(definition, raw, cleaned)
    answers = normalise_answers(definition, cleaned)
    today = datetime.now(RIGA).date()
    for path, keys in validate_answers(definition, answers, today=today).items():
        # Paths are `moving_people/0/personal_code`; question ids never contain a slash.
        parts = [int(p) if p.isdigit() else p for p in path.split("/") if p]
        errors += [{"pointer": _pointer("answers", *parts), "detail": key} for key in keys]
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
    errors += _identity_errors(definition, answers, identity)
    # One problem per pointer is what a person can act on; the first (most specific) wins.
    unique: dict[str, dict[str, str]] = {}
    for error in errors:
        unique.setdefault(error["pointer"], error)
    return answers, list(unique.values())


# --- applications ----------------------------------------------------------------------------------------------


def _idempotency_key() -> str:
    """Return the Idempotency-Key header (a structured-field string, quotes optional), or refuse with 400."""
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        raise ApiProblem(400, "Submitting needs an Idempotency-Key header, so that a retry cannot apply twice.")
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not key or len(key) > MAX_KEY_LENGTH or IDEMPOTENCY_KEY.fullmatch(key) is None:
        raise ApiProblem(400, f"The Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters.")
    return key


def _in_flight() -> ApiProblem:
    return ApiProblem(
        409,
        "A request with this Idempotency-Key is still being processed; retry shortly.",
        headers={"Retry-After": "1"},
    )


def _created(payload: dict[str, Any], status: int, replayed: bool = False) -> Response:
    headers = {"Location": f"{API_PREFIX}/me/applications/{payload['id']}"} if status == 201 else {}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return _private(payload, status, headers)


@api.post("/applications")
@_scrubbed
def submit_application() -> Response:
    """Submit an application from a draft or from answers given in full; safe to retry with the same key."""
    identity = require_identity()
    key = _idempotency_key()
    body = _json_object()
    session = db_session()
    try:
        outcome = claim_key(session, identity.principal, key, fingerprint(body))
    except KeyReused:
        raise ApiProblem(422, "This Idempotency-Key was already used with a different request body.") from None
    except KeyInFlight:
        raise _in_flight() from None
    if isinstance(outcome, Replay):
        return _created(outcome.response, outcome.status_code, replayed=True)
    try:
        payload = _submit(identity, body, outcome)
    except BaseException:
        # Nothing was stored: forget the claim so the same key can carry the corrected request.
        release_key(session, outcome)
        raise
    return _created(payload, 201)


def _submit(identity: Identity, body: dict[str, Any], claim: Claim) -> dict[str, Any]:
    """Validate and store one application; the key is completed in the same transaction."""
    draft_id: str | None = None
    if "draft_id" in body:
        _check_fields(body, {"draft_id": str}, {})
        draft = _draft(identity, body["draft_id"])
        draft_id = draft.id
        service = _open_service(identity, draft.service.id)
        form, version, raw = draft.form, draft.form_version, draft.answers
    else:
        _check_fields(body, {"service": str, "form": str, "form_version": int, "answers": dict}, {})
        if not 1 <= body["form_version"] <= MAX_FORM_VERSION:
            raise ApiProblem(
                422, "The request body is not valid.", errors=[{"pointer": "#/form_version", "detail": "invalid"}]
            )
        service = _open_service(identity, body["service"])
        form, version, raw = body["form"], body["form_version"], body["answers"]
    stored = _form(service, form, version)
    answers, errors = checked_answers(load_definition(stored.definition), stored.answers_schema, raw, identity)
    if errors:
        raise ApiProblem(422, "The answers are not valid; `errors` lists each problem.", errors=errors)

    session = db_session()
    application_id = new_id()
    for attempt in range(_REFERENCE_ATTEMPTS):
        try:
            if not hold_key(session, claim):
                raise _in_flight()  # our claim went stale and another request took it over
            if draft_id is not None and not consume_draft(session, identity.principal, draft_id):
                raise ApiProblem(404, "There is no such draft; it may have been submitted already.")
            application = store_application(
                session,
                application_id=application_id,
                principal=identity.principal,
                applicant_name=identity.name,
                acting_for=identity.company if identity.kind == "company_representative" else None,
                service=service,
                form=stored.form,
                form_version=stored.version,
                answers=answers,
            )
            payload = application_created(application)
            complete_key(session, claim, 201, payload)
            session.commit()
            return payload
        except IntegrityError:
            # Another submission took the same reference number (PostgreSQL; SQLite writes one at a time): retry.
            session.rollback()
            if attempt == _REFERENCE_ATTEMPTS - 1:
                raise
        except BaseException:
            session.rollback()
            raise
    raise AssertionError("unreachable")  # pragma: no cover


@api.get("/me/applications")
@_scrubbed
def my_applications() -> Response:
    """List the principal's applications, newest first, with their status."""
    identity = require_identity()
    page, per_page = _page()
    rows, total = list_applications(db_session(), identity.principal, page, per_page)
    return _private({"items": [application_item(a) for a in rows], "total": total, "page": page, "per_page": per_page})


def _application(identity: Identity, application_id: str) -> Application:
    found = get_application(db_session(), identity.principal, _resource_id(application_id, "application"))
    if found is None:
        raise ApiProblem(404, "There is no such application.")
    return found


@api.get("/me/applications/<application_id>")
@_scrubbed
def my_application(application_id: str) -> Response:
    """Return one of the principal's applications with its answers and timeline."""
    return _private(application_document(_application(require_identity(), application_id)))


@api.post("/me/applications/<application_id>/withdraw")
@_scrubbed
def withdraw(application_id: str) -> Response:
    """Withdraw an application that has not been decided yet."""
    identity = require_identity()
    application = _application(identity, application_id)
    session = db_session()
    withdrawn = withdraw_application(session, identity.principal, application.id)
    if withdrawn:
        session.commit()
    else:
        session.rollback()
    session.expire_all()  # the row and its timeline may have changed behind the loaded object
    current = _application(identity, application_id)
    if not withdrawn:
        raise ApiProblem(409, f"An application that is {current.status.replace('_', ' ')} cannot be withdrawn.")
    return _private(application_document(current))
