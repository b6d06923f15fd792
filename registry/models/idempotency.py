"""Idempotency keys (IETF httpapi "The Idempotency-Key HTTP Header Field"), scoped to the principal.

A key is claimed with an INSERT that the unique constraint (principal, key) lets only one request win, and the claim
is committed before any work starts, so a duplicate arriving from another worker sees it at once. The work and the
completion of the key (the response to replay) are committed together: a key is `done` exactly when its
application exists. A request that fails releases its claim, so the same key can be sent again once corrected.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from registry.models.tables import IdempotencyKey

log = logging.getLogger(__name__)

MAX_KEY_LENGTH = 200
# A claim older than this belongs to a worker that died mid-request (gunicorn kills a worker after 30 s): since
# work and completion commit together, such a claim did nothing, and the next request may take it over.
CLAIM_LEASE = timedelta(seconds=120)
_CLAIM_ATTEMPTS = 3


class KeyReused(Exception):
    """The key was already used with a different request body (422)."""


class KeyInFlight(Exception):
    """A request with this key is still being processed (409)."""


@dataclass(frozen=True)
class Claim:
    """This request holds the key: it must complete or release it."""

    key_id: int
    token: str


@dataclass(frozen=True)
class Replay:
    """The key was already used for this very body: answer with the stored response."""

    status_code: int
    response: dict[str, Any]


def fingerprint(body: Any) -> str:
    """Return the SHA-256 of the canonical JSON of `body` (sorted keys, no spaces), so key order does not matter."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def claim_key(session: Session, principal: str, key: str, body_fingerprint: str) -> Claim | Replay:
    """Claim `key` for this request, or return the stored response; raise KeyReused or KeyInFlight otherwise."""
    for _ in range(_CLAIM_ATTEMPTS):
        now = datetime.now(UTC)
        token = secrets.token_hex(16)
        row = IdempotencyKey(
            principal=principal,
            key=key,
            fingerprint=body_fingerprint,
            state="in_flight",
            claim=token,
            claimed_at=now,
            created_at=now,
        )
        session.add(row)
        try:
            # Committed before the work, so a concurrent duplicate in another worker hits the constraint.
            session.commit()
            return Claim(row.id, token)
        except IntegrityError:
            session.rollback()
        existing = session.scalar(
            select(IdempotencyKey).where(IdempotencyKey.principal == principal, IdempotencyKey.key == key)
        )
        if existing is None:
            continue  # the holder failed and released it between our insert and our read: claim it again
        if existing.fingerprint != body_fingerprint:
            raise KeyReused
        if existing.state == "done" and existing.status_code is not None and existing.response is not None:
            return Replay(existing.status_code, existing.response)
        if _aware(existing.claimed_at) > now - CLAIM_LEASE:
            raise KeyInFlight
        # A stale claim: take it over, but only if nobody else did first (compare-and-set on the claim token).
        taken = session.execute(
            update(IdempotencyKey)
            .where(
                IdempotencyKey.id == existing.id,
                IdempotencyKey.claim == existing.claim,
                IdempotencyKey.state == "in_flight",
            )
            .values(claim=token, claimed_at=now)
        )
        session.commit()
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return Claim(existing.id, token)
        raise KeyInFlight
    raise KeyInFlight


def hold_key(session: Session, claim: Claim) -> bool:
    """Check, inside the work's transaction, that this request still holds the key (and lock its row).

    On SQLite this first write also takes the database's write lock, so the rest of the transaction runs alone. On
    PostgreSQL it locks only the key's row (a takeover of the claim waits for this transaction); the work itself does
    not rely on running alone: its changes are compare-and-set updates and unique constraints.
    """
    result = session.execute(
        update(IdempotencyKey)
        .where(
            IdempotencyKey.id == claim.key_id, IdempotencyKey.claim == claim.token, IdempotencyKey.state == "in_flight"
        )
        .values(claimed_at=datetime.now(UTC))
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def complete_key(session: Session, claim: Claim, status_code: int, response: dict[str, Any]) -> None:
    """Store the response to replay; the caller commits it together with the work."""
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == claim.key_id, IdempotencyKey.claim == claim.token)
        .values(state="done", status_code=status_code, response=response)
    )


def release_key(session: Session, claim: Claim) -> None:
    """Forget a claim whose request failed (nothing was stored), so the key may be used again."""
    try:
        session.rollback()
        session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.id == claim.key_id,
                IdempotencyKey.claim == claim.token,
                IdempotencyKey.state == "in_flight",
            )
        )
        session.commit()
    except SQLAlchemyError as exc:
        # The claim then expires after CLAIM_LEASE; the original error is what the client needs to see. Only the
        # error's type is logged: SQLAlchemy's message would list the bound values.
        session.rollback()
        log.warning("could not release an idempotency key claim: %s", type(exc).__name__)
