"""Measure the portal: page latency, throughput against a trivial Flask app, and the weight of a first visit.

A registry filled with N synthetic services (bench.registry.fill) runs under its production gunicorn config; the
portal runs under its own (`gunicorn -c gunicorn.conf.py wsgi:app`, 2 workers, PORTAL_ENV=production) with the
shared SQLite response cache in a temporary directory. Everything listens on loopback ports chosen at start-up and is
stopped by PID at the end. Client, portal and registry share the machine's cores: compare the numbers of one run
with each other (the portal/trivial ratio), not with another machine's.

Run: `python -m bench.portal [--services 10000] [--repeat 200]`.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import requests

from app.limits import LIMIT_SETTINGS
from bench.registry import ROOT, _p95, fill, serve

WORKERS = 2
WARM_UP = 5  # requests per URL before measuring: fills the portal's registry cache and the workers' template caches
LOAD_SECONDS = 10
LOAD_CONNECTIONS = 16
STATE = "localhost"
MUNICIPAL = "riga.localhost"
CATALOGUE = "/lv/services"
SERVER_TIMING = re.compile(r"\bapp;dur=([0-9.]+)")


def free_port() -> int:
    """Return a loopback port that is free now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_gunicorn(app: str, env: dict[str, str], port: int, probe: str, log: Path) -> subprocess.Popen[bytes]:
    """Start `app` with the portal's gunicorn config and wait until `probe` answers (as bench.registry.serve does)."""
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", app],
            cwd=ROOT,
            env={**os.environ, **env, "PORT": str(port), "PORTAL_WORKERS": str(WORKERS)},
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    url = f"http://127.0.0.1:{port}{probe}"
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"{app} exited with {process.returncode}:\n{log.read_text(errors='replace')[-2000:]}")
        try:
            if requests.get(url, headers={"Host": STATE}, timeout=2).ok:
                return process
        except requests.RequestException:
            pass  # gunicorn accepts connections before its workers have imported the app
        time.sleep(0.1)
    stop(process)
    raise RuntimeError(f"{app} did not answer {url}:\n{log.read_text(errors='replace')[-2000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop one server by its PID: SIGTERM (gunicorn shuts its workers down), SIGKILL if it hangs."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def server_ms(response: requests.Response) -> float:
    """Return the server's own time from `Server-Timing: app;dur=<ms>`."""
    match = SERVER_TIMING.search(response.headers.get("Server-Timing", ""))
    if not match:
        raise RuntimeError(f"{response.url}: no Server-Timing app;dur in the response")
    return float(match.group(1))


def fetch(session: requests.Session, url: str, host: str) -> requests.Response:
    """GET `url` as `host`; anything but 200 (a redirect included) is an error."""
    response = session.get(url, headers={"Host": host}, timeout=10, allow_redirects=False)
    if response.status_code != 200:
        raise RuntimeError(f"{host} {url}: HTTP {response.status_code}")
    return response


def latency(base: str, host: str, path: str, repeat: int) -> tuple[int, float, float, float, float]:
    """Return body bytes, server median and p95, client median and p95 in ms, after WARM_UP unmeasured requests."""
    url = base + path
    with requests.Session() as session:
        for _ in range(WARM_UP):
            size = len(fetch(session, url, host).content)
        client, server = [], []
        for _ in range(repeat):
            began = time.perf_counter()
            response = fetch(session, url, host)
            client.append((time.perf_counter() - began) * 1000)
            server.append(server_ms(response))
    return size, statistics.median(server), _p95(server), statistics.median(client), _p95(client)


def load_wrk(wrk: str, url: str, host: str) -> tuple[float, str, float]:
    """Return wrk's requests per second, its error lines (non-2xx answers, socket errors) and its CPU (cores)."""
    cpu = _children_cpu()
    result = subprocess.run(
        [wrk, "-t2", f"-c{LOAD_CONNECTIONS}", f"-d{LOAD_SECONDS}s", "--timeout", "5s", "-H", f"Host: {host}", url],
        capture_output=True,
        text=True,
        timeout=LOAD_SECONDS + 30,
        check=True,
    )
    match = re.search(r"Requests/sec:\s*([0-9.]+)", result.stdout)
    if not match:
        raise RuntimeError(f"no Requests/sec in wrk's output:\n{result.stdout}")
    problems = [line.strip() for line in result.stdout.splitlines() if "Non-2xx" in line or "Socket errors" in line]
    return float(match.group(1)), "; ".join(problems) or "none", (_children_cpu() - cpu) / LOAD_SECONDS


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # processes waited for: wrk once it has finished
    return usage.ru_utime + usage.ru_stime


def load_python(url: str, host: str) -> tuple[float, str, float]:
    """Return requests/s, errors and client CPU (cores) of LOAD_CONNECTIONS threads with keep-alive sessions."""
    ok = [0] * LOAD_CONNECTIONS
    failed = [0] * LOAD_CONNECTIONS
    cpu = time.process_time()
    began = time.perf_counter()
    deadline = began + LOAD_SECONDS

    def client(slot: int) -> None:
        with requests.Session() as session:
            while time.perf_counter() < deadline:
                try:
                    response = session.get(url, headers={"Host": host}, timeout=5, allow_redirects=False)
                except requests.RequestException:
                    failed[slot] += 1
                    continue
                if response.status_code == 200:
                    ok[slot] += 1
                else:
                    failed[slot] += 1

    threads = [threading.Thread(target=client, args=(slot,), daemon=True) for slot in range(LOAD_CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=LOAD_SECONDS + 10)  # each request has a 5 s timeout, so this is never reached normally
    elapsed = time.perf_counter() - began
    errors = f"{sum(failed)} failed requests" if sum(failed) else "none"
    return sum(ok) / elapsed, errors, (time.process_time() - cpu) / elapsed


class Assets(HTMLParser):
    """Collect the stylesheets (<link rel=stylesheet href>) and scripts (<script src>) of a page, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "link" and "stylesheet" in values.get("rel", "").lower().split() and values.get("href"):
            self.urls.append(("stylesheet", values["href"]))
        elif tag == "script" and values.get("src"):
            self.urls.append(("script", values["src"]))


def gzipped(body: bytes) -> int:
    """Return the size of `body` compressed with gzip level 6 (what a reverse proxy would typically send)."""
    return len(gzip.compress(body, compresslevel=6))


def print_latency(portal: str, pages: list[tuple[str, str, str]], repeat: int) -> None:
    """Section 1: server and client latency of each page with a warm cache."""
    print(f"## Latency, warm cache ({WARM_UP} warm-up requests, then {repeat} sequential requests)\n")
    print("| page | Host | path | bytes | server median ms | server p95 ms | client median ms | client p95 ms |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for label, host, path in pages:
        size, *times = latency(portal, host, path, repeat)
        print(f"| {label} | {host} | `{path}` | {size:,} | " + " | ".join(f"{t:.1f}" for t in times) + " |", flush=True)
    print(
        "\nServer time is the portal's `Server-Timing: app;dur` (from its first timed before_request hook to "
        "after_request); client time adds HTTP parsing, loopback and the client. The registry's answers are fresh "
        "for 60 s, then revalidated with If-None-Match, so revalidations can land among the measured requests.\n"
    )


def first_visit(portal: str) -> list[tuple[str, str, str | None, bytes]]:
    """Fetch the catalogue page and every stylesheet and script it references: (kind, URL, Content-Encoding, body)."""
    with requests.Session() as session:
        page = fetch(session, portal + CATALOGUE, STATE)
        collector = Assets()
        collector.feed(page.text)
        files = [("HTML", CATALOGUE, page.headers.get("Content-Encoding"), page.content)]
        for kind, href in collector.urls:
            asset = fetch(session, urljoin(portal + CATALOGUE, href), STATE)
            files.append((kind, href, asset.headers.get("Content-Encoding"), asset.content))
    return files


def print_weight(files: list[tuple[str, str, str | None, bytes]]) -> None:
    """Section 3: raw and gzip sizes of a first visit."""
    print(f"## Page weight of a first visit to `{CATALOGUE}` (Host: {STATE})\n")
    print("| resource | URL | raw bytes | gzip -6 bytes |")
    print("|---|---|---:|---:|")
    total_raw = total_gzip = 0
    for kind, url, _, body in files:
        raw, packed = len(body), gzipped(body)
        total_raw += raw
        total_gzip += packed
        print(f"| {kind} | `{url}` | {raw:,} | {packed:,} |")
    print(f"| **total** | {len(files)} files | **{total_raw:,}** | **{total_gzip:,}** |")
    encodings = sorted({encoding for _, _, encoding, _ in files if encoding})
    print(
        "\ngzip sizes are computed here with Python's gzip module, level 6. gunicorn itself does not compress "
        f"(Content-Encoding seen although requests sends `Accept-Encoding: gzip`: {', '.join(encodings) or 'none'}); "
        "in production a reverse proxy in front of it would."
    )


def main() -> None:
    """Fill the registry, start the servers, run the three measurements and print markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=10_000, help="synthetic services in the registry")
    parser.add_argument("--repeat", type=int, default=200, help="measured requests per page")
    args = parser.parse_args()
    service_id = f"sint-{args.services // 2:06d}"  # bench.registry names them sint-000000 ... sint-<N-1>
    pages = [
        ("catalogue", STATE, CATALOGUE),
        ("search", STATE, f"{CATALOGUE}?q=pabalsts"),
        ("filtered search, municipal point", MUNICIPAL, f"{CATALOGUE}?q=pabalsts&audience=residents"),
        ("service page", STATE, f"{CATALOGUE}/{service_id}"),
        ("home page", STATE, "/lv/"),
    ]
    wrk = shutil.which("wrk")
    if wrk:
        tool = f"wrk ({wrk}), 2 threads, {LOAD_CONNECTIONS} connections, {LOAD_SECONDS} s"
    else:
        tool = (
            f"Python load generator, {LOAD_CONNECTIONS} threads each with a keep-alive requests.Session, "
            f"{LOAD_SECONDS} s (wrk was not found)"
        )
    began = time.perf_counter()
    running: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="bench-portal-") as tmp_dir:
        tmp = Path(tmp_dir)
        try:
            database_url = f"sqlite:///{tmp}/registry.sqlite3"
            fill(database_url, args.services)
            print(f"<!-- filled {args.services:,} services in {time.perf_counter() - began:.1f} s -->", file=sys.stderr)
            registry_port = free_port()
            running.append(serve(database_url, registry_port))
            portal_port = free_port()
            portal_env = {
                "PORTAL_ENV": "production",
                "SECRET_KEY": secrets.token_hex(32),
                "REGISTRY_IDENTITY_SECRET": secrets.token_hex(32),
                "REGISTRY_URL": f"http://127.0.0.1:{registry_port}",
                "REGISTRY_CACHE": "sqlite",
                "REGISTRY_CACHE_PATH": str(tmp / "cache"),
                # One client address sends everything: rate limits off (app/limits.py), or most answers would be 429.
                **dict.fromkeys(LIMIT_SETTINGS, ""),
            }
            running.append(start_gunicorn("wsgi:app", portal_env, portal_port, "/healthz", tmp / "portal.log"))
            portal = f"http://127.0.0.1:{portal_port}"

            print(f"# Portal benchmark: {args.services:,} synthetic services, {os.cpu_count()} CPUs shared by all\n")
            print(
                f"Registry and portal: gunicorn with {WORKERS} workers each, on loopback (the registry's sync workers; "
                "the portal's gthread workers from gunicorn.conf.py), the portal with PORTAL_ENV=production and "
                "REGISTRY_CACHE=sqlite (one cache file shared by its workers).\n"
            )
            print_latency(portal, pages, args.repeat)
            files = first_visit(portal)
            html = files[0][3]
            body_file = tmp / "catalogue.html"
            body_file.write_bytes(html)

            print(f"<!-- load on the portal: {tool} -->", file=sys.stderr)
            load = partial(load_wrk, wrk) if wrk else load_python
            portal_rps, portal_errors, portal_cpu = load(portal + CATALOGUE, STATE)
            trivial_port = free_port()
            trivial_env = {"TRIVIAL_BODY_PATH": str(body_file)}
            trivial = start_gunicorn("bench.trivial_app:app", trivial_env, trivial_port, CATALOGUE, tmp / "t.log")
            running.append(trivial)
            trivial_url = f"http://127.0.0.1:{trivial_port}{CATALOGUE}"
            with requests.Session() as session:
                bodies = {fetch(session, trivial_url, STATE).content for _ in range(WARM_UP)}
            if bodies != {html}:
                raise RuntimeError("the trivial app does not serve the saved catalogue page")
            print("<!-- load on the trivial app -->", file=sys.stderr)
            trivial_rps, trivial_errors, trivial_cpu = load(trivial_url, STATE)

            print(f"## Throughput of the catalogue page `{CATALOGUE}` ({len(html):,} bytes)\n")
            print(f"Load: {tool}. Client and servers share the {os.cpu_count()} CPUs; compare the ratio.\n")
            print("| server | requests/s | errors | CPU used by the client (cores) |")
            print("|---|---:|---|---:|")
            print(
                f"| portal (`wsgi:app`, {WORKERS} workers) | {portal_rps:,.0f} | {portal_errors} | {portal_cpu:.2f} |"
            )
            trivial_label = "trivial Flask app (`bench.trivial_app`), same bytes and config"
            print(f"| {trivial_label} | {trivial_rps:,.0f} | {trivial_errors} | {trivial_cpu:.2f} |")
            print(f"| **ratio portal / trivial** | **{portal_rps / trivial_rps:.2f}** | | |")
            if not wrk:
                print(
                    "\nThe Python client shares the CPUs with the servers and its GIL keeps it to about one core (see "
                    "its CPU column): it holds the faster server back far more, so the trivial app's figure is a low "
                    "estimate and the ratio can be several times too high. Install Debian `wrk` for a light client."
                )
            print()
            print_weight(files)
        finally:
            for process in reversed(running):
                stop(process)
    print(f"\n<!-- total {time.perf_counter() - began:.0f} s -->")


if __name__ == "__main__":
    main()
