"""The applicant's inbox ("Paziņojumi"): messages about their applications, in lv and en, read or not.

Every query here filters by the principal, so an id of somebody else's message finds nothing (as for applications).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from registry.models.applications import new_id, timestamp, utc_now
from registry.models.tables import Message

# What a message is about; the portal may show each kind differently.
KINDS = ("decision", "information_request", "step", "payment")


def create_message(
    session: Session,
    *,
    principal: str,
    application_id: str | None,
    kind: str,
    subject: dict[str, str],
    body: dict[str, str],
) -> Message:
    """Store a new, unread message for the principal (the caller commits, with whatever caused it)."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    message = Message(
        id=new_id(),
        principal=principal,
        application_id=application_id,
        at=utc_now(),
        kind=kind,
        subject=dict(subject),
        body=dict(body),
        read_at=None,
    )
    session.add(message)
    return message


@dataclass(frozen=True)
class Inbox:
    items: list[Message]
    total: int
    unread: int


def list_messages(session: Session, principal: str, page: int, per_page: int) -> Inbox:
    """Return one page of the principal's messages, newest first, how many there are and how many are unread."""
    mine = Message.principal == principal
    total = session.scalar(select(func.count()).select_from(Message).where(mine)) or 0
    unread = session.scalar(select(func.count()).select_from(Message).where(mine, Message.read_at.is_(None))) or 0
    rows = session.scalars(
        select(Message)
        .where(mine)
        .order_by(Message.at.desc(), Message.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return Inbox(items=list(rows), total=total, unread=unread)


def mark_read(session: Session, principal: str, message_id: str) -> bool:
    """Mark the principal's message read (once: the first reading time stays); False if they have no such message."""
    found = session.scalar(select(Message.id).where(Message.id == message_id, Message.principal == principal))
    if found is None:
        return False
    session.execute(
        update(Message)
        .where(Message.id == message_id, Message.principal == principal, Message.read_at.is_(None))
        .values(read_at=utc_now())
    )
    return True


def message_document(message: Message) -> dict[str, Any]:
    """Return a message as the API shows it."""
    return {
        "id": message.id,
        "application_id": message.application_id,
        "at": timestamp(message.at),
        "kind": message.kind,
        "subject": message.subject,
        "body": message.body,
        "read": message.read_at is not None,
    }
