"""Apply online: drafts and applications of the signed-in person, or of the company a representative acts for.

Whose data it is (the principal) comes only from the signed identity (`X-Portal-Identity`), never from the URL or
the body; another principal's draft or application is a 404, so ids reveal nothing. Responses carry personal data
and are never cached (`Cache-Control: no-store`).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Response
from sqlalchemy.exc import IntegrityError

from forms.answers import clean_answers
from identity import Identity, is_assured, required_acr
from registry.api import API_PREFIX, api
from registry.api.answer_checks import checked_answers
from registry.api.idempotent import in_flight, run_once
from registry.api.personal import (
    check_fields,
    json_object,
    paging,
    private,
    resource_id,
    scrubbed,
)
from registry.api.problems import ApiProblem
from registry.db import db_session
from registry.identity import require_identity
from registry.models.applications import (
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
from registry.models.cases import CaseProblem, answer_information, start_case
from registry.models.files import FilesTaken, attach_files, get_file
from registry.models.forms import get_form, loaded
from registry.models.idempotency import (
    Claim,
    complete_key,
    hold_key,
)
from registry.models.payments import await_payment
from registry.models.results import decision_document, decision_event
from registry.models.services import get_service
from registry.models.tables import Application, Draft, Service
from registry.models.tables import FormDefinition as StoredForm

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Versions are small integers; a huge one would overflow the database's integer before it could be looked up.
MAX_FORM_VERSION = 1_000_000
APPLICATION_FORM = "application"
MAX_INFORMATION_TEXT = 5000
_REFERENCE_ATTEMPTS = 5


def _open_service(identity: Identity, service_id: str) -> Service:
    """Return a published service this identity may apply for: 404 if there is none, 403 for another audience."""
    if SLUG.fullmatch(service_id) is None:
        raise ApiProblem(404, "There is no such service to apply for.")
    row = get_service(db_session(), service_id)
    if row is None or row.status != "published":
        raise ApiProblem(404, f"There is no service '{service_id}' to apply for.")
    if row.level < 3:
        # Level 2 services print their form (the portal's printable form); nobody submits them online.
        raise ApiProblem(404, f"The service '{service_id}' is not applied for online.")
    if identity.audience not in row.document.get("audiences", []):
        who = "companies" if identity.kind == "company_representative" else "private persons"
        raise ApiProblem(403, f"The service '{service_id}' is not offered to {who}.")
    if not is_assured(identity.acr, required_acr(row.document.get("authentication_means"))):
        raise ApiProblem(403, f"The service '{service_id}' needs a sign-in with an eID card or eParaksts (acr high).")
    return row


def _form(service: Service, form: str, version: int | None) -> StoredForm:
    # Applicants fill in the application form; the other forms of a service are its steps' forms, for staff.
    if SLUG.fullmatch(form) is None or form != APPLICATION_FORM:
        raise ApiProblem(404, f"The service '{service.id}' has no such form.")
    row = get_form(db_session(), service, form, version)
    if row is None:
        which = f"version {version} of " if version is not None else ""
        raise ApiProblem(404, f"The service '{service.id}' has no {which}form '{form}'.")
    return row


def _draft(identity: Identity, draft_id: str) -> Draft:
    draft = get_draft(db_session(), identity.principal, resource_id(draft_id, "draft"))
    if draft is None:
        raise ApiProblem(404, "There is no such draft.")
    return draft


# --- drafts ----------------------------------------------------------------------------------------------------


@api.post("/me/drafts")
@scrubbed
def start_draft() -> Response:
    """Start a draft of the newest version of a service's form."""
    identity = require_identity()
    body = json_object()
    check_fields(body, {"service": str, "form": str}, {})
    service = _open_service(identity, body["service"])
    form = _form(service, body["form"], None)
    session = db_session()
    draft = create_draft(session, identity.principal, service, form.form, form.version)
    session.commit()
    return private(draft_document(draft), 201, {"Location": f"{API_PREFIX}/me/drafts/{draft.id}"})


