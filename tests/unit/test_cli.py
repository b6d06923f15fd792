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
