"""The outbox: what is to be sent to applicants through channels other than the inbox (email, later e-adrese).

`enqueue` adds a row per channel that reaches the applicant to the session of the change it tells about, so the two
are committed together or not at all. `deliver_due` (run by registry.notify.worker) then sends the rows whose time
has come, one at a time:

1. **claim** a due row in a short transaction of its own: `UPDATE ... SET status='sending', claim=<token>,
   attempts=attempts+1, next_attempt_at=now+LEASE WHERE id=<candidate> AND status IN ('pending','sending') AND
   next_attempt_at <= now`. The guard makes the update a compare-and-set: of several workers (threads, processes,
   machines) that picked the same candidate, exactly one changes it; the others see 0 rows and take the next one.
   On PostgreSQL the candidate is read `FOR UPDATE SKIP LOCKED`, so workers do not even queue on the same row;
   SQLite serialises writers anyway (and ignores the clause).
2. **send** it through its channel, outside any transaction (an SMTP conversation may take seconds).
3. **record** the outcome, again only while the claim is still ours: `sent`; or `pending` with `next_attempt_at`
   pushed back exponentially (`RetryPolicy`); or `failed` once the attempts are used up or the channel says a retry
   cannot help (`PermanentFailure`), logged as an error.

A worker that dies after claiming leaves the row `sending`; once its lease (`next_attempt_at`) has run out another
worker claims it again. Delivery is therefore at least once: a message is never lost, and is sent twice only if a
worker stops between the server accepting it and the row being marked (the email's Message-ID is the same both
times, so mail programs show it once).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from registry.models.applications import new_id, timestamp, utc_now
from registry.models.tables import Outbox
from registry.notify import Notification, Notifier, PermanentFailure, Recipient, describe_failure

log = logging.getLogger(__name__)

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
_DUE = (PENDING, SENDING)
# How long a claimed row belongs to its worker: far longer than one SMTP conversation (5-second timeouts).
LEASE = timedelta(minutes=5)
# Sent and failed rows (which hold the address and the text) are forgotten by `purge` after this.
KEEP_FOR = timedelta(days=30)
_jitter = random.SystemRandom()


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how far apart a failing notification is tried: `first_delay` doubled each time, capped."""

    max_attempts: int = 12
    first_delay: float = 30.0  # seconds
    max_delay: float = 3600.0
    lease: timedelta = LEASE

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RetryPolicy:
        """Read REGISTRY_OUTBOX_MAX_ATTEMPTS and REGISTRY_OUTBOX_RETRY_SECONDS (docs/registry.md)."""
        return cls(
            max_attempts=max(1, int(config.get("OUTBOX_MAX_ATTEMPTS") or cls.max_attempts)),
            first_delay=max(0.01, float(config.get("OUTBOX_RETRY_SECONDS") or cls.first_delay)),
        )

    def delay(self, attempts: int) -> timedelta:
        """Return the wait after the `attempts`-th failed attempt: 30 s, 1 min, 2 min ... 1 h, less up to a fifth.

        The random fifth keeps workers that failed together (the mail server was down) from retrying together.
        """
        seconds = min(self.max_delay, self.first_delay * 2 ** max(0, attempts - 1))
        return timedelta(seconds=seconds * _jitter.uniform(0.8, 1.0))


@dataclass(frozen=True)
class Delivery:
    """What one pass did: rows sent, rows to be tried again later, rows given up."""

    sent: int = 0
    retried: int = 0
    failed: int = 0

    def __add__(self, other: Delivery) -> Delivery:
        return Delivery(self.sent + other.sent, self.retried + other.retried, self.failed + other.failed)

    def __bool__(self) -> bool:
        return bool(self.sent or self.retried or self.failed)


def enqueue(
    session: Session, message: Notification, recipient: Recipient, notifiers: Iterable[Notifier]
) -> list[Outbox]:
    """Add a pending row for every channel that reaches the recipient; the caller commits it with its change."""
    now = utc_now()
    rows = []
    for notifier in notifiers:
        if not notifier.reaches(recipient):
            continue
        row = Outbox(
            id=new_id(),
            channel=notifier.name,
            status=PENDING,
            message_id=message.id,
            application_id=message.application_id,
            reference=message.reference,
            kind=message.kind,
            principal=recipient.principal,
            recipient_name=recipient.name,
            recipient_email=recipient.email,
            subject=dict(message.subject),
            body=dict(message.body),
            created_at=now,
            attempts=0,
            next_attempt_at=now,
            claim=None,
            sent_at=None,
            last_error=None,
        )
        session.add(row)
        rows.append(row)
    return rows


@dataclass(frozen=True)
class Claimed:
    """A row a worker holds: enough to send it and to record the outcome (plain data, no session needed)."""

    id: str
    claim: str
    channel: str
    attempts: int
    message: Notification
    recipient: Recipient