@api.get("/me/drafts")
@scrubbed
def my_drafts() -> Response:
    """List the principal's drafts, most recently saved first."""
    identity = require_identity()
    page, per_page = paging()
    drafts, total = list_drafts(db_session(), identity.principal, page, per_page)
    items = [{k: v for k, v in draft_document(d).items() if k != "answers"} for d in drafts]
    return private({"items": items, "total": total, "page": page, "per_page": per_page})


@api.get("/me/drafts/<draft_id>")
@scrubbed
def my_draft(draft_id: str) -> Response:
    """Return one of the principal's drafts with its answers."""
    return private(draft_document(_draft(require_identity(), draft_id)))


@api.put("/me/drafts/<draft_id>")
@scrubbed
def save_draft(draft_id: str) -> Response:
    """Save a draft's answers and the page the person is on; a draft may be incomplete, so nothing is required."""
    identity = require_identity()
    draft = _draft(identity, draft_id)
    body = json_object()
    check_fields(body, {"answers": dict}, {"current_page": (str, type(None))})
    definition = loaded(_form(draft.service, draft.form, draft.form_version))
    page = body.get("current_page")
    # "check" is the check-your-answers step that follows the last page.
    if page is not None and page not in {p.id for p in definition.pages} | {"check"}:
        raise ApiProblem(422, "The draft is not valid.", errors=[{"pointer": "#/current_page", "detail": "unknown"}])
    draft.answers = clean_answers(definition, body["answers"])
    draft.current_page = page
    draft.updated_at = utc_now()
    db_session().commit()
    return private(draft_document(draft))


@api.delete("/me/drafts/<draft_id>")
@scrubbed
def delete_draft(draft_id: str) -> Response:
    """Delete one of the principal's drafts."""
    identity = require_identity()
    session = db_session()
    session.delete(_draft(identity, draft_id))
    session.commit()
    return private(None, 204)


# --- applications ----------------------------------------------------------------------------------------------


def _created(payload: dict[str, Any], status: int, replayed: bool = False) -> Response:
    headers = {"Location": f"{API_PREFIX}/me/applications/{payload['id']}"} if status == 201 else {}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return private(payload, status, headers)


@api.post("/applications")
@scrubbed
def submit_application() -> Response:
    """Submit an application from a draft or from answers given in full; safe to retry with the same key."""
    identity = require_identity()
    body = json_object()
    payload, status, replayed = run_once(identity.principal, body, lambda claim: _submit(identity, body, claim))
    return _created(payload, status, replayed=replayed)


def _submit(identity: Identity, body: dict[str, Any], claim: Claim) -> dict[str, Any]:
    """Validate and store one application; the key is completed in the same transaction."""
    draft_id: str | None = None
    if "draft_id" in body:
        check_fields(body, {"draft_id": str}, {})
        draft = _draft(identity, body["draft_id"])
        draft_id = draft.id
        service = _open_service(identity, draft.service.id)
        form, version, raw = draft.form, draft.form_version, draft.answers
    else:
        check_fields(body, {"service": str, "form": str, "form_version": int, "answers": dict}, {})
        if not 1 <= body["form_version"] <= MAX_FORM_VERSION:
            raise ApiProblem(
                422, "The request body is not valid.", errors=[{"pointer": "#/form_version", "detail": "invalid"}]
            )
        service = _open_service(identity, body["service"])
        form, version, raw = body["form"], body["form_version"], body["answers"]
    stored = _form(service, form, version)
    session = db_session()
    definition = loaded(stored)
    answers, errors, file_ids = checked_answers(session, definition, stored.answers_schema, raw, identity)
    if errors:
        raise ApiProblem(422, "The answers are not valid; `errors` lists each problem.", errors=errors)

    application_id = new_id()
    for attempt in range(_REFERENCE_ATTEMPTS):
        try:
            if not hold_key(session, claim):
                raise in_flight()  # our claim went stale and another request took it over
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
            _attach(session, identity, file_ids, application.id)
            # A fee due before processing holds the application (awaiting_payment) and its case out of every queue
            # until the payment provider reports it paid (registry/models/payments.py, docs/processing.md).
            start_case(session, application, service, defer=await_payment(session, application, service))
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
@scrubbed
def my_applications() -> Response:
    """List the principal's applications, newest first, with their status."""
    identity = require_identity()
    page, per_page = paging()
    rows, total = list_applications(db_session(), identity.principal, page, per_page)
    return private({"items": [application_item(a) for a in rows], "total": total, "page": page, "per_page": per_page})


