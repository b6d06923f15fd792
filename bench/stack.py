"""What bench/table.py and bench/load.py measure: a filled registry and the portal under gunicorn, on loopback.

The registry gets N synthetic services (bench.registry.fill: the real seed plus generated services) and M open cases
over 20 institutions (bench.cases.add_cases); it runs under its own gunicorn config (registry/gunicorn.conf.py, sync
workers). The portal runs `bench.portal_wsgi:app` (the app of wsgi.py with synthetic people in the demonstration
sign-in) under its gunicorn config (gunicorn.conf.py: gthread, PORTAL_WORKERS=2), with PORTAL_ENV=development
because production refuses the demonstration sign-in, a random SECRET_KEY and identity secret, and every rate limit
off (one client address sends everything). Two variants:

- `sqlite`: the registry on SQLite (WAL), the portal's registry cache in a SQLite file its workers share, sessions
  in signed cookies, circuit breaker and rate limits per process: the embedded default of `make run`;
- `postgres`: the registry on PostgreSQL (a throwaway cluster, tests/fixtures/postgres.py: fsync off) and the
  portal's registry cache, sessions, circuit breaker and rate limits in Redis (a throwaway redis-server without
  persistence, tests/fixtures/redis_server.py), as several portal instances would run.

Every process listens on a loopback port chosen at start-up and is stopped by its PID at the end.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from app.limits import LIMIT_SETTINGS
from bench.cases import add_cases
from bench.people import SERVICE, person_claims, person_id
from bench.portal import free_port, start_gunicorn, stop
from bench.registry import fill, serve
from forms.examples import example_answers
from forms.loader import load_definition
from forms.wtforms_builder import riga_today
from identity import sign_identity

VARIANTS = {
    "sqlite": "SQLite registry; portal cache in SQLite, sessions in cookies",
    "postgres": "PostgreSQL registry; portal cache, sessions, breaker and limits in Redis",
}
EMPLOYEE = "anna-liepina"  # the demo NVA case worker: her queue holds about 500 of bench.cases' cases
ACCESS_STATUS = re.compile(r'HTTP/[0-9.]+" (\d{3}) ')
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@dataclass
class Stack:
    """The running servers of one variant."""

    variant: str
    portal: str  # http://127.0.0.1:<port>
    registry: str  # http://127.0.0.1:<port>
    identity_secret: str
    tmp: Path
    pids: dict[str, int]  # the root process of each server: portal, registry, PostgreSQL, Redis

    @property
    def api(self) -> str:
        """The registry API's base URL."""
        return f"{self.registry}/api/v1"

    def statuses(self) -> str:
        """Return what the portal and the registry answered so far, by status (from their access logs), and the
        commonest errors of their logs: what to look at when a measurement saw errors."""
        parts = []
        for name in ("portal", "registry"):
            access = self.tmp / f"{name}-access.log"
            counts = Counter(ACCESS_STATUS.findall(access.read_text(errors="replace"))) if access.exists() else {}
            parts.append(f"{name} answered " + ", ".join(f"{status}: {n}" for status, n in sorted(counts.items())))
        for name in ("portal", "registry"):
            log = self.tmp / f"{name}.log"
            lines = log.read_text(errors="replace").splitlines() if log.exists() else []
            errors = Counter(line[:160] for line in lines if "Error" in line and not line.startswith("Traceback"))
            if errors:
                parts.append(f"{name} log: " + " | ".join(f"{line} (x{n})" for line, n in errors.most_common(2)))
        return "; ".join(parts)

    def cpu_seconds(self) -> dict[str, float]:
        """Return the CPU seconds each server has used so far, its processes and their children together (Linux)."""
        return {name: process_tree_cpu(pid) for name, pid in self.pids.items()}

    def person_headers(self, number: int) -> dict[str, str]:
        """Headers that make a registry request on behalf of synthetic person `number`, as the portal signs them."""
        return {"X-Portal-Identity": sign_identity(self.identity_secret, person_claims(number))}

    def draft_answers(self) -> dict[str, Any]:
        """Return valid answers to the benchmark form (without the declaration, which is given when submitting)."""
        document = requests.get(f"{self.api}/services/{SERVICE}/forms/application", timeout=10)
        document.raise_for_status()
        definition = load_definition(document.json()["definition"])
        answers = example_answers(definition, today=riga_today())
        answers.pop("declaration", None)
        return answers

    def make_drafts(self, number: int, count: int, answers: dict[str, Any]) -> list[str]:
        """Start `count` drafts of person `number` in the registry, answered up to the check page; return their ids.

        The portal would resume a person's draft of a service rather than start another, but the registry keeps
        as many as it is asked for: each submission of the benchmark then submits a fresh draft.
        """
        ids = []
        with requests.Session() as session:
            session.headers.update(self.person_headers(number))
            for _ in range(count):
                started = session.post(
                    f"{self.api}/me/drafts", json={"service": SERVICE, "form": "application"}, timeout=10
                )
                started.raise_for_status()
                draft_id = str(started.json()["id"])
                saved = session.put(
                    f"{self.api}/me/drafts/{draft_id}", json={"answers": answers, "current_page": "check"}, timeout=10
                )
                saved.raise_for_status()
                ids.append(draft_id)
        return ids


