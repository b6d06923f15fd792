"""The session-expiry warning in a real browser: it appears, "Stay signed in" extends, the end keeps the answers.

This module runs its own portal (in-process, on a thread) with a 15-second idle limit and a 10-second warning, so
the warning shows five seconds after a page loads and the session ends fifteen seconds after the last request. It
reads `applications_registry` like the live portal; Ģirts Kalniņš applies for unemployed status only here.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from werkzeug.serving import BaseWSGIServer, make_server

from tests.browser.test_accessibility import AXE_OPTIONS
from tests.fixtures.portal import make_portal
from tests.fixtures.registry_server import RegistryProcess

pytestmark = [
    pytest.mark.browser,
    # The sign-in page counts the idle limit in whole minutes (ngettext); a quarter of a minute exists only here.
    pytest.mark.filterwarnings("ignore:Plural value must be an integer:DeprecationWarning"),
]

IDLE_SECONDS = 15
WARNING_SECONDS = 10
PERSON = "Ģirts Kalniņš"
SERVICE = "/lv/services/bezdarbnieka-statusa-pieskirsana/apply"
EDUCATION = re.compile(r"/lv/my/drafts/[0-9a-f]{32}/pages/education$")


@pytest.fixture(scope="module")
def short_session_portal(applications_registry: RegistryProcess) -> Iterator[str]:
    """The portal with a tiny idle limit, served by werkzeug on a loopback port; its base URL."""
    app = make_portal(
        applications_registry.url,
        SESSION_IDLE_MINUTES=IDLE_SECONDS / 60,
        SESSION_WARNING_SECONDS=WARNING_SECONDS,
    )
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="short-session-portal", daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def page(browser: Browser, short_session_portal: str) -> Iterator[Page]:
    context = browser.new_context(base_url=short_session_portal, locale="lv-LV")
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in(page: Page) -> None:
    page.get_by_role("radio", name=PERSON).check()
    page.get_by_role("button", name="Pieteikties").click()


def session_status(page: Page) -> int:
    """Ask the server (with the page's cookies) whether the session is alive: 200 or 401."""
    return int(page.evaluate("fetch('/auth/session').then((response) => response.status)"))


def test_warning_extend_and_the_end_keep_the_answers(page: Page) -> None:
    page.goto("/lv/sign-in")
    sign_in(page)
    page.goto(SERVICE)
    expect(page).to_have_url(re.compile(r"/pages/applicant$"))
    page.get_by_label("Tālrunis").fill("+371 21234567")
    page.get_by_label("E-pasts").fill("girts@example.lv")
    page.get_by_role("button", name="Saglabāt un turpināt").click()
    expect(page).to_have_url(EDUCATION)
    education_url = page.url

    # The warning: a modal dialog with a heading and the time left, focus on "Stay signed in".
    loaded = time.monotonic()
    dialog = page.locator("dialog#session-timeout")
    expect(dialog).to_be_visible(timeout=(IDLE_SECONDS - WARNING_SECONDS + 5) * 1000)
    expect(page.get_by_role("dialog")).to_have_count(1)
    stay = dialog.locator("[data-session-stay]")
    expect(stay).to_be_focused()
    expect(dialog.get_by_role("heading", level=2)).not_to_be_empty()
    expect(dialog.get_by_role("status")).not_to_be_empty()
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()

    # "Stay signed in" keeps the session; the person types (before the warning comes back) and then does nothing.
    stay.click()
    expect(dialog).to_be_hidden()
    stayed = time.monotonic()
    page.get_by_label("Augstākā iegūtā izglītība").select_option("master")
    page.get_by_label("Profesija vai specialitāte").fill("Ģeodēzists")
    # Past the end the session had before "Stay signed in", it is still alive.
    page.wait_for_timeout(max(0.0, loaded + IDLE_SECONDS + 1 - time.monotonic()) * 1000)
    assert time.monotonic() < stayed + IDLE_SECONDS - 1, "too slow to tell an extended session from the first one"
    assert session_status(page) == 200

    # The session ends: the page is posted, kept, and the person signs in and is back with the answers.
    expect(page).to_have_url(re.compile(r"/lv/sign-in\?next="), timeout=(IDLE_SECONDS + 10) * 1000)
    expect(page.get_by_role("main")).to_contain_text("Jūsu sesija beidzās")
    sign_in(page)
    expect(page).to_have_url(education_url)
    expect(page.get_by_label("Augstākā iegūtā izglītība")).to_have_value("master")
    expect(page.get_by_label("Profesija vai specialitāte")).to_have_value("Ģeodēzists")
    # The answers of the earlier page were saved in the draft all along.
    page.get_by_role("link", name="Atpakaļ").click()
    expect(page.get_by_label("Tālrunis")).to_have_value(re.compile(r"21234567"))
    expect(page.get_by_label("E-pasts")).to_have_value("girts@example.lv")
