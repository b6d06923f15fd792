"""Institutions serving each other (level 5): a data request from a case to another institution, and its answer.

The requesting institution must be working on the case (its step is current); the asked institution sees only the
question and whom it is about (the applicant's code), never the application itself. The answer goes into the
case's audit trail. Every query filters by the asking or the asked institution.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from registry.models.applications import new_id, timestamp, utc_now
from registry.models.cases import CaseProblem
from registry.models.tables import Application, CaseEvent, DataRequest, Institution

MAX_TEXT = 5000


def ask(
    session: Session, case: Application, institution: str, actor_sub: str, actor_name: str, to: str, text: str
) -> DataRequest:
    """Send a question about the case's applicant to another institution (the caller commits)."""
    if case.current_institution != institution or case.status not in ("submitted", "in_progress"):
        raise CaseProblem(409, "Only the institution working on an open case asks others about it.")
    if to == institution or session.get(Institution, to) is None:
        raise CaseProblem(422, "Ask another institution that the registry knows.", "to_institution")
    if not text.strip() or len(text) > MAX_TEXT:
        raise CaseProblem(422, f"Write the question, at most {MAX_TEXT} characters.", "text")
    request = DataRequest(
        id=new_id(),
        application_id=case.id,
        from_institution=institution,
        to_institution=to,
        subject=case.principal,
        text=text.strip(),
        asked_by_sub=actor_sub,
        asked_by_name=actor_name,
        asked_at=utc_now(),
        status="open",
    )
    session.add(request)
    session.add(
        CaseEvent(
            application_id=case.id,
            at=request.asked_at,
            kind="data_request",
            step=case.current_step,
            institution=institution,
            actor_sub=actor_sub,
            actor_name=actor_name,
            text=f"{to}: {request.text}",
        )
    )
    return request


def listed(
    session: Session, institution: str, *, incoming: bool, status: str | None, page: int, per_page: int
) -> tuple[list[DataRequest], int]:
    """Return a page of the requests the institution was asked (incoming) or asked (outgoing), newest first."""
    where = [DataRequest.to_institution == institution if incoming else DataRequest.from_institution == institution]
    if status is not None:
        where.append(DataRequest.status == status)
    total = session.scalar(select(func.count()).select_from(DataRequest).where(*where)) or 0
    rows = session.scalars(
        select(DataRequest)
        .where(*where)
        .order_by(DataRequest.asked_at.desc(), DataRequest.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(rows), total


def get_for(session: Session, institution: str, request_id: str) -> DataRequest | None:
    """Return a request the institution asked or was asked; None for any other."""
    return session.scalar(
        select(DataRequest).where(
            DataRequest.id == request_id,
            or_(DataRequest.to_institution == institution, DataRequest.from_institution == institution),
        )
    )


def answer(session: Session, request: DataRequest, institution: str, answered_by: str, text: str) -> None:
    """Answer an open request the institution was asked; the answer joins the case's audit trail."""
    if request.to_institution != institution:
        raise CaseProblem(403, "Only the asked institution answers the request.")
    if request.status != "open":
        raise CaseProblem(409, "The request is answered already.")
    if not text.strip() or len(text) > MAX_TEXT:
        raise CaseProblem(422, f"Write the answer, at most {MAX_TEXT} characters.", "text")
    now = utc_now()
    request.status, request.answer, request.answered_by, request.answered_at = (
        "answered",
        text.strip(),
        answered_by,
        now,
    )
    session.add(
        CaseEvent(
            application_id=request.application_id,
            at=now,
            kind="data_answer",
            step=None,
            institution=institution,
            actor_sub=institution[:20],
            actor_name=answered_by,
            text=request.answer,
        )
    )


def document(request: DataRequest, *, for_asked: bool) -> dict[str, Any]:
    """The API representation; the asked institution does not get the case id (it has no access to the case)."""
    return {
        "id": request.id,
        "case": None if for_asked else request.application_id,
        "from_institution": request.from_institution,
        "to_institution": request.to_institution,
        "subject": request.subject,
        "text": request.text,
        "asked_by": request.asked_by_name,
        "asked_at": timestamp(request.asked_at),
        "status": request.status,
        "answer": request.answer,
        "answered_by": request.answered_by,
        "answered_at": timestamp(request.answered_at) if request.answered_at else None,
    }
