"""Fault injection: the portal over a registry that is slow, failing, refusing, cut short or restarting.

Real processes on 127.0.0.1 only: a registry (gunicorn, SQLite) behind tests/fixtures/registry_proxy.py, which fails
requests the way each test tells it to, and a portal app on the test config with short timeouts. A person signed in
with the demo sign-in reads the catalogue, fills in a form and sends it while the registry fails:

- reads serve the stale copy with the "may be out of date" notice, or the themed 503 page with nothing cached;
- a form page posted while the registry fails keeps what was typed (the page again, or the 503 page and the page
  with the answers once the registry is back);
- a submission whose answer is lost (or whose registry restarts) gives exactly one application once it is retried;
- the circuit breaker opens, keeps every request away from the registry for its cool-down, and closes again.

Never a 500 or a stack trace. Bounded: every wait has a timeout; the whole module takes well under a minute.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from werkzeug.test import TestResponse

from app.registry_client.breaker import CircuitBreaker
from identity import sign_identity
from registry.config import TestConfig as RegistryTestConfig
from tests.fixtures.applications import delete_drafts, demo_claims
from tests.fixtures.html_checks import page_problems
from tests.fixtures.portal import Browser, make_portal
from tests.fixtures.registry_proxy import RegistryProxy
from tests.fixtures.registry_server import RegistryProcess, start_registry
from tests.integration.test_portal_sign_in import HOST, LIGA, csrf_token, sign_in_as

pytestmark = pytest.mark.integration

SERVICE = "pases-izsniegsana"
SERVICE_NAME = "Pases izsniegšana"
FORM_SERVICE = "e-adreses-izveide"  # one page (notifications), then the check page with the declaration
STALE_NOTICE = "daļa informācijas var būt novecojusi"
UNAVAILABLE = "Pakalpojums īslaicīgi nav pieejams"
NOT_SAVED = 'id="not-saved"'
# The client gives up after READ_TIMEOUT; a delayed request takes DELAY (longer) to reach the registry.
READ_TIMEOUT = 1.0
DELAY = 1.4
COOLDOWN = 3.0  # long enough for the pages shown while it is open, on a busy machine

# Every way the registry fails, as the proxy plays it.
FAULTS = ["500", "503", "slow", "refused", "truncated", "cut-off"]


def inject(proxy: RegistryProxy, fault: str, methods: set[str] | None = None) -> None:
    """Make the proxy fail the way `fault` says (for `methods` only, if given)."""
    proxy.methods = methods
    if fault in ("500", "503"):
        proxy.failing = int(fault)
        proxy.retry_after = "1" if fault == "503" else None
    elif fault == "slow":
        proxy.delay = DELAY
    elif fault == "refused":
        proxy.refuse()
    elif fault == "truncated":
        proxy.truncate = "body"  # a well-formed 200 whose JSON stops half-way
    elif fault == "cut-off":
        proxy.truncate = "connection"  # the header promises the whole body; the connection ends half-way
    else:
        raise ValueError(fault)


def no_crash(response: TestResponse) -> str:
    """Assert the response is no 500 and shows no stack trace; return its text."""
    text = response.get_data(as_text=True)
    assert response.status_code != 500, text[:500]
    assert "Traceback" not in text and "RegistryError" not in text
    return text


# Fixtures -----------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    """A registry of its own (tests here restart it) whose answers are stale at once (max-age 0: every page asks)."""
    yield from start_registry(
        tmp_path_factory.mktemp("faults-registry"),
        env={"REGISTRY_CACHE_MAX_AGE": "0", "REGISTRY_IDENTITY_SECRET": RegistryTestConfig.IDENTITY_SECRET},
    )


@pytest.fixture
def proxy(registry: RegistryProcess) -> Iterator[RegistryProxy]:
    found = RegistryProxy(registry.url)
    yield found
    found.stop()


def portal(proxy: RegistryProxy, **overrides: object) -> Flask:
    """A portal over the proxy with short timeouts, no retries, and a breaker that stays shut unless asked."""
    settings: dict[str, object] = {
        "REGISTRY_TIMEOUT": (1.0, READ_TIMEOUT),
        "REGISTRY_RETRIES": 0,
        "BREAKER_FAILURES": 10_000,
    }
    return make_portal(proxy.url, **{**settings, **overrides})


@pytest.fixture
def person(proxy: RegistryProxy, registry: RegistryProcess) -> Iterator[Browser]:
    """Līga, signed in on a portal over the proxy, without drafts of FORM_SERVICE."""
    delete_drafts(registry, LIGA, FORM_SERVICE)
    with portal(proxy).test_client() as client:
        browser = Browser(client)
        assert sign_in_as(browser, LIGA).status_code == 303
        yield browser
    proxy.heal()
    proxy.wait_idle()
    delete_drafts(registry, LIGA, FORM_SERVICE)


def as_liga(registry: RegistryProcess, path: str) -> Any:
    """GET `path` of the registry API as Līga, directly (not through the proxy)."""
    headers = {"X-Portal-Identity": sign_identity(RegistryTestConfig.IDENTITY_SECRET, demo_claims(LIGA))}
    response = requests.get(f"{registry.url}/api/v1/{path}", headers=headers, timeout=10)
    response.raise_for_status()
    return response.json()


def applications_of(registry: RegistryProcess) -> list[str]:
    """Return the ids of Līga's applications for FORM_SERVICE."""
    items = as_liga(registry, "me/applications?per_page=100")["items"]
    return [item["id"] for item in items if item["service"] == FORM_SERVICE]


