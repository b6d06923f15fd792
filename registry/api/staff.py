"""The staff side: an institution's employees see their queue, open cases, take them and decide their steps.

Who is asking comes only from the signed identity (an `employee` with an institution and roles). A case is visible
to the institution whose step it is at and to every institution whose step has worked on it; any other id is 404.
Every decision is idempotent (`Idempotency-Key`) and audited; so is opening a case. docs/processing.md.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, request
from sqlalchemy import select

from identity import Identity
from registry.api import API_PREFIX, api
from registry.api.answer_checks import checked_answers
from registry.api.files import send_file
from registry.api.idempotent import in_flight, run_once
from registry.api.params import choice_param
from registry.api.personal import check_fields, json_object, paging, private, resource_id, scrubbed
from registry.api.problems import ApiProblem
from registry.db import db_session
from registry.identity import current_identity, require_employee
from registry.models.applications import timestamp, utc_now
from registry.models.cases import (
    OPEN,
    CaseProblem,
    Decision,
    assign,
    check_decision,
    claim,
    colleagues,
    decide,
    get_case,
    process_of,
    queue,
    record_view,
)
from registry.models.cases import release as release_case
from registry.models.files import file_document
from registry.models.forms import get_form, loaded
from registry.models.idempotency import Claim, complete_key, hold_key
from registry.models.notifications import notify_decision
from registry.models.payments import list_payments, payment_document
from registry.models.tables import Application, CaseEvent, StoredFile

STATUSES = (*OPEN, "decided", "withdrawn")
log = logging.getLogger(__name__)


def case_problem(error: CaseProblem) -> ApiProblem:
    # Refused attempts are logged (who by institution, never personal codes), so misuse can be noticed.
    employee = current_identity()
    institution = employee.institution if employee is not None else None
    log.warning("case action refused (%s) for %s %s: %s", error.status, institution, request.path, error.detail)
    errors = [{"pointer": f"#/{error.field}", "detail": error.detail}] if error.field else None
    return ApiProblem(error.status, error.detail, errors=errors)


def staff_case_of(employee: Identity, case_id: str) -> Application:
    found = get_case(db_session(), employee, resource_id(case_id, "case"))
    if found is None:
        raise ApiProblem(404, "There is no such case.")
    return found


def _step_of(case: Application) -> dict[str, Any] | None:
    if case.current_step is None:
        return None
    step = process_of(db_session(), case).step(case.current_step)
    return {"id": step.id, "institution": step.institution, "title": dict(step.title), "form": step.form}


def _item(case: Application) -> dict[str, Any]:
    due = case.due_at
    return {
        "id": case.id,
        "reference": case.reference,
        "service": case.service.id,
        "status": case.status,
        "result": case.result,
        "step": _step_of(case),
        "assigned_to": {"sub": case.assigned_sub, "name": case.assigned_name or ""} if case.assigned_sub else None,
        "submitted_at": timestamp(case.submitted_at),
        "due_at": timestamp(due) if due is not None else None,
        "overdue": due is not None and case.status in OPEN and timestamp(due) < timestamp(utc_now()),
    }


def _event(event: CaseEvent) -> dict[str, Any]:
    return {
        "at": timestamp(event.at),
        "kind": event.kind,
        "step": event.step,
        "institution": event.institution,
        "actor": {"sub": event.actor_sub, "name": event.actor_name},
        "outcome": event.outcome,
        "form": event.form,
        "form_version": event.form_version,
        "answers": event.answers,
        "text": event.text,
    }


def _case_document(case: Application) -> dict[str, Any]:
    session = db_session()
    process = process_of(session, case)
    position = process.index(case.current_step or process.first.id)
    closed = case.status in ("decided", "withdrawn")

    def state(index: int) -> str:
        if index < position or (index == position and closed):
            return "done"
        return "current" if index == position else "waiting"

    step = _step_of(case)
    if step is not None:
        stored = get_form(session, case.service, step["form"])
        step["form_version"] = stored.version if stored is not None else None
    files = session.scalars(select(StoredFile).where(StoredFile.application_id == case.id).order_by(StoredFile.id))
    events = session.scalars(select(CaseEvent).where(CaseEvent.application_id == case.id).order_by(CaseEvent.id))
    return _item(case) | {
        "applicant_name": case.applicant_name,
        "principal": case.principal,
        "acting_for": case.acting_for,
        "form": case.form,
        "form_version": case.form_version,
        "answers": case.answers,
        "files": [file_document(f) for f in files],
        "information_request": case.information_request,
        "process": {
            "version": process.version,
            "steps": [
                {"id": s.id, "institution": s.institution, "title": dict(s.title), "form": s.form, "state": state(i)}
                for i, s in enumerate(process.steps)
            ],
        },
        "step": step,
        "timeline": [_event(e) for e in events],
        # The fees and where their payments stand (registry/models/payments.py).
        "payments": [payment_document(p) for p in list_payments(session, case)],
    }


# --- queue and case --------------------------------------------------------------------------------------------


@api.get("/staff/cases")
@scrubbed
def staff_cases() -> Response:
    """The employee's queue (or every case their institution worked on), filtered, with the queue's counts."""
    employee = require_employee()
    page, per_page = paging()
    found = queue(
        db_session(),
        employee,
        now=utc_now(),
        scope=choice_param("scope", ("queue", "involved")) or "queue",
        service=request.args.get("service") or None,
        status=choice_param("status", STATUSES),
        overdue=choice_param("overdue", ("true", "false")) == "true",
        mine=choice_param("assigned", ("me",)) == "me",
        page=page,
        per_page=per_page,
    )
    return private(
        {
            "items": [_item(c) for c in found.items],
            "total": found.total,
            "page": page,
            "per_page": per_page,
            "counts": found.counts,
        }
    )


@api.get("/staff/cases/<case_id>")
@scrubbed
def staff_case(case_id: str) -> Response:
    """One case with the applicant's answers, files, process and audit trail; opening it is audited."""
    employee = require_employee()
    case = staff_case_of(employee, case_id)
    session = db_session()
    record_view(session, case, employee)
    session.commit()
    return private(_case_document(case))


