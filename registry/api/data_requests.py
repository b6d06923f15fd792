"""Level 5 over HTTP: employees ask another institution from a case and answer what they are asked; institution
systems do the same machine to machine with their institution token (`Authorization: Bearer`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response

from registry.api import API_PREFIX, api
from registry.api.auth import require_publisher
from registry.api.params import choice_param
from registry.api.personal import check_fields, json_object, paging, private, resource_id, scrubbed
from registry.api.problems import ApiProblem
from registry.api.staff import case_problem, staff_case_of
from registry.db import db_session
from registry.identity import require_employee
from registry.models.cases import CaseProblem
from registry.models.data_requests import answer, ask, document, get_for, listed
from registry.models.tables import DataRequest


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
    request = _request(institution, request_id)
    body = json_object()
    check_fields(body, {"text": str}, {})
    session = db_session()
    _apply(lambda: answer(session, request, institution, who, body["text"]))
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
    """Ask another institution about the case's applicant; the question joins the case's audit trail."""
    employee = require_employee()
    case = staff_case_of(employee, case_id)
    body = json_object()
    check_fields(body, {"to_institution": str, "text": str}, {})
    session = db_session()
    request = _apply(
        lambda: ask(
            session, case, employee.institution or "", employee.sub, employee.name, body["to_institution"], body["text"]
        )
    )
    headers = {"Location": f"{API_PREFIX}/staff/data-requests/{request.id}"}
    return private(document(request, for_asked=False), 201, headers)


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


@api.post("/institution/data-requests/<request_id>/answer")
@scrubbed
def institution_answer(request_id: str) -> Response:
    """Answer a request from the institution's own system."""
    institution = require_publisher()
    return _answer(institution, request_id, f"{institution} (sistēma)")