def draft_answers(registry: RegistryProcess, draft_url: str) -> dict[str, Any]:
    answers: dict[str, Any] = as_liga(registry, f"me/drafts/{draft_url.rsplit('/', 1)[1]}")["answers"]
    return answers


def start_form(browser: Browser) -> tuple[str, str]:
    """Start Līga's application; return the address of its page and of its draft."""
    page_url = browser.get(f"/lv/services/{FORM_SERVICE}/apply").headers["Location"]
    assert re.fullmatch(r"/lv/my/drafts/[0-9a-f]{32}/pages/notifications", page_url), page_url
    return page_url, page_url.rsplit("/pages/", 1)[0]


def answers(html: str, email: str) -> dict[str, str]:
    return {"csrf_token": csrf_token(html), "notification_email": email, "notification_channels": "email"}


def filled_in(browser: Browser) -> tuple[str, str]:
    """Fill in the form as Līga up to the check page; return the draft's address and the check page's HTML."""
    page_url, draft_url = start_form(browser)
    saved = browser.client.post(page_url, data=answers(browser.page(page_url), "liga@example.lv"), headers=HOST)
    assert saved.status_code == 303 and saved.headers["Location"] == f"{draft_url}/check"
    return draft_url, browser.page(f"{draft_url}/check")


# Reads ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", FAULTS)
def test_reads_serve_the_stale_copy_or_the_503_page(proxy: RegistryProxy, fault: str) -> None:
    browser = Browser(portal(proxy).test_client())
    assert STALE_NOTICE not in browser.page(f"/lv/services/{SERVICE}")
    assert STALE_NOTICE not in browser.page("/lv/services?q=pase")

    inject(proxy, fault)
    stale = browser.page(f"/lv/services/{SERVICE}")
    assert STALE_NOTICE in stale and SERVICE_NAME in stale
    if fault != "slow":  # each registry call of a page waits for the timeout: one page shows enough
        assert STALE_NOTICE in browser.page("/lv/services?q=pase")
        nothing_cached = browser.get("/lv/services?q=never-searched-before")
        assert nothing_cached.status_code == 503 and nothing_cached.headers["Retry-After"] == "60"
        html = no_crash(nothing_cached)
        assert UNAVAILABLE in html and page_problems(html, lang="lv") == []

    proxy.heal()
    proxy.wait_idle()
    fresh = browser.page(f"/lv/services/{SERVICE}")
    assert STALE_NOTICE not in fresh and SERVICE_NAME in fresh


def test_a_cut_short_answer_does_not_replace_the_good_copy(proxy: RegistryProxy) -> None:
    browser = Browser(portal(proxy).test_client())
    browser.page(f"/lv/services/{SERVICE}")
    inject(proxy, "truncated")
    for _ in range(2):  # the broken answer was not cached over the good copy: it is still there the second time
        assert STALE_NOTICE in browser.page(f"/lv/services/{SERVICE}")
    proxy.heal()
    assert STALE_NOTICE not in browser.page(f"/lv/services/{SERVICE}")


