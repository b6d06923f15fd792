"""Cases: a submitted application moving through its service's process, step by step (docs/processing.md).

The state machine lives here and nowhere else. Every change is a guarded UPDATE (the status and step it starts from
are part of the WHERE), so two employees deciding at once cannot both succeed, and every change appends to the
audit trail (`case_events`); the applicant's timeline (`application_events`) gets the changes they should see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from identity import Identity
from registry.catalogue.processes import Process, Step
from registry.models.applications import RIGA, timestamp, utc_now
from registry.models.payments import charge_after_decision
from registry.models.processes import get_process
from registry.models.results import record_decision
from registry.models.tables import Application, ApplicationEvent, CaseEvent, Service

OUTCOMES = ("approve", "refuse", "request_info", "return")
WORKABLE = ("submitted", "in_progress")
OPEN = ("submitted", "in_progress", "more_info_requested")
# The decisions that need a written reason (refusing needs its legal reasoning; asking and returning say why).
NEEDS_TEXT = ("refuse", "request_info", "return")
MAX_TEXT = 5000
_DURATION = re.compile(r"P(?:(\d+)W)?(?:(\d+)D)?|P(\d+)M")


class CaseProblem(Exception):
    """A refused action on a case: the HTTP status, the reason, and the field it is about."""

    def __init__(self, status: int, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field


# --- due dates -------------------------------------------------------------------------------------------------


def processing_days(duration: object) -> int | None:
    """Return the working days an ISO 8601 processing time allows (`P10D`, `P2W`, `P1M` as 21), or None."""
    match = _DURATION.fullmatch(duration) if isinstance(duration, str) else None
    if match is None or not any(match.groups()):
        return None
    weeks, days, months = (int(g) if g else 0 for g in match.groups())
    return weeks * 5 + days + months * 21


def add_working_days(start: datetime, days: int) -> datetime:
    """Return the moment `days` working days (Monday to Friday, Riga time) after `start`; public holidays count."""
    moment = start.astimezone(RIGA)
    added = 0
    while added < days:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            added += 1
    return moment


# --- starting a case -------------------------------------------------------------------------------------------


def start_case(
    session: Session,
    application: Application,
    service: Service,
    *,
    defer: bool = False,
    begins: datetime | None = None,
) -> None:
    """Put a new application in the first step's queue, if its service has a process (the caller commits).

    `defer`: a fee is due before processing (registry/models/payments.py). The case gets its process and first step
    but no institution (so no queue holds it and no employee can open it) and no due date; once paid, payments calls
    this again with `begins`, the moment the processing time starts counting (default: the submission).
    """
    process = get_process(session, service)
    if process is None:
        return
    application.process_version = process.version
    application.current_step = process.first.id
    application.current_institution = None if defer else process.first.institution
    days = processing_days(service.document.get("processing_time"))
    start = begins or application.submitted_at
    application.due_at = add_working_days(start, days) if days is not None and not defer else None


def process_of(session: Session, case: Application) -> Process:
    """Return the process version a case follows (remembered for the session: a queue page shows many cases)."""
    key = ("process", case.service_pk, case.process_version)
    if key in session.info:
        found: Process = session.info[key]
        return found
    process = get_process(session, case.service, case.process_version)
    if process is None:  # pragma: no cover - a case only gets a process version that is stored
        raise CaseProblem(409, "The case has no process.")
    session.info[key] = process
    return process


# --- who sees what ---------------------------------------------------------------------------------------------


def _worked_on_by(institution: str) -> ColumnElement[bool]:
    # IN over the institution's own events (indexed by institution), not a correlated EXISTS per application.
    worked = select(CaseEvent.application_id).where(
        CaseEvent.institution == institution, CaseEvent.kind.in_(("decision", "claim"))
    )
    return Application.id.in_(worked)


def get_case(session: Session, employee: Identity, case_id: str) -> Application | None:
    """Return a case the employee's institution works on now or has worked on; None for any other."""
    institution = employee.institution or ""
    return session.scalar(
        select(Application).where(
            Application.id == case_id,
            Application.process_version.is_not(None),
            or_(Application.current_institution == institution, _worked_on_by(institution)),
        )
    )


@dataclass(frozen=True)
class Queue:
    items: list[Application]
    total: int
    counts: dict[str, int]


