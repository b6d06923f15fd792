"""Forgetting what is only kept for a while: answered idempotency keys, and uploads no application took."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from registry.models.tables import IdempotencyKey, StoredFile

# The IETF httpapi idempotency draft suggests 24 hours: a client retrying later sends a new request.
KEY_LIFETIME = timedelta(hours=24)
# An upload that never became part of an application (a replaced file, a draft abandoned for a week).
UNATTACHED_FILE_LIFETIME = timedelta(days=7)


@dataclass(frozen=True)
class Purged:
    keys: int
    files: int


def purge(
    session: Session,
    now: datetime,
    *,
    keys_older_than: timedelta = KEY_LIFETIME,
    files_older_than: timedelta = UNATTACHED_FILE_LIFETIME,
) -> Purged:
    """Delete answered keys older than `keys_older_than` and unattached files older than `files_older_than`.

    A key still in flight is left alone (its request may yet finish); so is every file of a submitted application.
    Files of a draft are unattached too: a draft left for longer than `files_older_than` loses its uploads, and the
    person is asked for them again on submission (`file.missing`).
    """
    keys = session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.state == "done", IdempotencyKey.created_at < now - keys_older_than)
    ).rowcount
    files = session.execute(
        delete(StoredFile).where(StoredFile.application_id.is_(None), StoredFile.created_at < now - files_older_than)
    ).rowcount
    return Purged(keys=keys or 0, files=files or 0)
