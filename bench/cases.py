"""Measure the staff queue (`GET /api/v1/staff/cases`) with 10,000 open cases across 20 institutions.

A SQLite database is migrated by Alembic and seeded with the real catalogue; then one synthetic process version of
the unemployed-status service with 20 steps, one per institution (`iestade-01` ... `iestade-20`), and 10,000
submitted applications spread over its steps (about 500 per institution), some claimed, some overdue, each with a
few audit entries. A gunicorn registry (the same config as `make run`) serves it on loopback; one client measures
sequential latency as an employee of one institution. Server time is the registry's `Server-Timing`.

    python -m bench.cases [--cases 10000] [--repeat 50]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import statistics
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from bench.portal import free_port, server_ms, start_gunicorn, stop
from bench.registry import _p95, measure, serve
from identity import sign_identity
from registry.catalogue.seed import read_seed
from registry.db import make_engine
from registry.migrate import upgrade
from registry.models.seeding import load_seed
from registry.models.tables import Application, CaseEvent, Process, Service

SERVICE = "bezdarbnieka-statusa-pieskirsana"
# The 13 seeded institutions and 7 more: 20 in all. The employee is the demo NVA case worker (Anna Liepiņa), so the
# portal's work queue can be measured with a real sign-in too.
SEEDED = ["pmlp", "vsaa", "vid", "nva", "csdd", "ur", "vdaa", "vzd", "vdi", "nvd"]
SEEDED += ["riga-municipality", "valmiera-municipality", "liepaja-municipality"]
INSTITUTIONS = SEEDED + [f"iestade-{n:02d}" for n in range(1, 8)]
EMPLOYEE = {
    "sub": "030478-14081",
    "name": "Anna Liepiņa",
    "kind": "employee",
    "acr": "high",
    "company": None,
    "company_name": None,
    "institution": "nva",
    "roles": ["case_worker"],
}
DEMO_EMPLOYEE = "anna-liepina"
QUERIES = {
    "queue, first page": {},
    "queue, overdue": {"overdue": "true"},
    "queue, assigned to me": {"assigned": "me"},
    "queue, page 10": {"page": "10"},
    "involved (past steps too)": {"scope": "involved"},
}


def fill(database_url: str, count: int) -> None:
    """Migrate, seed, and insert a 20-step process and `count` open cases over its steps."""
    upgrade(database_url)
    engine = make_engine(database_url)
    with Session(engine) as session:
        load_seed(session, read_seed())
        session.commit()
    engine.dispose()
    add_cases(database_url, count)


def add_cases(database_url: str, count: int) -> None:
    """Insert a 20-step process and `count` open cases over its steps into a migrated, seeded database."""
    engine = make_engine(database_url)
    rng = random.Random(count)
    with Session(engine) as session:
        service = session.scalar(select(Service).where(Service.id == SERVICE))
        if service is None:
            raise SystemExit(f"the seed has no service {SERVICE}")
        steps = [
            {
                "id": f"solis-{n:02d}",
                "institution": inst,
                "title": {"lv": f"Solis {n}", "en": f"Step {n}"},
                "form": "nva-status",
            }
            for n, inst in enumerate(INSTITUTIONS, start=1)
        ]
        definition = {"service": SERVICE, "version": 99, "steps": steps}
        now = datetime.now(UTC)
        session.add(Process(service_pk=service.pk, version=99, definition=definition, created_at=now))
        applications, events = [], []
        for n in range(count):
            position = rng.randrange(len(steps))
            submitted = now - timedelta(days=rng.randrange(1, 40))
            claimed = rng.random() < 0.3
            case_id = f"{n:032x}"
            applications.append(
                {
                    "id": case_id,
                    "reference": f"PT-2026-{n + 1:06d}",
                    "reference_year": 2026,
                    "reference_number": n + 1,
                    "principal": f"32{n:04d}-{n % 100000:05d}"[:12],
                    "applicant_name": f"Persona {n}",
                    "acting_for": None,
                    "service_pk": service.pk,
                    "form": "application",
                    "form_version": 1,
                    "answers": {"note": "x" * 200},
                    "status": "in_progress" if claimed else "submitted",
                    "submitted_at": submitted,
                    "updated_at": submitted,
                    "process_version": 99,
                    "current_step": steps[position]["id"],
                    "current_institution": steps[position]["institution"],
                    "assigned_sub": EMPLOYEE["sub"] if claimed and rng.random() < 0.1 else None,
                    "assigned_name": EMPLOYEE["name"] if claimed else None,
                    "due_at": submitted + timedelta(days=14),
                }
            )
            for earlier in steps[:position][-2:]:
                events.append(
                    {
                        "application_id": case_id,
                        "at": submitted,
                        "kind": "decision",
                        "step": earlier["id"],
                        "institution": earlier["institution"],
                        "actor_sub": "010190-12349",
                        "actor_name": "Iepriekšējais",
                        "outcome": "approve",
                    }
                )
        for table, values in ((Application, applications), (CaseEvent, events)):
            for chunk in range(0, len(values), 2000):
                session.execute(insert(table), values[chunk : chunk + 2000])
        session.commit()
        session.execute(text("ANALYZE"))
        session.commit()
    engine.dispose()


def sign_in(portal: str) -> requests.Session:
    """Sign the demo employee in through the portal's demonstration provider."""
    session = requests.Session()
    form = session.get(f"{portal}/lv/sign-in", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    if token is None:
        raise RuntimeError("the sign-in page has no CSRF token")
    signed = session.post(
        f"{portal}/lv/sign-in",
        data={"csrf_token": token[1], "person": DEMO_EMPLOYEE},
        timeout=10,
        allow_redirects=False,
    )
    if signed.status_code != 303:
        raise RuntimeError(f"sign-in answered {signed.status_code}")
    return session


def portal_page(session: requests.Session, url: str, repeat: int) -> tuple[float, float, int]:
    """Return the server median and p95 (ms) of a portal page, and its size in bytes."""
    session.get(url, timeout=10).raise_for_status()  # warm-up
    times, size = [], 0
    for _ in range(repeat):
        response = session.get(url, timeout=10)
        response.raise_for_status()
        size = len(response.content)
        times.append(server_ms(response))
    return statistics.median(times), _p95(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=50)
    options = parser.parse_args()
    identity_secret = secrets.token_hex(32)
    running: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="bench-cases-") as tmp_dir:
        tmp = Path(tmp_dir)
        database_url = f"sqlite:///{tmp / 'registry.sqlite3'}"
        fill(database_url, options.cases)
        port = free_port()
        os.environ["REGISTRY_IDENTITY_SECRET"] = identity_secret  # serve() passes our environment on
        try:
            running.append(serve(database_url, port))
            portal_port = free_port()
            portal_env = {
                "PORTAL_ENV": "development",
                "SECRET_KEY": secrets.token_hex(32),
                "REGISTRY_IDENTITY_SECRET": identity_secret,
                "REGISTRY_URL": f"http://127.0.0.1:{port}",
                "REGISTRY_CACHE": "sqlite",
                "REGISTRY_CACHE_PATH": str(tmp / "cache"),
            }
            running.append(start_gunicorn("wsgi:app", portal_env, portal_port, "/healthz", tmp / "portal.log"))
            url = f"http://127.0.0.1:{port}/api/v1/staff/cases"
            token = sign_identity(identity_secret, EMPLOYEE)
            print(f"# Staff queue: {options.cases:,} open cases over {len(INSTITUTIONS)} institutions\n")
            print(
                f"Employee of {EMPLOYEE['institution']}; {options.repeat} sequential requests each, "
                "after one warm-up. Server time is `Server-Timing` (the portal's includes its registry calls).\n"
            )
            print("| request | results | client median ms | client p95 ms | server median ms | server p95 ms |")
            print("|---|---:|---:|---:|---:|---:|")
            for name, params in QUERIES.items():
                client_median, client_p95, server_median, server_p95, total = measure(
                    url, params, options.repeat, headers={"X-Portal-Identity": token}
                )
                print(
                    f"| registry: {name} | {total:,} | {client_median:.1f} | {client_p95:.1f} | "
                    f"{server_median:.1f} | {server_p95:.1f} |"
                )
            session = sign_in(f"http://127.0.0.1:{portal_port}")
            print("\n| portal page | server median ms | server p95 ms | HTML bytes |")
            print("|---|---:|---:|---:|")
            for name, path in (("work queue", "/lv/staff/"), ("work queue, overdue", "/lv/staff/?overdue=1")):
                median, p95, size = portal_page(session, f"http://127.0.0.1:{portal_port}{path}", options.repeat)
                print(f"| {name} | {median:.1f} | {p95:.1f} | {size:,} |")
        finally:
            for process in running:
                stop(process)


if __name__ == "__main__":
    main()
