"""`make bench`: one table of the portal's pages with 10,000 services and 10,000 cases, on SQLite and on PostgreSQL.

For each variant of bench/stack.py (`sqlite`: the registry on SQLite, the portal's cache in a SQLite file;
`postgres`: the registry on PostgreSQL, the portal's cache, sessions, breaker and limits in Redis) a registry is
filled with --services synthetic services and --cases open cases, and the portal runs under gunicorn with 2 workers
against it. Then, for each page type (home, catalogue, search, service page, a form page, a form submission, the
staff queue):

- server time: the portal's `Server-Timing: app;dur` (its own time, registry calls included), median and p95 of
  --repeat sequential requests after a few unmeasured ones (warm caches);
- requests/s: wrk (2 threads, 16 connections, 10 s) on the page, the signed-in pages with the session's cookie; a
  form submission is a POST of the check page that submits a fresh draft (prepared in the registry beforehand, so
  the portal's Idempotency-Key is new each time too), sent by 8 threads, each signed in as a person of its own;
- page weight: the HTML's bytes, and its gzip size (what the server sends if it compresses, else gzip -6);
- the catalogue page's requests/s as a ratio to a trivial Flask route returning the same bytes under the same
  gunicorn config (bench/trivial_app.py).

Client and servers share the machine's CPUs: compare the numbers of one run with each other, not across machines.

Run: `python -m bench.table [--variants sqlite,postgres] [--services 10000] [--cases 10000] [--repeat 100]`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import requests

from bench.people import SERVICE
from bench.portal import free_port, gzipped, server_ms, start_gunicorn, stop
from bench.registry import _p95
from bench.stack import (
    EMPLOYEE,
    VARIANTS,
    Stack,
    check_tools,
    cookie_header,
    csrf_token,
    running,
    sign_in,
    sign_in_person,
)

WARM_UP = 5
WRK_SECONDS = 10
WRK_CONNECTIONS = 16
WRK_THREADS = 2
SUBMIT_THREADS = 8
CATALOGUE = "/lv/services"
SUBMISSION = "form submission"


@dataclass
class Row:
    """One page type's numbers in one variant."""

    request: str
    size: int
    packed: int
    median: float
    p95: float
    rps: float = 0.0
    compressed_by_server: bool = False


@dataclass
class Result:
    """One variant's rows, the trivial app's throughput and what went wrong."""

    variant: str
    rows: dict[str, Row] = field(default_factory=dict)
    trivial_rps: float = 0.0
    errors: list[str] = field(default_factory=list)
    load_before: float = 0.0
    load_after: float = 0.0
    seconds: float = 0.0


def timed_get(session: requests.Session, url: str, repeat: int) -> tuple[requests.Response, list[float]]:
    """GET `url` WARM_UP + `repeat` times (anything but 200 is an error); return the last answer and server times."""
    times = []
    for i in range(WARM_UP + repeat):
        response = session.get(url, timeout=30, allow_redirects=False)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: HTTP {response.status_code}")
        if i >= WARM_UP:
            times.append(server_ms(response))
    return response, times


def page_row(request: str, response: requests.Response, times: list[float]) -> Row:
    """Summarise a page: its weight (on the wire if the server compresses) and the server times."""
    body = response.content
    encoding = response.headers.get("Content-Encoding", "")
    compressed = encoding == "gzip"
    packed = int(response.headers.get("Content-Length", 0) or 0) if compressed else gzipped(body)
    return Row(request, len(body), packed, statistics.median(times), _p95(times), compressed_by_server=compressed)


