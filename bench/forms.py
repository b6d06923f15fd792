"""Measure the biggest form, the income tax return (73 questions on 8 pages): pages, validation, page weight.

A registry with the seed catalogue (bench.registry.fill with no synthetic services) and the portal both run under
gunicorn on loopback ports chosen at start-up, as in bench.portal, and are stopped by PID at the end. The portal runs
the development config (PORTAL_ENV unset; Flask debug off, the same gunicorn.conf.py, REGISTRY_CACHE=sqlite) because
production refuses the demonstration sign-in, which is the only way to sign in here; its cookie is then not
`Secure`, so it travels over plain http.

A demo person signs in through the portal (POST /lv/sign-in, like the form); their draft of the form is started in
the registry with their signed identity, as the portal does, and a full answer set is saved into it, so every page
is shown. Then, with one client and a warm cache:
1. server time (`Server-Timing: app;dur`) of GET of each page and of the check page, median and p95 over --repeat;
2. server time of a POST of the largest page, with the answers the page shows (valid: save and 303) and with every
   text box set to "x!" (errors: 422), median and p95;
3. the HTML of each page: bytes and gzip -6 bytes;
4. in process, with time.perf_counter: forms.wtforms_builder.build_page_form + validate() of the largest page and of
   all pages, forms.answers.validate_answers of the whole answer set, and its JSON Schema with jsonschema.

Run: `python -m bench.forms [--repeat 50]` (about half a minute).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import requests
from flask import Flask
from jsonschema import Draft202012Validator
from werkzeug.datastructures import MultiDict

from bench.portal import free_port, gzipped, server_ms, start_gunicorn, stop
from bench.registry import _p95, fill, serve
from forms.answers import validate_answers
from forms.conditions import visible_pages
from forms.examples import example_answers
from forms.json_schema import answers_schema
from forms.loader import load_definition
from forms.model import FormDefinition
from forms.validators import format_checker
from forms.wtforms_builder import build_page_form, riga_today
from identity import sign_identity

SERVICE = "gada-ienakumu-deklaracija"
PERSON = {  # liga-berzina of app/auth/demo_people.toml, as the portal signs her identity for the registry
    "sub": "161175-19997",
    "name": "Līga Bērziņa",
    "kind": "person",
    "company": None,
    "company_name": None,
    "acr": "high",
}
WARM_UP = 3
IN_PROCESS_REPEAT = 200
Timings = tuple[float, float]


def full_answers(definition: FormDefinition) -> dict[str, Any]:
    """Answer every question (file questions aside: the benchmark measures forms, not uploads), "yes" to every
    yes/no question so that every conditional part is shown, two items in every group."""
    today = riga_today()
    known = {"person.name": PERSON["name"], "person.personal_code": PERSON["sub"]}
    answers = example_answers(definition, today=today, known=known, yes=True, every_question=True, group_items=2)
    problems = validate_answers(definition, answers, today=today)
    if problems:
        raise RuntimeError(f"the generated answers are not valid: {problems}")
    return answers


class FormFields(HTMLParser):
    """Collect what a browser would submit from each <form method=post> of a page (buttons left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, list[tuple[str, str, str]]]] = []  # (action, [(name, value, input type)])
        self._select: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append((a.get("action", ""), []))
        elif not self.forms or not a.get("name"):
            return
        elif tag == "input" and a.get("type", "text") not in ("submit", "button", "image", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.forms[-1][1].append((a["name"], a.get("value", "on"), a.get("type", "text")))
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.forms[-1][1].append((self._select, a.get("value", ""), "select"))
        elif tag == "textarea":
            self._textarea, self._text = a["name"], ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea and self.forms:
            self.forms[-1][1].append((self._textarea, self._text.removeprefix("\n"), "textarea"))
            self._textarea = None


def page_fields(html: str) -> list[tuple[str, str, str]]:
    """Return the fields of the page's question form: the post form with the most fields (not the sign-out form)."""
    parser = FormFields()
    parser.feed(html)
    return max((fields for _, fields in parser.forms), key=len)


def csrf_token(html: str) -> str:
    """Return the first CSRF token of a page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if not found:
        raise RuntimeError("no CSRF token in the page")
    return found[1]


def timed(session: requests.Session, method: str, url: str, status: int, repeat: int, **kw: Any) -> Timings:
    """Send a request WARM_UP + `repeat` times; return the server's median and p95 ms of the measured ones."""
    times = []
    for i in range(WARM_UP + repeat):
        response = session.request(method, url, timeout=20, allow_redirects=False, **kw)
        if response.status_code != status:
            raise RuntimeError(f"{method} {url}: HTTP {response.status_code}, expected {status}")
        if i >= WARM_UP:
            times.append(server_ms(response))
    return statistics.median(times), _p95(times)


def in_process(run: Callable[[], object], repeat: int = IN_PROCESS_REPEAT) -> Timings:
    """Return the median and p95 ms of `run`, after a few unmeasured calls."""
    for _ in range(WARM_UP):
        run()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), _p95(times)


