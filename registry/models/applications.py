"""Drafts and applications of one principal: store, list, read, withdraw, and their API representations.

Every query here filters by the principal, so an id of somebody else's draft or application finds nothing.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from registry.models.tables import Application, ApplicationEvent, Draft, Service

RIGA = ZoneInfo("Europe/Riga")
REFERENCE_PREFIX = "PT"
# awaiting_payment: submitted, but a fee is due before processing (registry/models/payments.py); it can be withdrawn.
OPEN_STATUSES = ("awaiting_payment", "submitted", "in_progress", "more_info_requested")
STATUSES = (*OPEN_STATUSES, "decided", "withdrawn")


def new_id() -> str:
    """Return a random, unguessable 32-hex id."""
    return secrets.token_hex(16)


def utc_now() -> datetime:
    """Return the current time in UTC (stored to the microsecond so "newest first" is stable; shown to the second)."""
    return datetime.now(UTC)


def timestamp(moment: datetime) -> str:
    """Return an API timestamp `2026-11-28T10:15:00Z`; SQLite hands back naive UTC datetimes."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --- drafts ----------------------------------------------------------------------------------------------------


def create_draft(session: Session, principal: str, service: Service, form: str, form_version: int) -> Draft:
    """Start an empty draft of a form version."""
    now = utc_now()
    draft = Draft(
        id=new_id(),
        principal=principal,
        service_pk=service.pk,
        form=form,
        form_version=form_version,
        answers={},
        current_page=None,
        created_at=now,
        updated_at=now,
    )
    draft.service = service
    session.add(draft)
    return draft


def get_draft(session: Session, principal: str, draft_id: str) -> Draft | None:
    """Return the principal's draft with this id, or None (also when it is somebody else's)."""
    return session.scalar(select(Draft).where(Draft.id == draft_id, Draft.principal == principal))


def list_drafts(session: Session, principal: str, page: int, per_page: int) -> tuple[list[Draft], int]:
    """Return one page of the principal's drafts, most recently saved first, and how many there are."""
    total = session.scalar(select(func.count()).select_from(Draft).where(Draft.principal == principal)) or 0
    rows = session.scalars(
        select(Draft)
        .where(Draft.principal == principal)
        .order_by(Draft.updated_at.desc(), Draft.created_at.desc(), Draft.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(rows), total


def consume_draft(session: Session, principal: str, draft_id: str) -> bool:
    """Delete a draft being submitted; False if it is already gone (submitted or deleted by a concurrent request)."""
    result = session.execute(delete(Draft).where(Draft.id == draft_id, Draft.principal == principal))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def draft_document(draft: Draft) -> dict[str, Any]:
    """Return the API representation of a draft."""
    return {
        "id": draft.id,
        "service": draft.service.id,
        "form": draft.form,
        "form_version": draft.form_version,
        "answers": draft.answers,
        "current_page": draft.current_page,
        "created_at": timestamp(draft.created_at),
        "updated_at": timestamp(draft.updated_at),
    }


# --- applications ----------------------------------------------------------------------------------------------


# The key of the PostgreSQL advisory lock that hands out reference numbers (with the year as its second part).
_REFERENCE_LOCK = 7204


def _next_reference(session: Session, year: int) -> tuple[int, str]:
    """Return the next number of the year and its reference.

    On PostgreSQL concurrent submissions would read the same largest number: an advisory lock of the year, held until
    the transaction ends, hands the numbers out one at a time (the benchmark's parallel submissions found this).
    SQLite writes one transaction at a time anyway. The unique constraint stays the last guard.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_REFERENCE_LOCK, year)))
    last = session.scalar(select(func.max(Application.reference_number)).where(Application.reference_year == year))
    number = (last or 0) + 1
    return number, f"{REFERENCE_PREFIX}-{year}-{number:06d}"


def store_application(
    session: Session,
    *,
    application_id: str,
    principal: str,
    applicant_name: str,
    acting_for: str | None,
    service: Service,
    form: str,
    form_version: int,
    answers: dict[str, Any],
) -> Application:
    """Add a submitted application with the first event of its timeline (the caller commits)."""
    now = utc_now()
    year = now.astimezone(RIGA).year
    number, reference = _next_reference(session, year)
    application = Application(
        id=application_id,
        reference=reference,
        reference_year=year,
        reference_number=number,
        principal=principal,
        applicant_name=applicant_name,
        acting_for=acting_for,
        service_pk=service.pk,
        form=form,
        form_version=form_version,
        answers=answers,
        status="submitted",
        submitted_at=now,
        updated_at=now,
    )
    application.service = service
    application.events = [ApplicationEvent(at=now, status="submitted", actor="applicant", note=None)]
    session.add(application)
    session.flush()
    return application


def get_application(session: Session, principal: str, application_id: str) -> Application | None:
    """Return the principal's application with this id, or None (also when it is somebody else's)."""
    return session.scalar(
        select(Application).where(Application.id == application_id, Application.principal == principal)
    )


def list_applications(session: Session, principal: str, page: int, per_page: int) -> tuple[list[Application], int]:
    """Return one page of the principal's applications, newest first, and how many there are."""
    where = Application.principal == principal
    total = session.scalar(select(func.count()).select_from(Application).where(where)) or 0
    rows = session.scalars(
        select(Application)
        .where(where)
        .order_by(
            Application.submitted_at.desc(), Application.reference_year.desc(), Application.reference_number.desc()
        )
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(rows), total


def withdraw_application(session: Session, principal: str, application_id: str) -> bool:
    """Withdraw an open application and record it on the timeline; False if it is not open (the caller commits).

    The status check is part of the UPDATE, so two concurrent withdrawals cannot both succeed.
    """
    now = utc_now()
    result = session.execute(
        update(Application)
        .where(
            Application.id == application_id,
            Application.principal == principal,
            Application.status.in_(OPEN_STATUSES),
        )
        .values(status="withdrawn", updated_at=now)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.add(ApplicationEvent(application_id=application_id, at=now, status="withdrawn", actor="applicant"))
    return True


def _application_fields(application: Application) -> dict[str, Any]:
    """What every representation of an application starts with."""
    return {
        "id": application.id,
        "reference": application.reference,
        "service": application.service.id,
        "form": application.form,
        "form_version": application.form_version,
        "status": application.status,
        "submitted_at": timestamp(application.submitted_at),
    }


def application_item(application: Application) -> dict[str, Any]:
    """Return an application as it appears in a list."""
    return _application_fields(application) | {"updated_at": timestamp(application.updated_at)}


def application_created(application: Application) -> dict[str, Any]:
    """Return the answer to a submission (also what an idempotent replay repeats)."""
    return _application_fields(application) | {"answers": application.answers}


def application_document(application: Application, decision: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return one application in full: answers, who applied, the timeline, and once decided the decision itself.

    `decision` is the decision as registry.models.results.decision_document describes it (None until decided).
    """
    return application_item(application) | {
        "applicant_name": application.applicant_name,
        "acting_for": application.acting_for,
        "result": application.result,
        "decided_at": timestamp(application.decided_at) if application.decided_at is not None else None,
        "verification_code": application.verification_code,
        # Approved, but the result document waits for a fee due after the decision (registry/models/payments.py).
        "result_awaits_payment": application.status == "decided" and application.verification_code is None,
        "decision": decision,
        "information_request": (
            {"text": application.information_request.get("text"), "at": application.information_request.get("at")}
            if application.information_request
            else None
        ),
        "answers": application.answers,
        "timeline": [
            {"at": timestamp(e.at), "status": e.status, "actor": e.actor, "note": e.note} for e in application.events
        ],
    }
