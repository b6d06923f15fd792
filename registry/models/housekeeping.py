"""Forgetting what is only kept for a while: answered idempotency keys, uploads no application took, and the outbox's
sent or failed notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from registry.models.outbox import FAILED, KEEP_FOR, SENT
from registry.models.tables import IdempotencyKey, Outbox, StoredFile

# The IETF httpapi idempotency draft suggests 24 hours: a client retrying later sends a new request.
KEY_LIFETIME = timedelta(hours=24)
# An upload that never became part of an application (a replaced file, a draft abandoned for a week).
UNATTACHED_FILE_LIFETIME = timedelta(days=7)


@dataclass(frozen=True)
class Purged:
    keys: int
    files: int
    notifications: int = 0


def purge(
    session: Session,
    now: datetime,
    *,
    keys_older_than: timedelta = KEY_LIFETIME,
    files_older_than: timedelta = UNATTACHED_FILE_LIFETIME,
    notifications_older_than: timedelta = KEEP_FOR,
) -> Purged:
    """Delete answered keys older than `keys_older_than` and unattached files older than `files_older_than`.

    A key still in flight is left alone (its request may yet finish); so is every file of a submitted application.
    Files of a draft are unattached too: a draft left for longer than `files_older_than` loses its uploads, and the
    person is asked for them again on submission (`file.missing`).

    Outbox rows (each holds an email address and the message's text) go once sent or given up and older than
    `notifications_older_than` (30 days); a row still to be sent stays, however old. The inbox keeps the message.
    """
    keys = session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.state == "done", IdempotencyKey.created_at < now - keys_older_than)
    ).rowcount
    files = session.execute(
        delete(StoredFile).where(StoredFile.application_id.is_(None), StoredFile.created_at < now - files_older_than)
    ).rowcount
    notifications = session.execute(
        delete(Outbox).where(Outbox.status.in_((SENT, FAILED)), Outbox.created_at < now - notifications_older_than)
    ).rowcount
    return Purged(keys=keys or 0, files=files or 0, notifications=notifications or 0)