def sign_in(portal: str) -> requests.Session:
    """Sign the demo person in through the portal's demonstration provider (its form is a POST)."""
    session = requests.Session()
    form = session.get(f"{portal}/lv/sign-in", timeout=10)
    signed = session.post(
        f"{portal}/lv/sign-in",
        data={"csrf_token": csrf_token(form.text), "person": "liga-berzina"},
        timeout=10,
        allow_redirects=False,
    )
    if signed.status_code != 303:
        raise RuntimeError(f"sign-in answered {signed.status_code}")
    return session


def start_full_draft(registry: str, identity_secret: str, definition: FormDefinition) -> tuple[str, dict[str, Any]]:
    """Start the person's draft in the registry, as the portal does, and save a full answer set; return its id."""
    headers = {"X-Portal-Identity": sign_identity(identity_secret, PERSON)}
    started = requests.post(
        f"{registry}/me/drafts", json={"service": SERVICE, "form": "application"}, headers=headers, timeout=10
    )
    started.raise_for_status()
    draft_id = str(started.json()["id"])
    answers = full_answers(definition)
    saved = requests.put(
        f"{registry}/me/drafts/{draft_id}",
        json={"answers": answers, "current_page": "check"},
        headers=headers,
        timeout=10,
    )
    saved.raise_for_status()
    return draft_id, answers


