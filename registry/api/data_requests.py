"""Level 5 over HTTP: employees ask another institution from a case and answer what they are asked; institution
systems do the same machine to machine with their institution token (`Authorization: Bearer`).

The kinds of request and their answer forms are public, like service forms: what one institution may ask another
is part of the catalogue, and holds no personal data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response

from registry.api import API_PREFIX, api
from registry.api.answer_checks import checked_answers
from registry.api.auth import require_publisher
from registry.api.params import choice_param
from registry.api.personal import check_fields, json_object, paging, private, resource_id, scrubbed
from registry.api.problems import ApiProblem
from registry.api.responses import json_response
from registry.api.staff import case_problem, staff_case_of
from registry.db import db_session
from registry.identity import require_employee
from registry.models.cases import CaseProblem
from registry.models.data_request_kinds import get_kind, kind_document, kind_summary, loaded_kind, newest_kinds
from registry.models.data_requests import (
    answer,
    answer_form_of,
    ask,
    check_answerable,
    document,
    get_for,
    listed,
    of_case,
)
from registry.models.tables import DataRequest

# --- kinds (public) --------------------------------------------------------------------------------------------


@api.get("/data-request-kinds")
def data_request_kinds() -> Response:
    """Every kind of data request (its newest version): who answers it, who may ask it, about whom."""
    items = [kind_summary(row) for row in newest_kinds(db_session())]
    return json_response({"items": items, "total": len(items)})


def _kind(kind_id: str, version: int | None) -> Response:
    row = get_kind(db_session(), kind_id, version)
    if row is None:
        which = f"version {version} of " if version is not None else ""
        raise ApiProblem(404, f"There is no {which}data request kind '{kind_id}'.")
    return json_response(kind_document(row))


@api.get("/data-request-kinds/<slug:kind_id>")
def data_request_kind(kind_id: str) -> Response:
    """The newest version of a kind, with its answer form and the answers' JSON Schema."""
    return _kind(kind_id, None)


@api.get("/data-request-kinds/<slug:kind_id>/versions/<int:version>")
def data_request_kind_version(kind_id: str, version: int) -> Response:
    """One version of a kind: a request is answered in the version it was asked with."""
    return _kind(kind_id, version)


# --- requests --------------------------------------------------------------------------------------------------


def _list(institution: str) -> Response:
    page, per_page = paging()
    incoming = (choice_param("direction", ("incoming", "outgoing")) or "incoming") == "incoming"
    rows, total = listed(
        db_session(),
        institution,
        incoming=incoming,
        status=choice_param("status", ("open", "answered")),
        page=page,
        per_page=per_page,
    )
    items = [document(r, for_asked=r.to_institution == institution) for r in rows]
    return private({"items": items, "total": total, "page": page, "per_page": per_page})


def _request(institution: str, request_id: str) -> DataRequest:
    found = get_for(db_session(), institution, resource_id(request_id, "data request"))
    if found is None:
        raise ApiProblem(404, "There is no such data request.")
    return found


def _answer(institution: str, request_id: str, who: str) -> Response:
    """Answer a request: who may and whether it is open first, then the body, then the answers against the form."""
    request = _request(institution, request_id)
    session = db_session()
    try:
        check_answerable(request, institution)
    except CaseProblem as error:
        raise case_problem(error) from None
    body = json_object()
    check_fields(body, {}, {"text": str, "answers": dict})
    answers: dict[str, Any] | None = body.get("answers")
    stored = answer_form_of(session, request)
    if stored is not None and answers is not None:
        # Checked like a step form: unknown or hidden answers, the forms package's checks, the stored JSON Schema.
        answers, errors, _ = checked_answers(
            session, loaded_kind(stored).answer_form, stored.answers_schema, answers, None
        )
        if errors:
            raise ApiProblem(422, "The answers do not fit the answer form; `errors` lists each problem.", errors=errors)
    _apply(lambda: answer(session, request, institution, who, text=body.get("text"), answers=answers))
    return private(document(request, for_asked=True))


def _apply(action: Callable[[], Any]) -> Any:
    session = db_session()
    try:
        result = action()
    except CaseProblem as error:
        session.rollback()
        raise case_problem(error) from None
    session.commit()
    return result


# --- employees -------------------------------------------------------------------------------------------------


@api.post("/staff/cases/<case_id>/data-requests")
@scrubbed
def ask_from_case(case_id: str) -> Response:
    """Ask another institution about the case's applicant: a kind of request, or a free-text question."""
    employee = require_employee()
    case = staff_case_of(employee, case_id)
    body = json_object()
    check_fields(body, {}, {"kind": (str, type(None)), "to_institution": str, "text": str})
    session = db_session()
    request = _apply(
        lambda: ask(
            session,
            case,
            employee.institution or "",
            employee.sub,
            employee.name,
            kind=body.get("kind"),
            to=body.get("to_institution"),
            text=body.get("text", ""),
        )
    )
    headers = {"Location": f"{API_PREFIX}/staff/data-requests/{request.id}"}
    return private(document(request, for_asked=False), 201, headers)


@api.get("/staff/cases/<case_id>/data-requests")
@scrubbed
def case_data_requests(case_id: str) -> Response:
    """Every request asked from the case, with its answer: for anyone who may see the case."""
    case = staff_case_of(require_employee(), case_id)
    items = [document(r, for_asked=False) for r in of_case(db_session(), case)]
    return private({"items": items, "total": len(items)})


@api.get("/staff/data-requests")
@scrubbed
def staff_data_requests() -> Response:
    """The requests the employee's institution was asked (`direction=incoming`, default) or asked."""
    return _list(require_employee().institution or "")


@api.get("/staff/data-requests/<request_id>")
@scrubbed
def staff_data_request(request_id: str) -> Response:
    """One request the employee's institution asked or was asked."""
    institution = require_employee().institution or ""
    request = _request(institution, request_id)
    return private(document(request, for_asked=request.to_institution == institution))


@api.post("/staff/data-requests/<request_id>/answer")
@scrubbed
def staff_answer(request_id: str) -> Response:
    """Answer a request the employee's institution was asked."""
    employee = require_employee()
    return _answer(employee.institution or "", request_id, employee.name)


# --- institution systems (machine to machine) -------------------------------------------------------------------


@api.get("/institution/data-requests")
@scrubbed
def institution_data_requests() -> Response:
    """The requests the token's institution was asked or asked, for its own system."""
    return _list(require_publisher())


@api.get("/institution/data-requests/<request_id>")
@scrubbed
def institution_data_request(request_id: str) -> Response:
    """One request the token's institution asked or was asked, for its own system."""
    institution = require_publisher()
    request = _request(institution, request_id)
    return private(document(request, for_asked=request.to_institution == institution))


@api.post("/institution/data-requests/<request_id>/answer")
@scrubbed
def institution_answer(request_id: str) -> Response:
    """Answer a request from the institution's own system."""
    institution = require_publisher()
    return _answer(institution, request_id, f"{institution} (sistēma)")