def claim_next(session: Session, now: datetime, lease: timedelta = LEASE) -> Claimed | None:
    """Claim the row that has been due longest, committing the claim; None when nothing is due.

    Losing a race for a row (another worker changed it first) moves on to the next due one.
    """
    due = (Outbox.status.in_(_DUE), Outbox.next_attempt_at <= now)
    while True:
        candidate = session.scalar(
            select(Outbox.id)
            .where(*due)
            .order_by(Outbox.next_attempt_at, Outbox.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if candidate is None:
            session.rollback()
            return None
        token = new_id()
        won = session.execute(
            update(Outbox)
            .where(Outbox.id == candidate, *due)
            .values(status=SENDING, claim=token, attempts=Outbox.attempts + 1, next_attempt_at=now + lease)
            .execution_options(synchronize_session=False)
        ).rowcount
        session.commit()
        if won == 1:
            row = session.execute(
                select(Outbox).where(Outbox.id == candidate).execution_options(populate_existing=True)
            ).scalar_one()
            return Claimed(id=row.id, claim=token, channel=row.channel, attempts=row.attempts, **_snapshot(row))


def _snapshot(row: Outbox) -> dict[str, Any]:
    message = Notification(
        id=row.message_id,
        application_id=row.application_id,
        reference=row.reference,
        kind=row.kind,
        subject=dict(row.subject),
        body=dict(row.body),
        at=timestamp(row.created_at),
    )
    recipient = Recipient(principal=row.principal, name=row.recipient_name, email=row.recipient_email)
    return {"message": message, "recipient": recipient}


def _ours(item: Claimed) -> tuple[Any, ...]:
    return (Outbox.id == item.id, Outbox.claim == item.claim, Outbox.status == SENDING)


def record_sent(session: Session, item: Claimed, now: datetime) -> bool:
    """Mark a claimed row sent; False if the claim was lost meanwhile (its lease ran out and it was claimed again)."""
    changed = session.execute(update(Outbox).where(*_ours(item)).values(status=SENT, sent_at=now, claim=None)).rowcount
    return changed == 1


def record_failure(
    session: Session, item: Claimed, error: BaseException, now: datetime, policy: RetryPolicy
) -> str | None:
    """Put a claimed row back for a later attempt, or give it up; return its new status (None: claim lost)."""
    described = describe_failure(error)
    # Only ids, the channel and the error's type: never the address or the personal code.
    if isinstance(error, PermanentFailure) or item.attempts >= policy.max_attempts:
        values: dict[str, Any] = {"status": FAILED, "claim": None, "last_error": described}
        log.error(
            "notification %s not sent by %s: %s; given up after %d attempt(s)",
            item.message.id,
            item.channel,
            described,
            item.attempts,
        )
    else:
        wait = policy.delay(item.attempts)
        values = {"status": PENDING, "claim": None, "last_error": described, "next_attempt_at": now + wait}
        log.warning(
            "notification %s not sent by %s: %s (attempt %d of %d; next in %.1f s)",
            item.message.id,
            item.channel,
            described,
            item.attempts,
            policy.max_attempts,
            wait.total_seconds(),
        )
    changed = session.execute(update(Outbox).where(*_ours(item)).values(**values)).rowcount
    return values["status"] if changed == 1 else None


class _NoNotifier(LookupError):
    """The row's channel is not among the configured notifiers (REGISTRY_NOTIFIERS changed)."""


def deliver_due(
    sessions: Callable[[], Session],
    notifiers: Mapping[str, Notifier],
    policy: RetryPolicy,
    *,
    clock: Callable[[], datetime] = utc_now,
    limit: int = 500,
    stop: Callable[[], bool] = lambda: False,
) -> Delivery:
    """Send due rows one at a time until none is due, `limit` are done or `stop()`; return what happened.

    `sessions` opens a new session (the app's sessionmaker): each claim and each outcome is its own transaction.
    """
    done = Delivery()
    for _ in range(limit):
        if stop():
            break
        with sessions() as session:
            item = claim_next(session, clock(), policy.lease)
        if item is None:
            break
        try:
            notifier = notifiers.get(item.channel)
            if notifier is None:
                raise _NoNotifier(item.channel)
            notifier.send(item.message, item.recipient)
        except Exception as error:  # any failure of a channel is retried or given up, never raised
            with sessions() as session:
                status = record_failure(session, item, error, clock(), policy)
                session.commit()
            done += Delivery(retried=int(status == PENDING), failed=int(status == FAILED))
        else:
            with sessions() as session:
                if not record_sent(session, item, clock()):
                    log.warning("notification %s sent by %s after its claim ran out", item.message.id, item.channel)
                session.commit()
            done += Delivery(sent=1)
    return done


def retry_failed(session: Session, now: datetime) -> int:
    """Put every failed row back in the queue with fresh attempts (after the mail server is fixed); return how many."""
    changed = session.execute(
        update(Outbox)
        .where(Outbox.status == FAILED)
        .values(status=PENDING, attempts=0, next_attempt_at=now, claim=None)
    ).rowcount
    return changed or 0
