"""The registry's database engine and the per-request session."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str) -> Engine:
    """Create an engine for a database URL: `sqlite:///path` (the default) or `postgresql+psycopg://...`.

    SQLite gets WAL, foreign keys and a busy timeout so two workers can share the file; PostgreSQL sessions run in UTC.
    """
    if url.startswith("sqlite"):
        # hide_parameters: database errors must not carry personal codes into the logs.
        engine = create_engine(url, connect_args={"timeout": 15}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # 64 MB of page cache and memory-mapped reads per connection: the filter columns and the search
            # index of 100,000 services then stay in memory.
            cursor.execute("PRAGMA cache_size=-65536")
            cursor.execute("PRAGMA mmap_size=268435456")
            cursor.close()

        return engine
    if url.startswith("postgresql"):
        # Every session in UTC: stored times are UTC, and a naive time (SQLite's habit) means UTC here too.
        return create_engine(url, pool_pre_ping=True, hide_parameters=True, connect_args={"options": "-c timezone=UTC"})
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def init_db(app: Flask) -> None:
    """Bind an engine and a session factory to the app; close the request's session on teardown."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["registry_sessions"] = sessionmaker(engine, expire_on_commit=False)

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def db_session() -> Session:
    """Return this request's session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["registry_sessions"]()
    session: Session = g.db_session
    return session
