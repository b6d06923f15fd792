"""The signed-in person's inbox ("Paziņojumi"): messages about their applications, through the registry.

The unread count in the account menu costs a registry request, so it is kept in the person's own session for
UNREAD_MAX_AGE_SECONDS (never in a shared cache: it is personal) and refreshed whenever the inbox itself is read.
A registry that cannot answer only hides the count: no page fails because of it.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import abort, current_app, session

from app.auth.session import identity_token
from app.registry_client.errors import RegistryError, RegistryNotFound
from app.registry_client.messages import MessagesClient
from forms.wtforms_builder import RIGA

PER_PAGE = 20
UNREAD_KEY = "messages_unread"  # [count, Unix time it was read from the registry]
UNREAD_MAX_AGE_SECONDS = 60
log = logging.getLogger(__name__)


def _client() -> MessagesClient:
    client: MessagesClient = current_app.extensions["messages_client"]
    return client


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).astimezone(RIGA)


def _text(value: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Message:
    """A message to the person about one of their applications, in lv and en."""

    id: str
    application_id: str | None
    at: datetime | None  # Riga time
    kind: str
    subject: dict[str, str]
    body: dict[str, str]
    read: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        """Wrap a registry message."""
        return cls(
            id=str(data["id"]),
            application_id=data.get("application_id") or None,
            at=_moment(data.get("at")),
            kind=str(data.get("kind") or ""),
            subject=_text(data.get("subject")),
            body=_text(data.get("body")),
            read=bool(data.get("read")),
        )

    @property
    def anchor(self) -> str:
        """Return the id of the message's element on the inbox page (where marking it read comes back to)."""
        return f"message-{self.id}"


@dataclass(frozen=True)
class Inbox:
    """One page of the person's messages, newest first."""

    items: tuple[Message, ...]
    total: int
    unread: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """Return how many pages there are (at least one)."""
        return max(1, math.ceil(self.total / self.per_page))


def _remember_unread(count: int) -> None:
    session[UNREAD_KEY] = [count, int(time.time())]


def inbox(page: int = 1) -> Inbox:
    """Return one page of the person's messages (a page past the end is empty); refresh the unread count."""
    data = _client().list_messages(identity_token(), page=page, per_page=PER_PAGE)
    found = Inbox(
        items=tuple(Message.from_json(m) for m in data.get("items") or ()),
        total=int(data.get("total") or 0),
        unread=int(data.get("unread") or 0),
        page=page,
        per_page=PER_PAGE,
    )
    _remember_unread(found.unread)
    return found


def mark_read(message_id: str) -> None:
    """Mark one of the person's messages read, or abort with 404 (someone else's messages do not exist for them)."""
    try:
        _client().mark_read(identity_token(), message_id)
    except RegistryNotFound:
        abort(404)
    # The next page asks the registry again rather than guessing whether the message was unread.
    session.pop(UNREAD_KEY, None)


def unread_count() -> int | None:
    """Return how many of the person's messages are unread (kept briefly in their session); None if unknown."""
    kept = session.get(UNREAD_KEY)
    if isinstance(kept, list) and len(kept) == 2 and 0 <= time.time() - kept[1] < UNREAD_MAX_AGE_SECONDS:
        return int(kept[0])
    try:
        data = _client().list_messages(identity_token(), page=1, per_page=1)
    except RegistryError as exc:
        # The count is a convenience: without it the page still works (and says nothing wrong).
        log.info("unread messages not counted: %s", type(exc).__name__)
        return None
    count = int(data.get("unread") or 0)
    _remember_unread(count)
    return count
