"""Decision results: when an application was decided and the public code anyone can check its result document with.

A verification code is 12 characters of Crockford's base32 (digits and letters without I, L, O and U) drawn from
`secrets`: 60 bits, so guessing one is hopeless, and easy to type from paper. It is stored and shown the way it is
printed, in groups of four (`7K3M-9QXR-2ABC`); people may type it in any case, with or without dashes, and with the
letters Crockford reads as digits (O as 0, I and L as 1).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from registry.models.applications import timestamp
from registry.models.tables import Application, CaseEvent

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
CODE_LENGTH = 12
GROUP = 4
DECIDING_OUTCOMES = ("approve", "refuse")
_ATTEMPTS = 5
_TYPED = re.compile(r"[0-9A-Za-z]{4}(?:-?[0-9A-Za-z]{4}){2}")
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


class CodeExhausted(RuntimeError):
    """No unused code was found in several draws: the random source is broken, never bad luck."""


def new_code() -> str:
    """Return a fresh random code in its canonical, printed form `XXXX-XXXX-XXXX`."""
    return grouped("".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH)))


def grouped(characters: str) -> str:
    """Return code characters the way people read them: in groups of four joined by dashes."""
    return "-".join(characters[i : i + GROUP] for i in range(0, len(characters), GROUP))


def canonical_code(typed: object) -> str | None:
    """Return the canonical (printed) form of a code as somebody typed it, or None if it cannot be one.

    Case does not matter, dashes between the groups are optional, surrounding spaces are ignored, and O, I and L
    are read as 0, 1 and 1 (Crockford's base32 has no such letters, so nobody's code is mistaken for another).
    """
    if not isinstance(typed, str):
        return None
    text = typed.strip()
    if _TYPED.fullmatch(text) is None:
        return None
    characters = text.replace("-", "").upper().translate(_READ_AS)
    return grouped(characters) if all(c in ALPHABET for c in characters) else None


def record_decision(session: Session, case: Application, event: CaseEvent, *, issue: bool = True) -> str | None:
    """Mark the case decided at the decision's time and, unless a fee holds it back, issue its result document.

    `issue=False` is for an approval whose fee is due after the decision (registry/models/payments.py): the
    decision is known, but the result document, and so its verification code, exists only once the fee is paid
    (`issue_result`). The caller commits. Returns the code, or None while the result is held back.
    """
    session.execute(
        update(Application)
        .where(Application.id == case.id, Application.decided_at.is_(None))
        .values(decided_at=event.at)
    )
    return issue_result(session, case) if issue else None


def issue_result(session: Session, case: Application) -> str:
    """Give a decided case's result document a unique code (the caller commits); a case that has one keeps it.

    A code already taken (never seen in practice: 32**12 codes) is drawn again; the unique constraint on the column
    stays the last guard.
    """
    if case.verification_code is not None:
        return case.verification_code
    for _attempt in range(_ATTEMPTS):
        code = new_code()
        if session.scalar(select(Application.id).where(Application.verification_code == code)) is None:
            break
    else:  # pragma: no cover - only a broken random source gets here
        raise CodeExhausted("no unused verification code found")
    session.execute(
        update(Application)
        .where(Application.id == case.id, Application.verification_code.is_(None))
        .values(verification_code=code)
    )
    return code


def decision_event(session: Session, application: Application) -> CaseEvent | None:
    """Return the decision that decided the application (the last approve or refuse), or None if not decided."""
    if application.status != "decided":
        return None
    return session.scalar(
        select(CaseEvent)
        .where(
            CaseEvent.application_id == application.id,
            CaseEvent.kind == "decision",
            CaseEvent.outcome.in_(DECIDING_OUTCOMES),
        )
        .order_by(CaseEvent.id.desc())
        .limit(1)
    )


def find_result(session: Session, code: str) -> Application | None:
    """Return the decided application whose result document has this canonical code, or None."""
    return session.scalar(
        select(Application).where(Application.verification_code == code, Application.status == "decided")
    )


def decision_document(event: CaseEvent | None) -> dict[str, Any] | None:
    """Return what the applicant is told about the decision: outcome, reasoning, who decided it, and when."""
    if event is None:
        return None
    return {
        "outcome": event.outcome,
        "text": event.text,
        "institution": event.institution,
        "decided_by": event.actor_name,
        "at": timestamp(event.at),
    }


def verification_document(application: Application, event: CaseEvent | None) -> dict[str, Any]:
    """Return the public facts of a result document: nothing about the person, their answers or the official."""
    decided_at = application.decided_at or (event.at if event is not None else None)
    return {
        "reference": application.reference,
        "service": application.service.id,
        "result": application.result,
        "decided_at": timestamp(decided_at) if decided_at is not None else None,
        "institution": event.institution if event is not None else application.current_institution,
    }