def queue(
    session: Session,
    employee: Identity,
    *,
    now: datetime,
    scope: str = "queue",
    service: str | None = None,
    status: str | None = None,
    overdue: bool = False,
    mine: bool = False,
    page: int = 1,
    per_page: int = 20,
) -> Queue:
    """Return one page of the employee's institution's cases, the total, and the counts of its open queue."""
    institution = employee.institution or ""
    in_queue = and_(Application.current_institution == institution, Application.status.in_(OPEN))
    base = in_queue if scope == "queue" else or_(in_queue, _worked_on_by(institution))
    filters: list[ColumnElement[bool]] = [base, Application.process_version.is_not(None)]
    if service is not None:
        filters.append(Application.service_pk == select(Service.pk).where(Service.id == service).scalar_subquery())
    if status is not None:
        filters.append(Application.status == status)
    is_overdue = and_(Application.due_at < now, Application.status.in_(OPEN))
    if overdue:
        filters.append(is_overdue)
    if mine:
        filters.append(Application.assigned_sub == employee.sub)
    total = session.scalar(select(func.count()).select_from(Application).where(*filters)) or 0
    rows = session.scalars(
        select(Application)
        .where(*filters)
        .order_by(Application.due_at.is_(None), Application.due_at, Application.submitted_at, Application.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()

    def count(*where: ColumnElement[bool]) -> int:
        return session.scalar(select(func.count()).select_from(Application).where(in_queue, *where)) or 0

    counts = {
        "open": count(),
        "overdue": count(is_overdue),
        "mine": count(Application.assigned_sub == employee.sub),
        "more_info_requested": count(Application.status == "more_info_requested"),
    }
    return Queue(items=list(rows), total=total, counts=counts)


# --- actions ---------------------------------------------------------------------------------------------------


def _event(case: Application, employee: Identity, kind: str, **fields: Any) -> CaseEvent:
    return CaseEvent(
        application_id=case.id,
        at=utc_now(),
        kind=kind,
        institution=employee.institution,
        actor_sub=employee.sub,
        actor_name=employee.name,
        **fields,
    )


def record_view(session: Session, case: Application, employee: Identity) -> None:
    """Audit that an employee opened a case (personal data was shown)."""
    session.add(_event(case, employee, "view", step=case.current_step))


def _current_step(session: Session, case: Application, employee: Identity) -> Step:
    """Return the current step if the employee's institution owns it and the case can be worked on now."""
    if case.current_institution != employee.institution:
        raise CaseProblem(403, "The case is at a step of another institution.")
    if case.status not in WORKABLE:
        raise CaseProblem(409, f"An application that is {case.status.replace('_', ' ')} cannot be worked on now.")
    return process_of(session, case).step(case.current_step or "")


def claim(session: Session, case: Application, employee: Identity) -> None:
    """Take the case: it is the employee's until they decide or release it; 409 if a colleague has it."""
    step = _current_step(session, case, employee)
    if case.assigned_sub not in (None, employee.sub):
        raise CaseProblem(409, f"{case.assigned_name} is working on this case.")
    first_touch = case.status == "submitted"  # read before the UPDATE refreshes the loaded case
    changed = session.execute(
        update(Application)
        .where(Application.id == case.id, Application.current_step == step.id, Application.status.in_(WORKABLE))
        .where(or_(Application.assigned_sub.is_(None), Application.assigned_sub == employee.sub))
        .values(assigned_sub=employee.sub, assigned_name=employee.name, status="in_progress", updated_at=utc_now())
    ).rowcount  # type: ignore[attr-defined]
    if changed != 1:
        raise CaseProblem(409, "The case changed meanwhile; open it again.")
    if first_touch:
        session.add(ApplicationEvent(application_id=case.id, at=utc_now(), status="in_progress", actor="institution"))
    session.add(_event(case, employee, "claim", step=step.id))


def release(session: Session, case: Application, employee: Identity) -> None:
    """Give the case back to the queue (only its holder can)."""
    step = _current_step(session, case, employee)
    if case.assigned_sub != employee.sub:
        raise CaseProblem(409, "Only the employee working on the case can release it.")
    session.execute(
        update(Application)
        .where(Application.id == case.id, Application.assigned_sub == employee.sub)
        .values(assigned_sub=None, assigned_name=None, updated_at=utc_now())
    )
    session.add(_event(case, employee, "release", step=step.id))


def colleagues(session: Session, employee: Identity) -> list[dict[str, str]]:
    """Return the employees of the employee's institution known from its cases' audit trails (and the employee).

    The registry keeps no staff directory (the identity provider does); these are the people a case can be given to.
    """
    rows = session.execute(
        select(CaseEvent.actor_sub, func.max(CaseEvent.actor_name))
        .where(CaseEvent.institution == employee.institution, CaseEvent.kind.in_(("decision", "claim", "assign")))
        .group_by(CaseEvent.actor_sub)
    ).all()
    known = {sub: name for sub, name in rows} | {employee.sub: employee.name}
    return [{"sub": sub, "name": name} for sub, name in sorted(known.items(), key=lambda item: item[1])]


def assign(session: Session, case: Application, employee: Identity, to_sub: str) -> None:
    """Give the case to a colleague of the same institution (or take it), whoever has it now."""
    step = _current_step(session, case, employee)
    colleague = next((c for c in colleagues(session, employee) if c["sub"] == to_sub), None)
    if colleague is None:
        raise CaseProblem(422, "Give the case to a colleague of your institution.", "to")
    first_touch = case.status == "submitted"
    session.execute(
        update(Application)
        .where(Application.id == case.id, Application.current_step == step.id, Application.status.in_(WORKABLE))
        .values(
            assigned_sub=colleague["sub"], assigned_name=colleague["name"], status="in_progress", updated_at=utc_now()
        )
    )
    if first_touch:
        session.add(ApplicationEvent(application_id=case.id, at=utc_now(), status="in_progress", actor="institution"))
    session.add(_event(case, employee, "assign", step=step.id, text=colleague["name"]))
    # The colleague now works on the case: their institution's actor list includes them from here on.


@dataclass(frozen=True)
class Decision:
    step: str
    outcome: str
    answers: dict[str, Any]
    text: str | None
    form: str
    form_version: int


def check_outcome(process: Process, step: Step, employee: Identity, outcome: str, text: str | None) -> None:
    """Refuse an outcome this employee may not take at this step, or one without the reason it needs."""
    if outcome not in OUTCOMES:
        raise CaseProblem(422, f"The outcome must be one of {', '.join(OUTCOMES)}.", "outcome")
    deciding = outcome == "refuse" or (outcome == "approve" and process.is_last(step.id))
    if deciding and "decision_maker" not in employee.roles:
        raise CaseProblem(403, "Only a decision maker decides the application.")
    if outcome == "return" and process.before(step.id) is None:
        raise CaseProblem(409, "The first step has no step to return the case to.")
    if outcome in NEEDS_TEXT and not (text or "").strip():
        raise CaseProblem(422, "This outcome needs a written reason.", "text")
    if text is not None and len(text) > MAX_TEXT:
        raise CaseProblem(422, f"The text must be at most {MAX_TEXT} characters.", "text")


def check_decision(
    session: Session, case: Application, employee: Identity, step_id: str, outcome: str, text: str | None
) -> Step:
    """Refuse a decision this employee may not take now (before its form is even read); return the step."""
    process = process_of(session, case)
    step = _current_step(session, case, employee)
    if step_id != step.id:
        raise CaseProblem(409, f"The step {step_id!r} is not the current step of the case.", "step")
    check_outcome(process, step, employee, outcome, text)
    return step


def decide(session: Session, case: Application, employee: Identity, decision: Decision) -> CaseEvent:
    """Apply a checked decision to the current step: move, wait or close the case; audit it (the caller commits)."""
    process = process_of(session, case)
    step = check_decision(session, case, employee, decision.step, decision.outcome, decision.text)
    now = utc_now()
    values: dict[str, Any] = {"updated_at": now, "assigned_sub": None, "assigned_name": None}
    applicant_status: str | None = None
    applicant_note: dict[str, str] | None = None
    if decision.outcome == "approve" and not process.is_last(step.id):
        following = process.after(step.id)
        assert following is not None  # noqa: S101 - not the last step
        values |= {"current_step": following.id, "current_institution": following.institution}
        values |= {"status": "in_progress"}
        # The applicant's timeline shows every step the case reaches, by the step's title (which names the office).
        applicant_status, applicant_note = "in_progress", dict(following.title)
    elif decision.outcome in ("approve", "refuse"):
        values |= {"status": "decided", "result": "approved" if decision.outcome == "approve" else "refused"}
        applicant_status = "decided"
    elif decision.outcome == "request_info":
        request = {"text": decision.text, "at": timestamp(now), "step": step.id}
        values |= {"status": "more_info_requested", "information_request": request}
        values |= {"assigned_sub": case.assigned_sub, "assigned_name": case.assigned_name}
        applicant_status = "more_info_requested"
    else:  # return
        previous = process.before(step.id)
        assert previous is not None  # noqa: S101 - checked by check_outcome
        values |= {"current_step": previous.id, "current_institution": previous.institution, "status": "in_progress"}
    changed = session.execute(
        update(Application)
        .where(Application.id == case.id, Application.current_step == step.id, Application.status.in_(WORKABLE))
        .values(**values)
    ).rowcount  # type: ignore[attr-defined]
    if changed != 1:
        raise CaseProblem(409, "The case changed meanwhile; open it again.")
    if applicant_status is not None:
        session.add(
            ApplicationEvent(
                application_id=case.id, at=now, status=applicant_status, actor="institution", note=applicant_note
            )
        )
    event = _event(
        case,
        employee,
        "decision",
        step=step.id,
        outcome=decision.outcome,
        form=decision.form,
        form_version=decision.form_version,
        answers=decision.answers,
        text=decision.text,
    )
    session.add(event)
    session.flush()
    if applicant_status == "decided":
        # Fees due once approved (registry/models/payments.py) hold the result document back until they are paid.
        fee = charge_after_decision(session, case) if decision.outcome == "approve" else None
        record_decision(session, case, event, issue=fee is None)  # the date and the public verification code
    return event


def answer_information(session: Session, case: Application, text: str, file_ids: set[str]) -> None:
    """The applicant answers a request for more information: the case goes back to the step that asked."""
    now = utc_now()
    changed = session.execute(
        update(Application)
        .where(Application.id == case.id, Application.status == "more_info_requested")
        .values(status="in_progress", information_request=None, updated_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if changed != 1:
        raise CaseProblem(409, "No more information is requested for this application.")
    session.add(ApplicationEvent(application_id=case.id, at=now, status="in_progress", actor="applicant"))
    session.add(
        CaseEvent(
            application_id=case.id,
            at=now,
            kind="information",
            step=case.current_step,
            institution=None,
            actor_sub=case.principal,
            actor_name=case.applicant_name,
            answers={"files": sorted(file_ids)} if file_ids else None,
            text=text,
        )
    )