# A form page --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", FAULTS)
def test_a_page_posted_while_the_registry_fails_keeps_what_was_typed(
    person: Browser, proxy: RegistryProxy, registry: RegistryProcess, fault: str
) -> None:
    page_url, draft_url = start_form(person)
    html = person.page(page_url)

    inject(proxy, fault)
    posted = person.client.post(page_url, data=answers(html, "typed@example.lv"), headers=HOST)
    assert posted.status_code == 503
    assert UNAVAILABLE in no_crash(posted)  # "nothing you entered has been lost"
    assert "typed@example.lv" not in draft_answers(registry, draft_url).values()

    proxy.heal()
    proxy.wait_idle()
    again = person.page(page_url)  # the person comes back to the page: what they typed is there
    assert 'value="typed@example.lv"' in again
    saved = person.client.post(page_url, data=answers(again, "typed@example.lv"), headers=HOST)
    assert saved.status_code == 303
    assert draft_answers(registry, draft_url)["notification_email"] == "typed@example.lv"
    assert 'value="typed@example.lv"' in person.page(page_url)  # from the draft now: nothing stale kept


@pytest.mark.parametrize("fault", ["503", "slow", "lost"])
def test_a_page_whose_save_fails_comes_back_with_what_was_typed(
    person: Browser, proxy: RegistryProxy, registry: RegistryProcess, fault: str
) -> None:
    page_url, draft_url = start_form(person)
    html = person.page(page_url)

    if fault == "lost":
        proxy.drop_next("PUT")  # the registry saves the draft, and its answer never arrives
    else:
        inject(proxy, fault, methods={"PUT"})  # the registry reads, but cannot write
    posted = person.client.post(page_url, data=answers(html, "typed@example.lv"), headers=HOST)
    assert posted.status_code == 503 and posted.headers["Retry-After"] == "60"
    page = no_crash(posted)
    assert NOT_SAVED in page and "Saglabāt un turpināt" in page
    assert 'value="typed@example.lv"' in page  # the same page, with what was typed, to press again
    assert page_problems(page, lang="lv") == []

    proxy.heal()
    proxy.wait_idle()
    saved = person.client.post(page_url, data=answers(page, "typed@example.lv"), headers=HOST)
    assert saved.status_code == 303 and saved.headers["Location"] == f"{draft_url}/check"
    assert draft_answers(registry, draft_url)["notification_email"] == "typed@example.lv"


# Sending ------------------------------------------------------------------------------------------------------------


def hold_database_during_restart(registry: RegistryProcess) -> tuple[Callable[[], None], Callable[[], None]]:
    """Return (before, then) hooks: the registry gets the submission while its database is locked, is told to stop
    (SIGTERM) with the submission still in flight, finishes it once the lock goes, and starts again."""
    path = registry.database_url.removeprefix("sqlite:///")
    lock = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    restarted = threading.Event()

    def restart() -> None:
        assert registry.process is not None
        time.sleep(0.3)  # the submission reaches the registry and waits for the database
        registry.process.terminate()  # gunicorn: no new requests; the one in flight is finished
        time.sleep(0.3)
        lock.rollback()
        lock.close()
        registry.process.wait(timeout=20)
        registry.start()  # the same port and database
        restarted.set()

    def before() -> None:
        lock.execute("BEGIN IMMEDIATE")
        threading.Thread(target=restart, daemon=True).start()

    def then() -> None:
        assert restarted.wait(30), "the registry did not start again"

    return before, then


