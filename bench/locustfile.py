"""The load test's users, for locust (run by bench/load.py: `locust -f bench/locustfile.py --headless ...`).

Each simulated user is a visitor of the state portal (127.0.0.1 is one of its hosts) who, between pauses of
BENCH_WAIT_MIN to BENCH_WAIT_MAX seconds, looks at the home page, pages through the catalogue, searches, opens a
service's page, or applies online: signs in with the demonstration provider (once, as a synthetic person of their
own: bench/portal_wsgi.py), starts a draft of `e-adreses-izveide`, opens its form page, saves it, opens the check
page and submits (the portal sends the registry the submission with an Idempotency-Key of its own, one per draft),
then sees the application's page. Every answer's status is checked; anything else is a failure.

Runs inside locust's gevent loop: imports only locust, the standard library and bench/people.py.
"""

from __future__ import annotations

import itertools
import os
import random
import re
from urllib.parse import quote_plus, urlsplit

from locust import FastHttpUser, between, task

from bench.people import FORM_PAGE, SERVICE, person_id

SERVICES = int(os.environ.get("BENCH_SERVICES", "10000"))
CATALOGUE_PAGES = max(1, min(50, SERVICES // 20))  # 20 services a page: at most the first thousand
WAIT = (float(os.environ.get("BENCH_WAIT_MIN", "1")), float(os.environ.get("BENCH_WAIT_MAX", "3")))
# Words people search for (folded and stemmed by the registry): seed services' and the synthetic Finnish names'.
SEARCHES = [
    "pabalsts",
    "berna pabalsts",
    "deklaresana",
    "dzivesvieta",
    "registracija",
    "pase",
    "personas apliecība",
    "atlauja",
    "nodoklis",
    "bezdarbnieks",
    "e-adrese",
    "laulība",
    "pensija",
    "transportlīdzeklis",
    "uzņēmums",
    "tuki",
    "lupa",
    "palvelu",
    "ilmoitus",
    "rekisteri",
]
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
ASKED = re.compile(r'name="asked" id="asked-questions" value="([^"]*)"')
NUMBERS = itertools.count()  # each user signs in as a person of their own


def _path(location: str) -> str:
    """Return the path and query of a redirect's Location (relative or absolute)."""
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Visitor(FastHttpUser):
    """Someone using the portal: mostly browsing and searching, sometimes applying."""

    wait_time = between(*WAIT)
    network_timeout = 60.0
    connection_timeout = 60.0

    def on_start(self) -> None:
        """Pick this user's person; sign-in happens on the first application."""
        self.number = next(NUMBERS)
        self.signed_in = False

    def _get(self, path: str, name: str, status: int = 200) -> str:
        """GET `path` without following redirects; another status than `status` fails. Return the body or Location."""
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as response:
            if response.status_code != status:
                response.failure(f"HTTP {response.status_code}, expected {status}")
                return ""
            if status in (302, 303):
                return _path(response.headers.get("Location", ""))
            return response.text or ""

    def _post(self, path: str, name: str, data: dict[str, str], status: int = 303) -> str:
        """POST a form (no redirects followed); return the Location of the expected redirect, "" on failure."""
        with self.client.post(path, name=name, data=data, allow_redirects=False, catch_response=True) as response:
            if response.status_code != status:
                response.failure(f"HTTP {response.status_code}, expected {status}")
                return ""
            return _path(response.headers.get("Location", ""))

    @task(3)
    def home(self) -> None:
        self._get("/lv/", "home")

    @task(4)
    def catalogue(self) -> None:
        page = random.randint(1, CATALOGUE_PAGES)
        self._get(f"/lv/services?page={page}" if page > 1 else "/lv/services", "catalogue")

    @task(4)
    def search(self) -> None:
        self._get(f"/lv/services?q={quote_plus(random.choice(SEARCHES))}", "search")

    @task(4)
    def service_page(self) -> None:
        self._get(f"/lv/services/sint-{random.randrange(SERVICES):06d}", "service page")

    @task(2)
    def apply(self) -> None:
        """Sign in (once), start a draft, save its page, submit it, see the application."""
        if not self.signed_in:
            form = self._get("/lv/sign-in", "sign-in page")
            token = CSRF.search(form)
            if not token:
                return
            if not self._post("/lv/sign-in", "sign in", {"csrf_token": token[1], "person": person_id(self.number)}):
                return
            self.signed_in = True
        page = self._get(f"/lv/services/{SERVICE}/apply", "start a draft", status=302)
        if not page.endswith(f"/pages/{FORM_PAGE}"):
            return
        html = self._get(page, "form page")
        token, asked = CSRF.search(html), ASKED.search(html)
        if not token or not asked:
            return
        answers = {
            "csrf_token": token[1],
            "asked": asked[1],
            "notification_email": f"{person_id(self.number)}@example.lv",
            "notification_phone": "+37121234567",
            "notification_channels": "email",
        }
        check = self._post(page, "save the form page", answers)
        if not check.endswith("/check"):
            return
        if not self._get(check, "check page"):
            return
        application = self._post(check, "submit", {"csrf_token": token[1], "declaration": "y"})
        if "/my/applications/" in application:
            self._get(application, "application page")
