"""The notification outbox on a real SQLite database, with a real local SMTP server (aiosmtpd) where email is sent:
rows are committed or rolled back with their session, a worker marks what it sent, a mail server that refuses or is
down is retried with backoff and nothing is lost, several workers at once send each row exactly once, old rows go.

Time is passed in (`clock`), so backoff is tested without sleeping; waits poll with a deadline.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SMTPSession
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from registry import create_app
from registry.db import make_engine
from registry.migrate import upgrade
from registry.models.housekeeping import purge
from registry.models.outbox import (
    FAILED,
    PENDING,
    SENDING,
    SENT,
    RetryPolicy,
    claim_next,
    deliver_due,
    enqueue,
    record_sent,
    retry_failed,
)
from registry.models.tables import Outbox
from registry.notify import InboxNotifier, Notification, Notifier, Recipient, delivering
from registry.notify.mail import EmailNotifier
from registry.notify.worker import DeliveryWorker, start_delivery_thread
from tests.fixtures.registry_server import ROOT, free_port

# The clock the tests pass in: later than any row they queue (rows get the real time), so those rows are due.
T0 = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
ADDRESS = "liga.berzina@example.lv"
PERSONAL_CODE = "161175-19997"
POLICY = RetryPolicy(max_attempts=4, first_delay=30, max_delay=100)


def naive(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive (UTC)."""
    return moment.replace(tzinfo=None)