def print_table(title: str, rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
    """Print a markdown table."""
    print(f"## {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|---|" + "---:|" * (len(header) - 1))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()


def ms(timings: Timings) -> tuple[str, str]:
    """Format a median and p95."""
    return f"{timings[0]:.1f}", f"{timings[1]:.1f}"


def measure_in_process(
    definition: FormDefinition, answers: dict[str, Any], fields: dict[str, Any], largest: str
) -> None:
    """Section 4: the forms package on its own, inside a portal request context (as the views run it)."""
    from app import create_app  # the portal app only for its request context: translations of the messages

    app: Flask = create_app({"REGISTRY_CACHE": "memory", "TESTING": True})
    today = riga_today()
    schema = answers_schema(definition)
    validator = Draft202012Validator(schema, format_checker=format_checker())

    def build_and_validate(page_ids: list[str]) -> Callable[[], object]:
        def run() -> object:
            for page_id in page_ids:
                form = build_page_form(
                    definition, page_id, lang="lv", formdata=MultiDict(fields[page_id]), data=answers, today=today
                )
                if not form.validate():
                    raise RuntimeError(f"{page_id}: {form.errors}")
            return None

        return run

    pages = [p.id for p in visible_pages(definition, answers)]
    with app.test_request_context("/lv/"):
        rows = [
            ("build_page_form + validate(), largest page", *ms(in_process(build_and_validate([largest])))),
            (f"build_page_form + validate(), all {len(pages)} pages", *ms(in_process(build_and_validate(pages)))),
            (
                "forms.answers.validate_answers, whole answer set",
                *ms(in_process(lambda: validate_answers(definition, answers, today=today))),
            ),
            (
                "jsonschema, prebuilt Draft202012Validator: validate",
                *ms(in_process(lambda: validator.validate(answers))),
            ),
            (
                "jsonschema: answers_schema + validator + validate",
                *ms(
                    in_process(
                        lambda: Draft202012Validator(
                            answers_schema(definition), format_checker=format_checker()
                        ).validate(answers)
                    )
                ),
            ),
        ]
    print_table(f"In process ({IN_PROCESS_REPEAT} runs each, time.perf_counter)", rows, ("what", "median ms", "p95 ms"))


def main() -> None:
    """Start the registry and the portal, run the measurements and print markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=50, help="measured requests per page")
    args = parser.parse_args()
    began = time.perf_counter()
    identity_secret = secrets.token_hex(32)
    running: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="bench-forms-") as tmp_dir:
        tmp = Path(tmp_dir)
        try:
            database_url = f"sqlite:///{tmp}/registry.sqlite3"
            fill(database_url, 0)  # migrate and load the seed, forms included
            registry_port = free_port()
            os.environ["REGISTRY_IDENTITY_SECRET"] = identity_secret  # serve() passes our environment on
            running.append(serve(database_url, registry_port))
            registry = f"http://127.0.0.1:{registry_port}/api/v1"
            portal_port = free_port()
            portal_env = {
                "PORTAL_ENV": "development",
                "SECRET_KEY": secrets.token_hex(32),
                "REGISTRY_IDENTITY_SECRET": identity_secret,
                "REGISTRY_URL": f"http://127.0.0.1:{registry_port}",
                "REGISTRY_CACHE": "sqlite",
                "REGISTRY_CACHE_PATH": str(tmp / "cache"),
            }
            running.append(start_gunicorn("wsgi:app", portal_env, portal_port, "/healthz", tmp / "portal.log"))
            portal = f"http://127.0.0.1:{portal_port}"

            session = sign_in(portal)
            form_document = requests.get(f"{registry}/services/{SERVICE}/forms/application", timeout=10).json()
            definition = load_definition(form_document["definition"])
            draft_id, answers = start_full_draft(registry, identity_secret, definition)
            pages = [p.id for p in visible_pages(definition, answers)]
            questions = {
                p.id: sum(1 + len(q.questions or ()) for q in p.questions if q.type != "info") for p in definition.pages
            }
            largest = max(pages, key=lambda page_id: questions[page_id])
            draft_url = f"{portal}/lv/my/drafts/{draft_id}"

            print(
                f"# Form benchmark: `{SERVICE}`, {sum(questions.values())} questions on {len(definition.pages)} pages\n"
            )
            print(
                f"Portal and registry: gunicorn, 2 workers each, loopback, {os.cpu_count()} CPUs shared with the "
                f"client. Server time is the portal's `Server-Timing: app;dur` (registry calls included); "
                f"{WARM_UP} warm-up requests, then {args.repeat} measured, one at a time.\n"
            )
            rows, fields = [], {}
            for page_id in [*pages, "check"]:
                url = f"{draft_url}/check" if page_id == "check" else f"{draft_url}/pages/{page_id}"
                html = session.get(url, timeout=10, allow_redirects=False)
                if html.status_code != 200:
                    raise RuntimeError(f"GET {url}: HTTP {html.status_code}")
                if page_id != "check":
                    fields[page_id] = [(name, value) for name, value, _ in page_fields(html.text)]
                label = "check your answers" if page_id == "check" else page_id
                count = "" if page_id == "check" else str(questions[page_id])
                median, p95 = ms(timed(session, "GET", url, 200, args.repeat))
                rows.append((label, count, median, p95, f"{len(html.content):,}", f"{gzipped(html.content):,}"))
            print_table(
                "GET: each page of the form and the check page",
                rows,
                ("page", "questions", "server median ms", "server p95 ms", "HTML bytes", "gzip -6 bytes"),
            )

            page_html = session.get(f"{draft_url}/pages/{largest}", timeout=10).text
            valid = page_fields(page_html)
            broken = [(name, "x!" if kind == "text" else value, kind) for name, value, kind in valid]
            url = f"{draft_url}/pages/{largest}"
            post_rows = [
                (
                    f"valid answers ({len(valid)} fields): saved, 303",
                    *ms(timed(session, "POST", url, 303, args.repeat, data=[(n, v) for n, v, _ in valid])),
                ),
                (
                    'every text box "x!": errors, 422',
                    *ms(timed(session, "POST", url, 422, args.repeat, data=[(n, v) for n, v, _ in broken])),
                ),
            ]
            print_table(
                f"POST of the largest page, `{largest}` ({questions[largest]} questions)",
                post_rows,
                ("request", "server median ms", "server p95 ms"),
            )
            for page_id in fields:
                fields[page_id] = [(n, v) for n, v in fields[page_id] if n != "csrf_token"]
        finally:
            for process in reversed(running):
                stop(process)
        measure_in_process(definition, answers, fields, largest)
    print(f"<!-- total {time.perf_counter() - began:.0f} s -->")


if __name__ == "__main__":
    sys.exit(main())