def process_tree_cpu(root: int) -> float:
    """Return the user and system CPU seconds of process `root` and its descendants, from /proc (0 elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # it has just exited
        fields = stat[stat.rindex(")") + 2 :].split()  # from the state on: the name may hold spaces
        parents[int(entry.name)] = int(fields[1])
        # utime, stime, and cutime, cstime of children it has waited for (gunicorn's settings check)
        used[int(entry.name)] = sum(int(value) for value in fields[11:15]) / tick
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += used.get(pid, 0.0)
        todo += [child for child, parent in parents.items() if parent == pid]
    return total


def csrf_token(html: str) -> str:
    """Return the first CSRF token of a page."""
    found = CSRF.search(html)
    if not found:
        raise RuntimeError("no CSRF token in the page")
    return found[1]


def sign_in(portal: str, person: str) -> requests.Session:
    """Sign `person` (a demo person's id) in through the portal's demonstration provider; return the session."""
    session = requests.Session()
    form = session.get(f"{portal}/lv/sign-in", timeout=10)
    form.raise_for_status()
    signed = session.post(
        f"{portal}/lv/sign-in",
        data={"csrf_token": csrf_token(form.text), "person": person},
        timeout=10,
        allow_redirects=False,
    )
    if signed.status_code != 303:
        raise RuntimeError(f"sign-in of {person} answered {signed.status_code}")
    return session


def sign_in_person(portal: str, number: int) -> requests.Session:
    """Sign synthetic person `number` in."""
    return sign_in(portal, person_id(number))


def cookie_header(session: requests.Session) -> str:
    """Return the session's cookies as one Cookie header (for wrk)."""
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in session.cookies)


def check_tools(variants: list[str]) -> None:
    """Stop early, with the make target to run, when a variant's server programs are missing."""
    if "postgres" in variants:
        from tests.fixtures.postgres import URL_ENV, find_pg_bin

        if find_pg_bin() is None and not os.environ.get(URL_ENV):
            raise SystemExit("PostgreSQL (initdb, pg_ctl) not found: run `make postgres` or set PG_BIN")
        if shutil.which("redis-server") is None:
            raise SystemExit("redis-server not found: run `make redis`")


def _log(message: str) -> None:
    print(f"<!-- {message} -->", file=sys.stderr, flush=True)


@contextlib.contextmanager
def running(
    variant: str,
    *,
    services: int,
    cases: int,
    portal_threads: int | None = None,
    registry_workers: int | None = None,
    people: int = 250,
) -> Iterator[Stack]:
    """Fill a database, start the registry and the portal of `variant`; stop everything (by PID) afterwards."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}: one of {', '.join(VARIANTS)}")
    identity_secret = secrets.token_hex(32)
    with contextlib.ExitStack() as cleanup:
        tmp = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix=f"bench-{variant}-")))
        portal_env = {
            "PORTAL_ENV": "development",  # production refuses the demonstration sign-in
            "SECRET_KEY": secrets.token_hex(32),
            "REGISTRY_IDENTITY_SECRET": identity_secret,
            "BENCH_PEOPLE": str(people),
            # The SQLite variant's registry cache (not the shell's REDIS_URL); the other variant sets REDIS_URL below.
            "REDIS_URL": "",
            "REGISTRY_CACHE": "sqlite",
            "REGISTRY_CACHE_PATH": str(tmp / "cache"),
            # One client address sends everything: rate limits off (app/limits.py), or most answers would be 429.
            **dict.fromkeys(LIMIT_SETTINGS, ""),
        }
        if portal_threads:
            portal_env["PORTAL_THREADS"] = str(portal_threads)
        # Access logs to files (as a production server writes them somewhere): statuses to report when a run fails.
        portal_env["PORTAL_ACCESS_LOG"] = str(tmp / "portal-access.log")
        registry_env = {
            "REGISTRY_IDENTITY_SECRET": identity_secret,
            "REGISTRY_ACCESS_LOG": str(tmp / "registry-access.log"),
        }
        if registry_workers:
            registry_env["REGISTRY_WORKERS"] = str(registry_workers)
        began = time.perf_counter()
        pids: dict[str, int] = {}
        if variant == "sqlite":
            database_url = f"sqlite:///{tmp}/registry.sqlite3"
        else:
            from tests.fixtures.postgres import start_postgres
            from tests.fixtures.redis_server import start_redis

            server = start_postgres()
            cleanup.callback(server.stop)
            database_url = server.create_database("bench")
            if server.base is not None:  # started here, not given by URL: its postmaster is ours to watch
                pids["PostgreSQL"] = int((server.data_dir / "postmaster.pid").read_text().split()[0])
            redis = cleanup.enter_context(contextlib.contextmanager(start_redis)(tmp))
            portal_env["REDIS_URL"] = redis.url
            pids["Redis"] = redis.process.pid
        fill(database_url, services)
        add_cases(database_url, cases)
        _log(f"{variant}: {services:,} services and {cases:,} cases in {time.perf_counter() - began:.0f} s")
        registry_port = free_port()
        registry = serve(database_url, registry_port, env=registry_env, log=tmp / "registry.log")
        cleanup.callback(stop, registry)
        portal_env["REGISTRY_URL"] = f"http://127.0.0.1:{registry_port}"
        portal_port = free_port()
        portal = start_gunicorn("bench.portal_wsgi:app", portal_env, portal_port, "/healthz", tmp / "portal.log")
        cleanup.callback(stop, portal)
        yield Stack(
            variant=variant,
            portal=f"http://127.0.0.1:{portal_port}",
            registry=f"http://127.0.0.1:{registry_port}",
            identity_secret=identity_secret,
            tmp=tmp,
            pids={"portal": portal.pid, "registry": registry.pid, **pids},
        )