def wrk(url: str, headers: dict[str, str]) -> tuple[float, str]:
    """Return wrk's requests/s on `url` and its error lines (non-2xx/3xx answers, socket errors), or a thread pool's."""
    tool = shutil.which("wrk")
    if tool is None:
        return pool(url, headers)
    command = [tool, f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{WRK_SECONDS}s", "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    result = subprocess.run([*command, url], capture_output=True, text=True, timeout=WRK_SECONDS + 60, check=True)
    match = re.search(r"Requests/sec:\s*([0-9.]+)", result.stdout)
    if not match:
        raise RuntimeError(f"no Requests/sec in wrk's output:\n{result.stdout}")
    problems = [line.strip() for line in result.stdout.splitlines() if "Non-2xx" in line or "Socket errors" in line]
    return float(match.group(1)), "; ".join(problems)


def pool(url: str, headers: dict[str, str]) -> tuple[float, str]:
    """Without wrk: WRK_CONNECTIONS threads with keep-alive sessions for WRK_SECONDS (the GIL: a slow client)."""
    ok, failed = [0] * WRK_CONNECTIONS, [0] * WRK_CONNECTIONS
    deadline = time.perf_counter() + WRK_SECONDS

    def client(slot: int) -> None:
        with requests.Session() as session:
            while time.perf_counter() < deadline:
                try:
                    answer = session.get(url, headers=headers, timeout=10, allow_redirects=False)
                except requests.RequestException:
                    failed[slot] += 1
                    continue
                if answer.status_code < 400:
                    ok[slot] += 1
                else:
                    failed[slot] += 1

    began = time.perf_counter()
    threads = [threading.Thread(target=client, args=(slot,)) for slot in range(WRK_CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(ok) / (time.perf_counter() - began), f"{sum(failed)} failed requests" if sum(failed) else ""


def submit(session: requests.Session, portal: str, draft_id: str, token: str) -> requests.Response:
    """Submit a draft from its check page as a browser does (declaration ticked); the portal answers 303."""
    response = session.post(
        f"{portal}/lv/my/drafts/{draft_id}/check",
        data={"csrf_token": token, "declaration": "y"},
        timeout=30,
        allow_redirects=False,
    )
    if response.status_code != 303 or "/my/applications/" not in response.headers.get("Location", ""):
        raise RuntimeError(f"submitting {draft_id}: HTTP {response.status_code} {response.headers.get('Location')}")
    return response


def measure_submissions(stack: Stack, repeat: int, per_thread: int) -> tuple[Row, list[str]]:
    """Server time of sequential submissions (person 0), then submissions/s of SUBMIT_THREADS people at once."""
    answers = stack.draft_answers()
    person = sign_in_person(stack.portal, 0)
    token = csrf_token(person.get(f"{stack.portal}/lv/my/applications", timeout=10).text)
    drafts = stack.make_drafts(0, WARM_UP + repeat, answers)
    times = []
    for i, draft_id in enumerate(drafts):
        response = submit(person, stack.portal, draft_id, token)
        if i >= WARM_UP:
            times.append(server_ms(response))
    row = Row("`POST /lv/my/drafts/<id>/check` → 303", len(response.content), gzipped(response.content), 0, 0)
    row.median, row.p95 = statistics.median(times), _p95(times)

    sessions, tokens, queues = [], [], []
    for number in range(1, SUBMIT_THREADS + 1):
        session = sign_in_person(stack.portal, number)
        sessions.append(session)
        tokens.append(csrf_token(session.get(f"{stack.portal}/lv/my/applications", timeout=10).text))
        queues.append(stack.make_drafts(number, per_thread, answers))
    done = [0] * SUBMIT_THREADS
    errors: list[str] = []

    def client(slot: int) -> None:
        for draft_id in queues[slot]:
            try:
                submit(sessions[slot], stack.portal, draft_id, tokens[slot])
                done[slot] += 1
            except (requests.RequestException, RuntimeError) as error:
                errors.append(str(error))

    began = time.perf_counter()
    threads = [threading.Thread(target=client, args=(slot,)) for slot in range(SUBMIT_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    row.rps = sum(done) / (time.perf_counter() - began)
    if errors:
        errors = [f"{len(errors)} of {SUBMIT_THREADS * per_thread} failed", *errors[:2]]
    return row, errors


def measure(stack: Stack, repeat: int, per_thread: int, service_id: str) -> Result:
    """Measure every page type of one running variant."""
    result = Result(stack.variant, load_before=os.getloadavg()[0])
    began = time.perf_counter()
    portal = stack.portal
    anonymous = requests.Session()
    person = sign_in_person(portal, 0)
    started = person.get(f"{portal}/lv/services/{SERVICE}/apply", timeout=30, allow_redirects=False)
    if started.status_code != 302:
        raise RuntimeError(f"starting a draft of {SERVICE}: HTTP {started.status_code}")
    form_page = urljoin(portal + "/", started.headers["Location"]).removeprefix(portal)
    employee = sign_in(portal, EMPLOYEE)
    pages = [
        ("home", anonymous, "/lv/"),
        ("catalogue", anonymous, CATALOGUE),
        ("search", anonymous, f"{CATALOGUE}?q=pabalsts"),
        ("service page", anonymous, f"{CATALOGUE}/{service_id}"),
        ("form page", person, form_page),
        ("staff queue", employee, "/lv/staff/"),
    ]
    catalogue_html = b""
    for label, session, path in pages:
        response, times = timed_get(session, portal + path, repeat)
        shown = re.sub(r"/drafts/[0-9a-f]+/", "/drafts/<id>/", path)
        result.rows[label] = page_row(f"`GET {shown}`", response, times)
        if label == "catalogue":
            catalogue_html = response.content
        print(f"<!-- {stack.variant}: {label} measured -->", file=sys.stderr, flush=True)
    for label, session, path in pages:
        headers = {"Cookie": cookie_header(session)} if session is not anonymous else {}
        result.rows[label].rps, problems = wrk(portal + path, headers)
        if problems:
            result.errors.append(f"{label}: {problems} ({stack.statuses()})")
        after = session.get(portal + path, timeout=30, allow_redirects=False)
        if after.status_code != 200:  # a lost session would have made wrk count redirects to the sign-in page
            result.errors.append(f"{label}: HTTP {after.status_code} after the load")
        print(f"<!-- {stack.variant}: {label} {result.rows[label].rps:.0f} requests/s -->", file=sys.stderr, flush=True)
    row, problems = measure_submissions(stack, repeat, per_thread)
    result.rows[SUBMISSION] = row
    if problems:
        result.errors.append(f"{SUBMISSION}: {'; '.join(problems)} ({stack.statuses()})")
    rows = result.rows
    result.rows = {label: rows[label] for label, _, _ in pages[:5]} | {
        SUBMISSION: row,
        "staff queue": rows["staff queue"],
    }
    result.trivial_rps = trivial(stack.tmp, catalogue_html, result)
    result.load_after = os.getloadavg()[0]
    result.seconds = time.perf_counter() - began
    return result


def trivial(tmp: Path, html: bytes, result: Result) -> float:
    """Serve the catalogue's bytes from bench/trivial_app.py under the portal's gunicorn config; return its req/s."""
    body = tmp / "catalogue.html"
    body.write_bytes(html)
    port = free_port()
    process = start_gunicorn("bench.trivial_app:app", {"TRIVIAL_BODY_PATH": str(body)}, port, CATALOGUE, tmp / "t.log")
    try:
        url = f"http://127.0.0.1:{port}{CATALOGUE}"
        if requests.get(url, timeout=10).content != html:
            raise RuntimeError("the trivial app does not serve the saved catalogue page")
        rps, problems = wrk(url, {})
        if problems:
            result.errors.append(f"trivial route: {problems}")
        return rps
    finally:
        stop(process)


def print_table(results: list[Result], args: argparse.Namespace, repeat: int, per_thread: int) -> None:
    """Print the one markdown table, both variants side by side, and what it was measured with."""
    services, cases = args.services, args.cases
    names = {"sqlite": "SQLite", "postgres": "PostgreSQL + Redis"}
    header = ["page", "request", "HTML bytes", "gzip bytes"]
    for result in results:
        name = names[result.variant]
        header += [f"{name}: server median ms", f"{name}: server p95 ms", f"{name}: req/s"]
    print(
        f"# Portal pages: {services:,} services, {cases:,} cases; portal: gunicorn, 2 workers x "
        f"{os.environ.get('PORTAL_THREADS') or 4} threads; registry: {args.registry_workers} sync workers\n"
    )
    print("| " + " | ".join(header) + " |")
    print("|---|---|" + "---:|" * (len(header) - 2))
    first = results[0]
    for label, row in first.rows.items():
        sizes = {result.rows[label].size for result in results}
        size = f"{row.size:,}" if max(sizes) - min(sizes) <= row.size // 100 else " / ".join(f"{s:,}" for s in sizes)
        packed = f"{row.packed:,}" + (" (server)" if row.compressed_by_server else "")
        cells = [label, row.request, size, packed]
        for result in results:
            other = result.rows[label]
            cells += [f"{other.median:.1f}", f"{other.p95:.1f}", f"{other.rps:,.0f}"]
        print("| " + " | ".join(cells) + " |")
    cells = [
        "trivial route, same bytes",
        f"`GET {CATALOGUE}` (bench/trivial_app.py)",
        f"{first.rows['catalogue'].size:,}",
        "",
    ]
    for result in results:
        cells += ["", "", f"{result.trivial_rps:,.0f}"]
    print("| " + " | ".join(cells) + " |")
    cells = ["**catalogue / trivial**", "requests/s ratio", "", ""]
    for result in results:
        cells += ["", "", f"**{result.rows['catalogue'].rps / result.trivial_rps:.2f}**"]
    print("| " + " | ".join(cells) + " |")
    compressed = any(row.compressed_by_server for result in results for row in result.rows.values())
    tool = "wrk" if shutil.which("wrk") else "a Python thread pool (wrk not found: a slow client, low figures)"
    print(
        f"\nServer time: `Server-Timing: app;dur` of {repeat} sequential requests after {WARM_UP} unmeasured ones "
        "(warm caches; the portal keeps registry answers 60 s, personal ones never). "
        f"req/s: {tool}, {WRK_THREADS} threads, {WRK_CONNECTIONS} connections, {WRK_SECONDS} s per page, "
        "signed-in pages with the session's cookie; a submission is the check page's POST of a fresh draft "
        f"(prepared in the registry; {SUBMIT_THREADS} threads, each a person of its own, {per_thread} each). "
        "The form page is the one page of `e-adreses-izveide`, the staff queue the demo NVA case worker's "
        f"(about {cases // 20:,} of the cases). gzip bytes: "
        + (
            "as the server sent them."
            if compressed
            else "gzip -6 of the HTML (the portal does not compress; a proxy would)."
        )
    )
    print("Variants: " + "; ".join(f"{names[r.variant]}: {VARIANTS[r.variant]}" for r in results) + ".")
    conditions = "; ".join(
        f"{names[r.variant]} measured in {r.seconds:.0f} s, load average {r.load_before:.1f} before and "
        f"{r.load_after:.1f} after"
        for r in results
    )
    print(
        f"Machine: {os.cpu_count()} CPUs shared by the client, the portal, the registry and its database "
        f"(and anything else running): {conditions}."
    )
    errors = [f"{names[r.variant]}: {error}" for r in results for error in r.errors]
    print("Errors: " + ("; ".join(errors) if errors else "none") + ".")


def main() -> None:
    """Run each variant and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=100, help="sequential requests per page for server time")
    parser.add_argument("--submissions", type=int, default=30, help="submissions per thread for requests/s")
    parser.add_argument("--registry-workers", type=int, default=5, help="REGISTRY_WORKERS (about 2 x cores + 1)")
    args = parser.parse_args()
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    check_tools(variants)
    service_id = f"sint-{args.services // 2:06d}"  # bench.registry names them sint-000000 ... sint-<N-1>
    results = []
    for variant in variants:
        people = SUBMIT_THREADS + 1
        with running(
            variant, services=args.services, cases=args.cases, people=people, registry_workers=args.registry_workers
        ) as stack:
            results.append(measure(stack, args.repeat, args.submissions, service_id))
    print_table(results, args, args.repeat, args.submissions)
    if any(result.errors for result in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