@pytest.mark.parametrize("fault", [*FAULTS, "lost", "restart-after-commit", "restart-in-flight"])
def test_a_submission_hit_by_a_fault_gives_exactly_one_application(
    person: Browser, proxy: RegistryProxy, registry: RegistryProcess, fault: str
) -> None:
    draft_url, check = filled_in(person)
    before = applications_of(registry)
    send = {"csrf_token": csrf_token(check), "declaration": "y"}

    if fault == "lost":  # the registry commits; the answer never comes back
        proxy.drop_next("POST", "/applications")
    elif fault == "restart-after-commit":  # ... and the registry restarts before it could
        proxy.drop_next("POST", "/applications", then=registry.restart)
    elif fault == "restart-in-flight":  # the registry is stopped while the submission is inside it
        hold, restarted = hold_database_during_restart(registry)
        proxy.drop_next("POST", "/applications", before=hold, then=restarted)
    else:
        inject(proxy, fault, methods={"POST"} if fault != "refused" else None)
    failed = person.client.post(f"{draft_url}/check", data=send, headers=HOST)
    assert failed.status_code == 503, failed.status_code
    assert UNAVAILABLE in no_crash(failed)

    proxy.heal()
    proxy.wait_idle(timeout=40)
    # Nothing is lost: the draft is still there, or the registry did make the application before the fault.
    draft_left = FORM_SERVICE in {d["service"] for d in as_liga(registry, "me/drafts")["items"]}
    made = len(applications_of(registry)) - len(before)
    assert (draft_left, made) in ((True, 0), (False, 1))
    if fault in ("500", "503", "refused"):
        assert draft_left, "the registry never got the submission"
    # The person sends again (a reload, or back and "send"): the same key, kept for this draft.
    sent = person.client.post(f"{draft_url}/check", data=send, headers=HOST)
    assert sent.status_code == 303, no_crash(sent)[:300]
    application_url = sent.headers["Location"]
    assert re.fullmatch(r"/lv/my/applications/[0-9a-f]{32}", application_url)

    created = [found for found in applications_of(registry) if found not in before]
    assert created == [application_url.rsplit("/", 1)[1]], "exactly one application for the submission"
    assert FORM_SERVICE not in {d["service"] for d in as_liga(registry, "me/drafts")["items"]}
    receipt = person.page(application_url)
    assert re.search(r"PT-\d{4}-\d{6}", receipt)
    # Sending yet again creates nothing: the key is spent and the draft gone.
    assert person.client.post(f"{draft_url}/check", data=send, headers=HOST).status_code == 404
    assert [found for found in applications_of(registry) if found not in before] == created


# The circuit breaker ------------------------------------------------------------------------------------------------


def breaker_of(app: Flask) -> CircuitBreaker:
    found = app.extensions["registry_client"].breaker
    assert isinstance(found, CircuitBreaker)
    return found


@pytest.mark.parametrize("fault", ["503", "slow", "cut-off"])
def test_the_breaker_opens_keeps_requests_away_and_closes_after_recovery(
    proxy: RegistryProxy, registry: RegistryProcess, fault: str
) -> None:
    delete_drafts(registry, LIGA, FORM_SERVICE)
    app = portal(proxy, BREAKER_FAILURES=2, BREAKER_COOLDOWN_SECONDS=COOLDOWN)
    breaker = breaker_of(app)
    with app.test_client() as client:
        browser = Browser(client)
        assert sign_in_as(browser, LIGA).status_code == 303
        page_url, _ = start_form(browser)
        html = browser.page(page_url)
        assert STALE_NOTICE not in browser.page(f"/lv/services/{SERVICE}")

        inject(proxy, fault)
        # The page's first two registry calls fail and open the breaker; the rest come from the stale copies.
        assert STALE_NOTICE in browser.page(f"/lv/services/{SERVICE}")
        assert breaker.state == "open"

        hits, opened = proxy.hits, time.monotonic()
        assert STALE_NOTICE in browser.page(f"/lv/services/{SERVICE}")
        assert UNAVAILABLE in browser.page("/lv/services?q=never-searched-before", status=503)
        posted = client.post(page_url, data=answers(html, "typed@example.lv"), headers=HOST)
        assert posted.status_code == 503 and UNAVAILABLE in no_crash(posted)
        assert proxy.hits == hits, "nothing reached the registry while the breaker was open"
        assert time.monotonic() - opened < COOLDOWN, "and everything failed fast"
        assert breaker.state == "open"

        proxy.heal()
        proxy.wait_idle()
        time.sleep(max(0.0, COOLDOWN - (time.monotonic() - opened)) + 0.1)
        assert breaker.state == "half-open"
        fresh = browser.page(f"/lv/services/{SERVICE}")  # the trial call, and the rest
        assert STALE_NOTICE not in fresh and breaker.state == "closed" and proxy.hits > hits
        assert 'value="typed@example.lv"' in browser.page(page_url)  # what was typed while it was open
    delete_drafts(registry, LIGA, FORM_SERVICE)