def own_application(identity: Identity, application_id: str) -> Application:
    """Return one of the principal's applications; any other id is a 404 (ids reveal nothing)."""
    found = get_application(db_session(), identity.principal, resource_id(application_id, "application"))
    if found is None:
        raise ApiProblem(404, "There is no such application.")
    return found


@api.get("/me/applications/<application_id>")
@scrubbed
def my_application(application_id: str) -> Response:
    """Return one of the principal's applications with its answers, timeline and, once decided, the decision."""
    application = own_application(require_identity(), application_id)
    decision = decision_document(decision_event(db_session(), application))
    return private(application_document(application, decision))


@api.post("/me/applications/<application_id>/withdraw")
@scrubbed
def withdraw(application_id: str) -> Response:
    """Withdraw an application that has not been decided yet."""
    identity = require_identity()
    application = own_application(identity, application_id)
    session = db_session()
    withdrawn = withdraw_application(session, identity.principal, application.id)
    if withdrawn:
        session.commit()
    else:
        session.rollback()
    session.expire_all()  # the row and its timeline may have changed behind the loaded object
    current = own_application(identity, application_id)
    if not withdrawn:
        raise ApiProblem(409, f"An application that is {current.status.replace('_', ' ')} cannot be withdrawn.")
    return private(application_document(current))


@api.post("/me/applications/<application_id>/information")
@scrubbed
def answer_information_request(application_id: str) -> Response:
    """Answer the institution's request for more information; the case goes back to the step that asked."""
    identity = require_identity()
    application = own_application(identity, application_id)
    body = json_object()
    check_fields(body, {"text": str}, {"files": list})
    text = body["text"].strip()
    if not text or len(text) > MAX_INFORMATION_TEXT:
        errors = [{"pointer": "#/text", "detail": "required" if not text else "too_long"}]
        raise ApiProblem(422, "The answer is not valid.", errors=errors)
    session = db_session()
    file_ids = _own_unattached_files(identity, body.get("files") or [])
    try:
        answer_information(session, application, text, file_ids)
    except CaseProblem as error:
        session.rollback()
        raise ApiProblem(error.status, error.detail) from None
    try:
        _attach(session, identity, file_ids, application.id)
    except ApiProblem:
        session.rollback()
        raise
    session.commit()
    session.expire_all()
    return private(application_document(own_application(identity, application_id)))


def _attach(session: Any, identity: Identity, file_ids: set[str], application_id: str) -> None:
    """Attach the files to the application, or refuse if another application took one at the same moment."""
    try:
        attach_files(session, identity.principal, file_ids, application_id)
    except FilesTaken:
        errors = [{"pointer": "#/answers", "detail": "file.missing"}]
        raise ApiProblem(
            422, "A file was attached to another application meanwhile; upload it again.", errors=errors
        ) from None


def _own_unattached_files(identity: Identity, ids: list[Any]) -> set[str]:
    """Return the ids if each names an upload of the principal's that no application has taken; 422 otherwise."""
    errors = []
    for index, file_id in enumerate(ids):
        found = get_file(db_session(), identity.principal, file_id) if isinstance(file_id, str) else None
        if found is None or found.application_id is not None:
            errors.append({"pointer": f"#/files/{index}", "detail": "file.missing"})
    if errors:
        raise ApiProblem(422, "The answer is not valid.", errors=errors)
    return {str(file_id) for file_id in ids}
