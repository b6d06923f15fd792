"""Flask commands of the registry: `flask --app registry <command>`."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from registry.catalogue.seed import SEED_DIR, read_seed, seed_problems
from registry.db import db_session
from registry.migrate import upgrade
from registry.models.applications import utc_now
from registry.models.housekeeping import purge
from registry.models.outbox import Delivery, retry_failed
from registry.models.publishers import issue_token, revoke_tokens
from registry.models.reference import get_institution
from registry.models.seeding import load_seed
from registry.models.services import count_services
from registry.notify.worker import worker_for


@click.command("db-upgrade")
@with_appcontext
def db_upgrade_command() -> None:
    """Apply database migrations up to the newest."""
    upgrade(current_app.config["DATABASE_URL"])
    click.echo("database is up to date")


@click.command("seed")
@click.option("--if-empty", is_flag=True, help="Do nothing when the registry already holds services.")
@click.option(
    "--from",
    "seed_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=SEED_DIR,
    show_default=True,
    help="Folder with municipalities.yaml, institutions.yaml, life_events.yaml and services/*.yaml.",
)
@with_appcontext
def seed_command(if_empty: bool, seed_dir: Path) -> None:
    """Load a seed catalogue (by default registry/seed); loading it again changes nothing."""
    session = db_session()
    if if_empty and count_services(session):
        click.echo("registry already has services; seed skipped")
        return
    data = read_seed(seed_dir)
    problems = seed_problems(data)
    if problems:
        raise click.ClickException("the seed is not valid:\n" + "\n".join(problems))
    load_seed(session, data)
    session.commit()
    click.echo(
        f"seeded {len(data.services)} services, {len(data.institutions)} institutions, "
        f"{len(data.municipalities)} municipalities, {len(data.life_events)} life events"
    )


@click.command("create-token")
@click.argument("institution_id")
@click.option("--label", default="cli", help="Who or what the token is for.")
@with_appcontext
def create_token_command(institution_id: str, label: str) -> None:
    """Issue a publisher token for an institution and print it (it is not shown again)."""
    session = db_session()
    if get_institution(session, institution_id) is None:
        raise click.ClickException(f"no institution {institution_id!r}")
    token = issue_token(session, institution_id, label)
    session.commit()
    click.echo(token)


@click.command("revoke-tokens")
@click.argument("institution_id")
@with_appcontext
def revoke_tokens_command(institution_id: str) -> None:
    """Revoke every publisher token of an institution."""
    session = db_session()
    count = revoke_tokens(session, institution_id)
    session.commit()
    click.echo(f"revoked {count} token(s)")


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Forget answered idempotency keys after 24 hours, uploads no application took after 7 days, and sent or failed
    notifications after 30 days (run daily)."""
    session = db_session()
    purged = purge(session, utc_now())
    session.commit()
    click.echo(
        f"purged {purged.keys} idempotency key(s), {purged.files} unattached file(s) "
        f"and {purged.notifications} sent or failed notification(s)"
    )


def _delivered(done: Delivery) -> str:
    return f"sent {done.sent}, to retry {done.retried}, failed {done.failed} notification(s)"


@click.command("send-notifications")
@click.option("--loop", is_flag=True, help="Keep delivering until stopped (SIGTERM or Ctrl-C): a worker process.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=None,
    help="Seconds between passes with --loop (default REGISTRY_OUTBOX_INTERVAL_SECONDS).",
)
@click.option(
    "--retry-failed", "retry_failed_too", is_flag=True, help="First queue again the notifications that were given up."
)
@with_appcontext
def send_notifications_command(loop: bool, interval: float | None, retry_failed_too: bool) -> None:
    """Send the due notifications of the outbox (email) once, or with --loop until stopped."""
    if retry_failed_too:
        session = db_session()
        count = retry_failed(session, utc_now())
        session.commit()
        click.echo(f"queued {count} failed notification(s) again")
    worker = worker_for(current_app, interval)
    if not worker.notifiers:
        click.echo("no channel besides the inbox is configured (REGISTRY_NOTIFIERS); nothing to send")
        return
    if not loop:
        click.echo(_delivered(worker.run_once()))
        return

    def _stop(_signum: int, _frame: Any) -> None:
        worker.stop()

    # The notification being sent is finished (and recorded) before the worker stops.
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    click.echo(f"delivering notifications every {worker.interval:g} s; stop with Ctrl-C")
    worker.run(report=lambda done: click.echo(_delivered(done)))


@click.command("openapi")
@click.option("--check", is_flag=True, help="Fail if registry/openapi.json differs from the code.")
def openapi_command(check: bool) -> None:
    """Write registry/openapi.json from the code (or check that it is current)."""
    from registry.api.openapi import OPENAPI_PATH, build_openapi

    text = json.dumps(build_openapi(), ensure_ascii=False, indent=2) + "\n"
    if check:
        if OPENAPI_PATH.read_text(encoding="utf-8") != text:
            raise click.ClickException("registry/openapi.json is out of date: run `make openapi`")
        click.echo("openapi.json is current")
        return
    OPENAPI_PATH.write_text(text, encoding="utf-8")
    click.echo(f"wrote {OPENAPI_PATH}")


commands = [
    db_upgrade_command,
    seed_command,
    create_token_command,
    revoke_tokens_command,
    purge_command,
    send_notifications_command,
    openapi_command,
]