@api.get("/staff/cases/<case_id>/files/<file_id>")
@scrubbed
def staff_case_file(case_id: str, file_id: str) -> Response:
    """An attachment of the case, as a download that no browser renders."""
    case = staff_case_of(require_employee(), case_id)
    stored = db_session().scalar(
        select(StoredFile).where(StoredFile.id == resource_id(file_id, "file"), StoredFile.application_id == case.id)
    )
    if stored is None:
        raise ApiProblem(404, "The case has no such file.")
    return send_file(stored)


def _act(case_id: str, action: Any) -> Response:
    employee = require_employee()
    case = staff_case_of(employee, case_id)
    session = db_session()
    try:
        action(session, case, employee)
    except CaseProblem as error:
        session.rollback()
        raise case_problem(error) from None
    session.commit()
    session.expire_all()
    return private(_item(staff_case_of(employee, case_id)))


@api.post("/staff/cases/<case_id>/claim")
@scrubbed
def claim_case(case_id: str) -> Response:
    """Take the case (409 if a colleague has it)."""
    return _act(case_id, claim)


@api.get("/staff/colleagues")
@scrubbed
def staff_colleagues() -> Response:
    """The employees of the institution known from its cases, to give a case to."""
    return private({"items": colleagues(db_session(), require_employee())})


@api.post("/staff/cases/<case_id>/assign")
@scrubbed
def assign_case(case_id: str) -> Response:
    """Give the case to a colleague of the same institution (`{"to": <personal code>}`)."""
    body = json_object()
    check_fields(body, {"to": str}, {})
    return _act(case_id, lambda session, case, employee: assign(session, case, employee, body["to"]))


@api.post("/staff/cases/<case_id>/release")
@scrubbed
def release_case_endpoint(case_id: str) -> Response:
    """Give the case back to the queue."""
    return _act(case_id, release_case)


# --- decisions -------------------------------------------------------------------------------------------------


@api.post("/staff/cases/<case_id>/decisions")
@scrubbed
def decide_case(case_id: str) -> Response:
    """Decide the current step (approve, refuse, request_info, return); safe to retry with the same key."""
    employee = require_employee()
    case = staff_case_of(employee, case_id)
    body = json_object()
    check_fields(body, {"step": str, "outcome": str}, {"answers": dict, "text": (str, type(None))})
    payload, status, replayed = run_once(
        f"s:{employee.sub}", {"case": case.id, **body}, lambda key: _decide(employee, case, body, key)
    )
    headers = {"Location": f"{API_PREFIX}/staff/cases/{case.id}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return private(payload, status, headers)


def _decide(employee: Identity, case: Application, body: dict[str, Any], key: Claim) -> dict[str, Any]:
    session = db_session()
    step = _step_of(case)
    stored = get_form(session, case.service, step["form"]) if step is not None else None
    if step is None or stored is None:
        raise ApiProblem(409, "The case has no step to decide.")
    try:
        check_decision(session, case, employee, body["step"], body["outcome"], body.get("text"))
    except CaseProblem as error:
        raise case_problem(error) from None
    answers: dict[str, Any] = body.get("answers") or {}
    if body["outcome"] == "approve":
        # The step form is what approving a step records: it must be filled in as its definition says.
        answers, errors, _ = checked_answers(session, loaded(stored), stored.answers_schema, answers, employee)
        if errors:
            raise ApiProblem(422, "The step form is not valid; `errors` lists each problem.", errors=errors)
    elif answers:
        errors = [{"pointer": "#/answers", "detail": "not_allowed"}]
        raise ApiProblem(422, "Only approving a step fills in its form.", errors=errors)
    decision = Decision(
        step=body["step"],
        outcome=body["outcome"],
        answers=answers,
        text=body.get("text"),
        form=stored.form,
        form_version=stored.version,
    )
    try:
        if not hold_key(session, key):
            raise in_flight()
        event = decide(session, case, employee, decision)
        notify_decision(session, case, event)  # inbox and outbox rows, committed with the decision
        payload = _event(event) | {"case": case.id}
        complete_key(session, key, 201, payload)
        session.commit()
    except CaseProblem as error:
        session.rollback()
        raise case_problem(error) from None
    except BaseException:
        session.rollback()
        raise
    return payload
