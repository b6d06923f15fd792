"""The notification outbox on PostgreSQL: workers skip the rows another holds (FOR UPDATE SKIP LOCKED) instead of
waiting for them, several at once send each notification exactly once, and a dead worker's row is sent after its
lease. PostgreSQL comes from tests/fixtures/postgres.py, as for tests/integration/test_registry_postgres.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from registry.db import make_engine
from registry.migrate import upgrade
from registry.models.outbox import SENDING, SENT, claim_next, deliver_due
from registry.models.tables import Outbox
from tests.fixtures.postgres import PostgresServer
from tests.unit.test_outbox import POLICY, T0, Recorder, clock_at, queue, rows, two_workers_send_each_notification_once

pytestmark = pytest.mark.integration


@pytest.fixture
def database(postgres: PostgresServer) -> str:
    url = postgres.create_database("outbox")
    upgrade(url)
    return url


@pytest.fixture
def sessions(database: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


def test_a_worker_skips_the_row_another_worker_holds_instead_of_waiting(sessions: sessionmaker[Session]) -> None:
    queue(sessions, 2)
    statements: list[str] = []
    engine = sessions.kw["bind"]

    def remember(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", remember)
    holder = sessions()
    try:
        # Another worker is in the middle of claiming the oldest row: it holds its lock.
        held = holder.scalar(select(Outbox.id).order_by(Outbox.next_attempt_at, Outbox.id).limit(1).with_for_update())
        with sessions() as session:
            claimed = claim_next(session, T0 + timedelta(seconds=1), POLICY.lease)
        assert claimed is not None and claimed.id != held  # the next row, at once (a wait would hang here)
    finally:
        holder.rollback()
        holder.close()
        event.remove(engine, "before_cursor_execute", remember)
    assert any("FOR UPDATE SKIP LOCKED" in statement for statement in statements)


def test_two_workers_at_once_send_each_notification_exactly_once_on_postgresql(database: str) -> None:
    two_workers_send_each_notification_once(database)


def test_a_row_claimed_by_a_worker_that_died_is_sent_by_another_after_the_lease(
    sessions: sessionmaker[Session],
) -> None:
    queue(sessions)
    with sessions() as session:
        dead = claim_next(session, T0 + timedelta(seconds=1), POLICY.lease)
    assert dead is not None and rows(sessions)[0].status == SENDING
    recorder = Recorder()
    assert not deliver_due(sessions, {"email": recorder}, POLICY, clock=clock_at(T0 + timedelta(minutes=4)))
    assert deliver_due(sessions, {"email": recorder}, POLICY, clock=clock_at(T0 + timedelta(minutes=6))).sent == 1
    assert recorder.sent == [dead.message.id]
    assert [(row.status, row.attempts) for row in rows(sessions)] == [(SENT, 2)]
