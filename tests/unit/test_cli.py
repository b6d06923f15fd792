"""The registry's flask commands, against a real SQLite database."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry import create_app
from registry.catalogue.seed import SEED_DIR
from registry.db import make_engine
from registry.models.tables import Service, ServiceDocument


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite3'}"})
    assert run(app, "db-upgrade").endswith("up to date\n")
    return app


def run(app: Flask, *args: str, ok: bool = True) -> str:
    result = app.test_cli_runner().invoke(args=list(args))
    assert (result.exit_code == 0) is ok, result.output
    return str(result.output)


def snapshot(app: Flask) -> dict[str, dict[str, object]]:
    engine = make_engine(app.config["DATABASE_URL"])
    with Session(engine) as session:
        rows = session.execute(select(Service.id, ServiceDocument.document).join(ServiceDocument))
        result = {service_id: document for service_id, document in rows}
        assert session.scalar(select(func.count(Service.pk))) == len(result)
    engine.dispose()
    return result


def test_seed_is_idempotent(app: Flask) -> None:
    assert run(app, "seed").startswith("seeded ")
    first = snapshot(app)
    run(app, "seed")
    assert snapshot(app) == first
    assert len(first) >= 40


def test_seed_if_empty_skips_a_filled_registry(app: Flask) -> None:
    run(app, "seed")
    assert "skipped" in run(app, "seed", "--if-empty")


def test_invalid_seed_is_refused_and_nothing_is_loaded(app: Flask, tmp_path: Path) -> None:
    broken = tmp_path / "seed"
    shutil.copytree(SEED_DIR, broken)
    target = broken / "services" / "pases-izsniegsana.yaml"
    target.write_text(target.read_text(encoding="utf-8").replace("level: 3", "level: 7"), encoding="utf-8")
    output = run(app, "seed", "--from", str(broken), ok=False)
    assert "pases-izsniegsana" in output and "#/level" in output
    assert snapshot(app) == {}


def test_create_token_prints_a_token_once_and_refuses_unknown_institutions(app: Flask) -> None:
    run(app, "seed")
    token = run(app, "create-token", "pmlp").strip()
    assert token.startswith("lvreg_") and len(token) > 40
    assert run(app, "create-token", "pmlp").strip() != token
    assert "no institution" in run(app, "create-token", "nobody", ok=False)


def test_openapi_check_passes_on_the_committed_document(app: Flask) -> None:
    assert "current" in run(app, "openapi", "--check")


def test_purge_forgets_old_answered_keys_and_unattached_uploads_only(app: Flask) -> None:
    from datetime import UTC, datetime, timedelta

    from registry.models.tables import Application, IdempotencyKey, StoredFile

    old = datetime.now(UTC) - timedelta(days=8)
    recent = datetime.now(UTC) - timedelta(hours=1)
    run(app, "seed")
    engine = make_engine(app.config["DATABASE_URL"])
    with Session(engine) as session:
        service = session.scalar(select(Service).where(Service.id == "dzivesvietas-deklaresana"))
        assert service is not None
        session.add(
            Application(
                id="a" * 32,
                reference="PT-2026-000001",
                reference_year=2026,
                reference_number=1,
                principal="180565-05610",
                applicant_name="Jānis",
                acting_for=None,
                service_pk=service.pk,
                form="application",
                form_version=1,
                answers={},
                status="submitted",
                submitted_at=old,
                updated_at=old,
            )
        )
        session.flush()
        for number, (state, at) in enumerate([("done", old), ("done", recent), ("in_flight", old)]):
            session.add(
                IdempotencyKey(
                    principal="180565-05610",
                    key=f"k{number}",
                    fingerprint="f" * 64,
                    state=state,
                    claim="c" * 32,
                    claimed_at=at,
                    created_at=at,
                )
            )
        for number, (application_id, at) in enumerate([(None, old), (None, recent), ("a" * 32, old)]):
            session.add(
                StoredFile(
                    id=f"{number}" * 32,
                    principal="180565-05610",
                    name="a.pdf",
                    size=1,
                    content_type="application/pdf",
                    sha256="0" * 64,
                    content=b"%",
                    application_id=application_id,
                    created_at=at,
                )
            )
        session.commit()
    assert run(app, "purge") == (
        "purged 1 idempotency key(s), 1 unattached file(s) and 0 sent or failed notification(s)\n"
    )
    with Session(engine) as session:
        assert sorted(session.scalars(select(IdempotencyKey.key))) == ["k1", "k2"]
        assert sorted(session.scalars(select(StoredFile.id))) == ["1" * 32, "2" * 32]
    engine.dispose()
    assert run(app, "purge").startswith("purged 0 idempotency key(s), 0 unattached file(s) and 0 ")
