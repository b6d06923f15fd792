"""`make load`: 200 users browse, search, sign in, apply and submit for 60 s; requests, failures, median and p95.

The stack of bench/stack.py (a registry with 10,000 services and 10,000 cases, the portal under gunicorn with 2
workers, on loopback; `--variant postgres` for PostgreSQL and Redis) is started, then locust runs headless in a
process of its own with the users of bench/locustfile.py: --users users started at --spawn-rate a second, each
pausing --wait seconds between tasks, for --time seconds. Each user is a person of their own in the demonstration
sign-in. The settings that let 200 users in at once:

- the portal's gunicorn: gthread workers (2) keep every idle keep-alive connection without a thread, PORTAL_THREADS
  (4 each by default, --portal-threads) serve the requests; what does not fit waits in the socket's queue, not as
  an error;
- the portal's registry client keeps up to 10 connections per worker (requests' pool), more than its threads;
- the registry: REGISTRY_WORKERS=5 sync workers (--registry-workers; docs/operations.md: about 2 x cores + 1), one
  request each at a time, mostly waiting on the database: with the default 2, PostgreSQL's round trips kept both
  busy and the portal's threads waited for them. The portal's threads bound how many registry calls wait at once,
  far below the socket's queue (gunicorn's backlog, 2048); on SQLite, writers wait for each other up to the busy
  timeout (15 s, registry/db.py);
- every rate limit of the portal is off: all users come from 127.0.0.1, which the limits would count as one.

Failures are any answer but the one expected (200, or the redirect of a sign-in, a new draft, a save, a
submission), connection errors and timeouts (60 s). The run fails (exit 1) if there is any.

Run: `python -m bench.load [--variant sqlite|postgres] [--users 200] [--spawn-rate 50] [--time 60] [--wait 1-3]`.
locust is the optional extra `bench` of pyproject.toml: `make load` installs it.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.registry import ROOT
from bench.stack import VARIANTS, check_tools, running

NAMES = {"sqlite": "SQLite registry, portal cache in SQLite", "postgres": "PostgreSQL registry, portal state in Redis"}


def children_cpu() -> float:
    """Return the CPU seconds of the child processes waited for so far (locust, once it has finished)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_locust(portal: str, tmp: Path, args: argparse.Namespace, wait: tuple[float, float]) -> tuple[int, str]:
    """Run locust headless against `portal`; return its exit code and its output."""
    env = {
        **os.environ,
        "BENCH_SERVICES": str(args.services),
        "BENCH_WAIT_MIN": str(wait[0]),
        "BENCH_WAIT_MAX": str(wait[1]),
    }
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        "bench/locustfile.py",
        "--headless",
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        f"{args.time}s",
        "--stop-timeout",
        "30",
        "--host",
        portal,
        "--csv",
        str(tmp / "load"),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=args.time + 180, check=False
    )
    return result.returncode, result.stdout + result.stderr


def print_report(tmp: Path, args: argparse.Namespace, wait: tuple[float, float], conditions: str) -> int:
    """Print locust's per-request statistics as a markdown table; return the number of failures."""
    with (tmp / "load_stats.csv").open(newline="") as stats_file:
        rows = list(csv.DictReader(stats_file))
    print(
        f"# Load test: {args.users} users for {args.time} s ({NAMES[args.variant]}), "
        f"{args.services:,} services, {args.cases:,} cases\n"
    )
    print("| request | requests | failures | median ms | p95 ms | max ms | requests/s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    failures = 0
    for row in rows:
        name = row["Name"]
        label = "**all requests**" if name == "Aggregated" else f"{row['Type']} {name}"
        cells = [
            label,
            f"{int(row['Request Count']):,}",
            f"{int(row['Failure Count']):,}",
            f"{float(row['50%']):,.0f}",
            f"{float(row['95%']):,.0f}",
            f"{float(row['Max Response Time']):,.0f}",
            f"{float(row['Requests/s']):,.1f}",
        ]
        if name == "Aggregated":
            failures = int(row["Failure Count"])
            cells = [f"**{cell}**" if i else cell for i, cell in enumerate(cells)]
        print("| " + " | ".join(cells) + " |")
    print(
        f"\nlocust (FastHttpUser), headless, {args.users} users started at {args.spawn_rate}/s, each pausing "
        f"{wait[0]:g} to {wait[1]:g} s between tasks (weights: home 3, catalogue page 4, search 4, service page 4, "
        "apply 2: sign in once, start a draft, form page, save it, check page, submit, application page); times are "
        f"locust's, from sending the request to the last byte, over all {args.time} s including the ramp-up. "
        f"{conditions}"
    )
    failure_file = tmp / "load_failures.csv"
    if failure_file.exists():
        with failure_file.open(newline="") as handle:
            listed = [f"{r['Method']} {r['Name']}: {r['Error']} ({r['Occurrences']})" for r in csv.DictReader(handle)]
        if listed:
            print("\nFailures: " + "; ".join(listed[:10]))
    return failures


def main() -> None:
    """Start the stack, run locust, print the report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", default="sqlite", choices=sorted(VARIANTS))
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--spawn-rate", type=float, default=50)
    parser.add_argument("--time", type=int, default=60, help="seconds")
    parser.add_argument("--wait", default="1-3", help="seconds between a user's tasks: MIN-MAX")
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--portal-threads", type=int, default=4, help="PORTAL_THREADS (gunicorn.conf.py)")
    parser.add_argument("--registry-workers", type=int, default=5, help="REGISTRY_WORKERS")
    args = parser.parse_args()
    if importlib.util.find_spec("locust") is None:
        raise SystemExit("locust is not installed: `make load` installs the optional extra `bench` (pyproject.toml)")
    low, _, high = args.wait.partition("-")
    wait = (float(low), float(high or low))
    check_tools([args.variant])
    with running(
        args.variant,
        services=args.services,
        cases=args.cases,
        portal_threads=args.portal_threads,
        registry_workers=args.registry_workers,
        people=args.users,
    ) as stack:
        load_before = os.getloadavg()[0]
        servers_before, locust_before = stack.cpu_seconds(), children_cpu()
        began = time.perf_counter()
        code, output = run_locust(stack.portal, stack.tmp, args, wait)
        elapsed = time.perf_counter() - began
        used = {"locust": children_cpu() - locust_before}
        used |= {name: seconds - servers_before[name] for name, seconds in stack.cpu_seconds().items()}
        if not (stack.tmp / "load_stats.csv").exists():
            raise SystemExit(f"locust failed ({code}):\n{output[-3000:]}")
        conditions = (
            f"Portal: gunicorn, 2 workers x {args.portal_threads} threads; registry: {args.registry_workers} sync "
            f"workers; rate limits off; all on loopback, {os.cpu_count()} CPUs shared by locust, the portal, the "
            f"registry and its database (and whatever else runs: load average {load_before:.1f} before, "
            f"{os.getloadavg()[0]:.1f} after; locust ran {elapsed:.0f} s). CPU used meanwhile, in cores: "
            + ", ".join(f"{name} {seconds / elapsed:.2f}" for name, seconds in used.items())
            + "."
        )
        failures = print_report(stack.tmp, args, wait, conditions)
        if failures:
            print(f"\nServers: {stack.statuses()}")
    if failures or code not in (0, 1):
        sys.exit(1)


if __name__ == "__main__":
    main()
