"""Institutions serving each other (level 5): a data request from a case to another institution, and its answer.

A request is of a kind (registry/seed/data_requests: who answers it, who may ask it, its answer form) or, for
anything no kind covers, a free-text question to an institution the asker chooses. The requesting institution must be
working on the case (its step is current); the asked institution sees only the question and whom it is about (the
applicant's code), never the application itself. A kind's request is answered with its answer form (the answers are
checked by the API against the form, as step forms are); a free-text one with text. The question and the answer go
into the case's audit trail. Every query filters by the asking or the asked institution.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from registry.catalogue.data_request_kinds import Kind
from registry.models.applications import new_id, timestamp, utc_now
from registry.models.cases import CaseProblem
from registry.models.data_request_kinds import get_kind, loaded_kind
from registry.models.tables import Application, CaseEvent, DataRequest, DataRequestKind, Institution

MAX_TEXT = 5000


def ask(
    session: Session,
    case: Application,
    institution: str,
    actor_sub: str,
    actor_name: str,
    *,
    kind: str | None = None,
    to: str | None = None,
    text: str = "",
) -> DataRequest:
    """Send a question about the case's applicant to another institution (the caller commits).

    With a `kind`, the kind says whom to ask (`to`, if given, must be that institution) and `text` is an optional
    note; without one, `to` and the question `text` are required.
    """
    if case.current_institution != institution or case.status not in ("submitted", "in_progress"):
        raise CaseProblem(409, "Only the institution working on an open case asks others about it.")
    note = text.strip()
    if len(text) > MAX_TEXT:
        raise CaseProblem(422, f"Write at most {MAX_TEXT} characters.", "text")
    row: DataRequestKind | None = None
    if kind is not None:
        row = get_kind(session, kind)
        if row is None:
            raise CaseProblem(422, f"There is no data request kind {kind!r}.", "kind")
        found = loaded_kind(row)
        _check_kind(found, institution, case.principal)
        if to is not None and to != found.answered_by:
            raise CaseProblem(422, f"A request of the kind {kind!r} goes to {found.answered_by!r}.", "to_institution")
        to = found.answered_by
    else:
        if to is None or to == institution or session.get(Institution, to) is None:
            raise CaseProblem(422, "Ask another institution that the registry knows.", "to_institution")
        if not note:
            raise CaseProblem(422, "Write the question (or choose a kind of request).", "text")
    request = DataRequest(
        id=new_id(),
        application_id=case.id,
        from_institution=institution,
        to_institution=to,
        subject=case.principal,
        text=note,
        asked_by_sub=actor_sub,
        asked_by_name=actor_name,
        asked_at=utc_now(),
        status="open",
        kind=row.id if row is not None else None,
        form_version=row.version if row is not None else None,
    )
    session.add(request)
    # The audit trail is kept in Latvian, the registry's working language; the portal shows the kind's own titles.
    what = loaded_kind(row).title["lv"] if row is not None else ""
    session.add(
        CaseEvent(
            application_id=case.id,
            at=request.asked_at,
            kind="data_request",
            step=case.current_step,
            institution=institution,
            actor_sub=actor_sub,
            actor_name=actor_name,
            form=request.kind,
            form_version=request.form_version,
            text=f"{to}: " + "\n".join(part for part in (what, note) if part),
        )
    )
    return request


def _check_kind(kind: Kind, institution: str, principal: str) -> None:
    if kind.answered_by == institution:
        raise CaseProblem(422, "Your institution answers this kind of request itself.", "kind")
    if not kind.may_be_asked_by(institution):
        raise CaseProblem(403, f"Your institution may not ask requests of the kind {kind.id!r}.", "kind")
    if not kind.is_about(principal):
        about = " or ".join(kind.about)
        raise CaseProblem(422, f"A request of the kind {kind.id!r} is about a {about}, not this applicant.", "kind")


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


def of_case(session: Session, case: Application) -> list[DataRequest]:
    """Return every request asked from a case, oldest first (for those who may see the case)."""
    stmt = select(DataRequest).where(DataRequest.application_id == case.id)
    return list(session.scalars(stmt.order_by(DataRequest.asked_at, DataRequest.id)))


def get_for(session: Session, institution: str, request_id: str) -> DataRequest | None:
    """Return a request the institution asked or was asked; None for any other."""
    return session.scalar(
        select(DataRequest).where(
            DataRequest.id == request_id,
            or_(DataRequest.to_institution == institution, DataRequest.from_institution == institution),
        )
    )


def check_answerable(request: DataRequest, institution: str) -> None:
    """Refuse answering a request the institution was not asked (403), or one answered already (409)."""
    if request.to_institution != institution:
        raise CaseProblem(403, "Only the asked institution answers the request.")
    if request.status != "open":
        raise CaseProblem(409, "The request is answered already.")


def answer_form_of(session: Session, request: DataRequest) -> DataRequestKind | None:
    """Return the kind version a request was asked with (its answer form); None for a free-text request."""
    if request.kind is None:
        return None
    return get_kind(session, request.kind, request.form_version)


def answer(
    session: Session,
    request: DataRequest,
    institution: str,
    answered_by: str,
    *,
    text: str | None = None,
    answers: dict[str, Any] | None = None,
) -> None:
    """Answer an open request the institution was asked: a kind's with its checked `answers`, a free one with text.

    The answers must have been checked against the kind's answer form by the caller (registry.api.answer_checks).
    """
    check_answerable(request, institution)
    if request.kind is not None:
        if answers is None:
            raise CaseProblem(422, "Answer with the kind's answer form (`answers`).", "answers")
        if text is not None:
            raise CaseProblem(422, "A request of a kind is answered with `answers` only.", "text")
    else:
        if answers is not None:
            raise CaseProblem(422, "A free-text question is answered with `text`.", "answers")
        if text is None or not text.strip() or len(text) > MAX_TEXT:
            raise CaseProblem(422, f"Write the answer, at most {MAX_TEXT} characters.", "text")
    now = utc_now()
    # Guarded: of two answers sent at once only one finds the request still open.
    changed = session.execute(
        update(DataRequest)
        .where(DataRequest.id == request.id, DataRequest.status == "open")
        .values(
            status="answered",
            answered_by=answered_by,
            answered_at=now,
            answer=text.strip() if text is not None else None,
            answers=answers,
        )
    ).rowcount  # type: ignore[attr-defined]
    if changed != 1:
        raise CaseProblem(409, "The request has been answered already.")
    session.refresh(request)
    session.add(
        CaseEvent(
            application_id=request.application_id,
            at=now,
            kind="data_answer",
            step=None,
            institution=institution,
            actor_sub=institution[:20],
            actor_name=answered_by,
            form=request.kind,
            form_version=request.form_version,
            answers=answers,
            text=request.answer,
        )
    )


def document(request: DataRequest, *, for_asked: bool) -> dict[str, Any]:
    """The API representation; the asked institution does not get the case id (it has no access to the case)."""
    return {
        "id": request.id,
        "case": None if for_asked else request.application_id,
        "kind": request.kind,
        "form_version": request.form_version,
        "from_institution": request.from_institution,
        "to_institution": request.to_institution,
        "subject": request.subject,
        "text": request.text,
        "asked_by": request.asked_by_name,
        "asked_at": timestamp(request.asked_at),
        "status": request.status,
        "answer": request.answer,
        "answers": request.answers,
        "answered_by": request.answered_by,
        "answered_at": timestamp(request.answered_at) if request.answered_at else None,
    }