def deadline_poll(condition: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture
def sessions(database: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


class Mailbox:
    """A local SMTP server's handler: refuses the first `busy` messages with 451, then accepts; `unknown` -> 550."""

    def __init__(self, busy: int = 0, unknown: tuple[str, ...] = ()) -> None:
        self.busy = busy
        self.unknown = unknown
        self.envelopes: list[Envelope] = []

    async def handle_RCPT(
        self, _server: SMTP, _session: SMTPSession, envelope: Envelope, address: str, _options: list[str]
    ) -> str:
        if address in self.unknown:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: SMTP, _session: SMTPSession, envelope: Envelope) -> str:
        if self.busy > 0:
            self.busy -= 1
            return "451 4.3.0 Try again later"
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def smtp_server(handler: Mailbox, port: int) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler, port = Mailbox(), free_port()
    controller = smtp_server(handler, port)
    yield handler, port
    controller.stop()


def email_to(port: int) -> dict[str, Notifier]:
    return {"email": EmailNotifier(host="127.0.0.1", port=port, mail_from="pazinojumi@example.lv", timeout=5)}


def notification(number: int = 0) -> tuple[Notification, Recipient]:
    message = Notification(
        id=f"{number:032x}",
        application_id="a" * 32,
        reference=f"PT-2026-{number:06d}",
        kind="decision",
        subject={"lv": f"Lēmums {number}", "en": f"Decision {number}"},
        body={"lv": "Pieteikums apmierināts.", "en": "Application approved."},
        at="2026-11-30T09:00:00Z",
    )
    return message, Recipient(principal=PERSONAL_CODE, name="Līga Bērziņa", email=ADDRESS)


def queue(sessions: sessionmaker[Session], count: int = 1, channels: list[Notifier] | None = None) -> list[str]:
    """Commit `count` email notifications; return their outbox ids."""
    notifiers = channels if channels is not None else [InboxNotifier(), EmailNotifier(host="127.0.0.1")]
    ids = []
    with sessions() as session:
        for number in range(count):
            ids += [row.id for row in enqueue(session, *notification(number), notifiers)]
        session.commit()
    return ids


def rows(sessions: sessionmaker[Session]) -> list[Outbox]:
    with sessions() as session:
        return list(session.scalars(select(Outbox).order_by(Outbox.message_id)))


def clock_at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


# --- writing ---------------------------------------------------------------------------------------------------


def test_a_row_is_written_for_each_channel_that_reaches_the_applicant_and_only_with_its_transaction(
    sessions: sessionmaker[Session],
) -> None:
    message, recipient = notification()
    email = EmailNotifier(host="127.0.0.1")
    with sessions() as session:
        assert enqueue(session, message, recipient, [InboxNotifier(), email]) != []
        session.rollback()  # the decision failed: what it would have said goes with it
    assert rows(sessions) == []

    with sessions() as session:
        # The inbox has its own row already; email needs an address.
        no_address = Recipient(principal=PERSONAL_CODE, name="Līga Bērziņa")
        assert enqueue(session, message, no_address, [InboxNotifier(), email]) == []
        enqueue(session, message, recipient, [InboxNotifier(), email])
        session.commit()
    [row] = rows(sessions)
    assert (row.channel, row.status, row.attempts, row.sent_at) == ("email", PENDING, 0, None)
    assert row.recipient_email == ADDRESS and row.principal == PERSONAL_CODE and row.message_id == message.id
    assert row.subject == {"lv": "Lēmums 0", "en": "Decision 0"} and row.body["en"] == "Application approved."
    assert row.next_attempt_at == row.created_at  # due at once


# --- delivering ------------------------------------------------------------------------------------------------


def test_delivery_sends_the_email_and_marks_the_row_sent_once(
    sessions: sessionmaker[Session], mailbox: tuple[Mailbox, int]
) -> None:
    received, port = mailbox
    queue(sessions)
    done = deliver_due(sessions, email_to(port), POLICY)
    assert (done.sent, done.retried, done.failed) == (1, 0, 0)
    [envelope] = received.envelopes
    assert envelope.rcpt_tos == [ADDRESS]
    assert b"Decision 0" in (envelope.original_content or b"")
    # The Message-ID is the message's own, so a copy sent twice would show once.
    assert f"<{'0' * 32}@example.lv>".encode() in (envelope.original_content or b"")
    [row] = rows(sessions)
    assert (row.status, row.attempts, row.claim) == (SENT, 1, None) and row.sent_at is not None
    assert not deliver_due(sessions, email_to(port), POLICY)  # nothing is sent again
    assert len(received.envelopes) == 1


def test_a_mail_server_that_is_down_is_retried_with_backoff_and_gets_the_email_once_it_is_back(
    sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()  # nothing listens here yet
    queue(sessions)
    with caplog.at_level(logging.WARNING):
        assert deliver_due(sessions, email_to(port), POLICY, clock=clock_at(T0)).retried == 1
    [row] = rows(sessions)
    assert (row.status, row.attempts, row.last_error) == (PENDING, 1, "ConnectionRefusedError")
    # 30 s, less up to a fifth (jitter).
    assert naive(T0 + timedelta(seconds=24)) <= row.next_attempt_at <= naive(T0 + timedelta(seconds=30))
    logged = caplog.text
    assert "not sent by email: ConnectionRefusedError (attempt 1 of 4" in logged
    assert ADDRESS not in logged and PERSONAL_CODE not in logged

    # Not due yet: nothing is tried.
    assert not deliver_due(sessions, email_to(port), POLICY, clock=clock_at(T0 + timedelta(seconds=20)))
    assert rows(sessions)[0].attempts == 1

    # The second failure waits twice as long.
    later = T0 + timedelta(seconds=31)
    assert deliver_due(sessions, email_to(port), POLICY, clock=clock_at(later)).retried == 1
    row = rows(sessions)[0]
    assert row.attempts == 2
    assert naive(later + timedelta(seconds=48)) <= row.next_attempt_at <= naive(later + timedelta(seconds=60))

    received = Mailbox()
    controller = smtp_server(received, port)
    try:
        back = T0 + timedelta(seconds=200)
        assert deliver_due(sessions, email_to(port), POLICY, clock=clock_at(back)).sent == 1
    finally:
        controller.stop()
    assert [e.rcpt_tos for e in received.envelopes] == [[ADDRESS]]
    row = rows(sessions)[0]
    assert (row.status, row.attempts, row.last_error) == (SENT, 3, "ConnectionRefusedError")


def test_a_server_that_says_try_later_is_retried_and_one_that_refuses_the_address_is_not(
    sessions: sessionmaker[Session],
) -> None:
    handler, port = Mailbox(busy=1, unknown=("nobody@example.lv",)), free_port()
    controller = smtp_server(handler, port)
    try:
        with sessions() as session:
            message, recipient = notification(1)
            enqueue(session, message, recipient, [EmailNotifier(host="127.0.0.1")])
            unknown = Recipient(principal=PERSONAL_CODE, name="Nav", email="nobody@example.lv")
            enqueue(session, notification(2)[0], unknown, [EmailNotifier(host="127.0.0.1")])
            session.commit()
        done = deliver_due(sessions, email_to(port), POLICY, clock=clock_at(T0))
        assert (done.sent, done.retried, done.failed) == (0, 1, 1)
        busy, refused = rows(sessions)
        assert (busy.status, busy.last_error) == (PENDING, "SMTPDataError 451")
        assert (refused.status, refused.attempts) == (FAILED, 1)  # no use asking again
        assert refused.last_error == "PermanentFailure: address refused 550"

        assert deliver_due(sessions, email_to(port), POLICY, clock=clock_at(T0 + timedelta(minutes=1))).sent == 1
        assert [e.rcpt_tos for e in handler.envelopes] == [[ADDRESS]]
    finally:
        controller.stop()


def test_backoff_doubles_up_to_its_cap_and_a_row_is_given_up_after_the_last_attempt_and_logged(
    sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    for attempts, upper in [(1, 30), (2, 60), (3, 100), (9, 100)]:  # less up to a fifth (jitter)
        assert upper * 0.8 <= POLICY.delay(attempts).total_seconds() <= upper

    port = free_port()
    queue(sessions)
    now = T0
    with caplog.at_level(logging.WARNING):
        for _ in range(POLICY.max_attempts):
            deliver_due(sessions, email_to(port), POLICY, clock=clock_at(now))
            now += timedelta(minutes=5)
    [row] = rows(sessions)
    assert (row.status, row.attempts, row.last_error) == (FAILED, 4, "ConnectionRefusedError")
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        f"notification {'0' * 32} not sent by email: ConnectionRefusedError; given up after 4 attempt(s)"
    ]
    assert not deliver_due(sessions, email_to(port), POLICY, clock=clock_at(now + timedelta(days=1)))

    # Once the mail server is fixed, the operator queues them again (send-notifications --retry-failed).
    with sessions() as session:
        assert retry_failed(session, now) == 1
        session.commit()
    [row] = rows(sessions)
    assert (row.status, row.attempts) == (PENDING, 0)


def test_a_row_whose_channel_is_no_longer_configured_is_retried_not_lost(sessions: sessionmaker[Session]) -> None:
    queue(sessions)
    assert deliver_due(sessions, {}, POLICY, clock=clock_at(T0)).retried == 1
    [row] = rows(sessions)
    assert (row.status, row.last_error) == (PENDING, "_NoNotifier")


class Recorder:
    """A channel that remembers what it sent (from any thread) and takes a little time doing it."""

    name = "email"

    def __init__(self, pause: float = 0.002) -> None:
        self.sent: list[str] = []
        self.pause = pause
        self.lock = threading.Lock()

    def reaches(self, recipient: Recipient) -> bool:
        return bool(recipient.email)

    def send(self, message: Notification, _recipient: Recipient) -> None:
        time.sleep(self.pause)
        with self.lock:
            self.sent.append(message.id)


def two_workers_send_each_notification_once(database: str, count: int = 60) -> None:
    """Two workers, each with its own engine (as two processes would), start together on `count` due rows."""
    engines = [make_engine(database) for _ in range(2)]
    makers = [sessionmaker(engine, expire_on_commit=False) for engine in engines]
    try:
        queue(makers[0], count)
        recorder = Recorder(pause=0.005)  # long enough for the other worker to come in, whatever the machine's load
        start = threading.Barrier(2)
        results: list[Any] = []

        def work(sessions: sessionmaker[Session]) -> None:
            start.wait()
            results.append(deliver_due(sessions, {"email": recorder}, POLICY))

        threads = [threading.Thread(target=work, args=(maker,)) for maker in makers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(recorder.sent) == sorted(notification(n)[0].id for n in range(count))  # each once
        assert sum(r.sent for r in results) == count and all(r.sent > 0 for r in results)  # both took a share
        assert {(row.status, row.attempts) for row in rows(makers[0])} == {(SENT, 1)}
    finally:
        for engine in engines:
            engine.dispose()


def test_two_workers_at_once_send_each_notification_exactly_once(database: str) -> None:
    two_workers_send_each_notification_once(database)


def test_a_row_claimed_by_a_worker_that_died_is_sent_by_another_after_the_lease(
    sessions: sessionmaker[Session],
) -> None:
    queue(sessions)
    with sessions() as session:
        dead = claim_next(session, T0, POLICY.lease)  # ... and the worker stops before sending
    assert dead is not None and rows(sessions)[0].status == SENDING
    recorder = Recorder()
    assert not deliver_due(sessions, {"email": recorder}, POLICY, clock=clock_at(T0 + timedelta(minutes=4)))
    after = T0 + POLICY.lease + timedelta(seconds=1)
    assert deliver_due(sessions, {"email": recorder}, POLICY, clock=clock_at(after)).sent == 1
    assert recorder.sent == [dead.message.id]
    [row] = rows(sessions)
    assert (row.status, row.attempts) == (SENT, 2)
    with sessions() as session:
        assert record_sent(session, dead, after) is False  # the old claim no longer counts


# --- housekeeping ----------------------------------------------------------------------------------------------


def test_purge_forgets_sent_and_failed_rows_after_30_days_and_never_a_row_still_to_send(
    sessions: sessionmaker[Session],
) -> None:
    queue(sessions, 5)
    states = [(SENT, 31), (FAILED, 31), (PENDING, 31), (SENT, 29), (SENDING, 40)]
    with sessions() as session:
        for row, (status, days) in zip(
            session.scalars(select(Outbox).order_by(Outbox.message_id)), states, strict=True
        ):
            row.status = status
            row.created_at = T0 - timedelta(days=days)
        session.commit()
    with sessions() as session:
        assert purge(session, T0).notifications == 2
        session.commit()
    assert [(row.status, row.message_id[-1]) for row in rows(sessions)] == [(PENDING, "2"), (SENT, "3"), (SENDING, "4")]


# --- the worker: thread and command ------------------------------------------------------------------------------


def test_the_delivery_thread_sends_at_once_when_woken_and_stops_cleanly(sessions: sessionmaker[Session]) -> None:
    recorder = Recorder()
    worker = DeliveryWorker(sessions, {"email": recorder}, POLICY, interval=60)
    worker.start()
    try:
        assert deadline_poll(lambda: worker._thread is not None and worker._thread.is_alive())
        queue(sessions)
        worker.wake()  # what a decision's commit does; otherwise the next pass would be a minute away
        assert deadline_poll(lambda: len(recorder.sent) == 1)
    finally:
        worker.stop()
    assert worker._thread is not None and not worker._thread.is_alive()
    assert rows(sessions)[0].status == SENT


def test_the_thread_starts_only_when_a_channel_besides_the_inbox_is_configured_and_not_when_off(
    database: str, mailbox: tuple[Mailbox, int]
) -> None:
    assert start_delivery_thread(create_app({"DATABASE_URL": database})) is None  # inbox only: nothing to send
    email = {"DATABASE_URL": database, "NOTIFIERS": "inbox,email", "SMTP_HOST": "127.0.0.1"}
    assert start_delivery_thread(create_app({**email, "OUTBOX_WORKER": "off"})) is None
    app = create_app({**email, "SMTP_PORT": mailbox[1], "OUTBOX_INTERVAL_SECONDS": 60})
    worker = start_delivery_thread(app)
    try:
        assert worker is not None and list(worker.notifiers) == ["email"]
        assert start_delivery_thread(app) is worker  # once per process
    finally:
        assert worker is not None
        worker.stop()


def test_the_send_notifications_command_delivers_once_and_retries_failed_ones(
    database: str, sessions: sessionmaker[Session], mailbox: tuple[Mailbox, int]
) -> None:
    received, port = mailbox

    def run(app: Any, *args: str) -> str:
        result = app.test_cli_runner().invoke(args=["send-notifications", *args])
        assert result.exit_code == 0, result.output
        return str(result.output)

    assert "nothing to send" in run(create_app({"DATABASE_URL": database}))
    app = create_app(
        {"DATABASE_URL": database, "NOTIFIERS": "inbox,email", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port}
    )
    queue(sessions, 2)
    assert run(app) == "sent 2, to retry 0, failed 0 notification(s)\n"
    assert len(received.envelopes) == 2
    assert run(app) == "sent 0, to retry 0, failed 0 notification(s)\n"

    with sessions() as session:
        session.execute(Outbox.__table__.update().values(status=FAILED))
        session.commit()
    assert run(app, "--retry-failed") == (
        "queued 2 failed notification(s) again\nsent 2, to retry 0, failed 0 notification(s)\n"
    )
    assert len(received.envelopes) == 4


def test_the_worker_process_delivers_until_sigterm_and_then_stops_cleanly(
    database: str, sessions: sessionmaker[Session], mailbox: tuple[Mailbox, int]
) -> None:
    received, port = mailbox
    env = {
        **os.environ,
        "REGISTRY_DATABASE_URL": database,
        "REGISTRY_SMTP_HOST": "127.0.0.1",
        "REGISTRY_SMTP_PORT": str(port),
    }
    command = [sys.executable, "-m", "flask", "--app", "registry", "send-notifications", "--loop", "--interval", "0.1"]
    worker = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        queue(sessions, 3)
        assert deadline_poll(lambda: len(received.envelopes) == 3, seconds=30)
        assert deadline_poll(lambda: {row.status for row in rows(sessions)} == {SENT})
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
    # The three were committed together, so one pass sent them.
    assert output.decode().splitlines() == [
        "delivering notifications every 0.1 s; stop with Ctrl-C",
        "sent 3, to retry 0, failed 0 notification(s)",
    ]


def test_delivering_leaves_out_the_inbox() -> None:
    email = EmailNotifier(host="127.0.0.1")
    assert delivering([InboxNotifier(), email]) == {"email": email}


def test_outbox_settings_must_be_numbers_of_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    from registry.config import ConfigError, env_seconds

    monkeypatch.setenv("REGISTRY_OUTBOX_RETRY_SECONDS", "0.5")
    assert env_seconds("REGISTRY_OUTBOX_RETRY_SECONDS", 30) == 0.5
    for bad in ("soon", "0", "-1", "nan"):
        monkeypatch.setenv("REGISTRY_OUTBOX_RETRY_SECONDS", bad)
        with pytest.raises(ConfigError, match="REGISTRY_OUTBOX_RETRY_SECONDS"):
            env_seconds("REGISTRY_OUTBOX_RETRY_SECONDS", 30)
    assert RetryPolicy.from_config({"OUTBOX_MAX_ATTEMPTS": 3, "OUTBOX_RETRY_SECONDS": 0.5}) == RetryPolicy(
        max_attempts=3, first_delay=0.5
    )
