"""The session-expiry warning's data and endpoints, and losing nothing when a session ends (without JavaScript).

Time is controlled by replacing `app.auth.session._now` with a clock the test moves forward.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterator

import pytest
from flask import Flask, jsonify, request
from werkzeug.test import TestResponse

from app.access import signed_in
from app.auth import take_stashed_form
from app.auth.providers import load_demo_people
from app.auth.session import EXPIRY_FIELD, SESSION_KEY, STASH_KEY, STASH_MAX_BYTES
from tests.fixtures.portal import Browser, make_portal
from tests.fixtures.registry_server import RegistryProcess
from tests.fixtures.session_clock import START, Clock
from tests.integration.test_portal_sign_in import HOST, LIGA, csrf_token, session_of, sign_in_as

pytestmark = pytest.mark.integration

EXPIRED_MESSAGE = "Jūsu sesija beidzās, jo 20 minūtes nebija nekādu darbību."
PRIVATE = "/lv/my/session-test"


@pytest.fixture(scope="module")
def session_portal(registry: RegistryProcess) -> Flask:
    """A portal with one extra signed-in form page that echoes the stash it gets (like the application pages)."""
    app = make_portal(registry.url)

    @app.route("/<lang>/my/session-test", methods=["GET", "POST"])
    @signed_in
    def session_test(lang: str) -> object:
        if app.config.get("TEST_POSTS") is not None:
            app.config["TEST_POSTS"].append(dict(request.form))
        stashed = take_stashed_form(f"/{lang}/my/session-test")
        return jsonify(stashed=None if stashed is None else stashed.to_dict(flat=False))

    return app


@pytest.fixture
def person(session_portal: Flask, clock: Clock) -> Iterator[Browser]:
    """Līga, signed in on the state portal at START."""
    with session_portal.test_client() as client:
        browser = Browser(client)
        assert sign_in_as(browser, LIGA).status_code == 303
        yield browser


def dialog_data(html: str) -> dict[str, str]:
    """Return the data attributes of the session-timeout dialog in `html`."""
    found = re.search(r'<dialog id="session-timeout"(.*?)>', html, re.S)
    assert found, "no session-timeout dialog"
    return {k: html_lib.unescape(v) for k, v in re.findall(r'data-([a-z-]+)="([^"]*)"', found[1])}


def extend(browser: Browser, token: str | None, path: str = "/auth/session/extend?lang=lv") -> TestResponse:
    headers = {**HOST, **({"X-CSRFToken": token} if token else {})}
    return browser.client.post(path, headers=headers)


# --- what pages carry ------------------------------------------------------------------------------------------


def test_signed_in_pages_carry_the_time_left_and_the_script(person: Browser, clock: Clock) -> None:
    clock.advance(300)
    html = person.page("/lv/services")
    data = dialog_data(html)
    # The request itself counted as activity: the full idle limit, and the absolute limit minus five minutes.
    assert data["idle-seconds"] == "1200" and data["absolute-seconds"] == str(12 * 3600 - 300)
    assert data["warning-seconds"] == "180" and data["idle-limit-seconds"] == "1200"
    assert data["status-url"] == "/auth/session?lang=lv" and data["extend-url"] == "/auth/session/extend?lang=lv"
    assert data["csrf-token"]
    assert '<script src="/static/js/session-timeout.js" defer></script>' in html
    assert 'id="session-timeout-texts"' in html and "data-session-stay" in html
    assert '<p id="session-timeout-time" class="session-dialog__time" role="status"></p>' in html


def test_the_texts_of_the_script_are_in_the_page_language(person: Browser) -> None:
    html = person.page("/en/services", lang="en")
    assert "You will be signed out in 3 minutes." in html and "You will be signed out in 1 minute." in html
    assert "You will be signed out in less than a minute." in html
    assert "a sign-in lasts at most 12 hours and cannot be extended" in html
    assert dialog_data(html)["status-url"] == "/auth/session?lang=en"


def test_anonymous_pages_carry_neither(session_portal: Flask) -> None:
    with session_portal.test_client() as client:
        html = Browser(client).page("/lv/services")
    assert "session-timeout" not in html and "data-idle-seconds" not in html


# --- GET /auth/session and POST /auth/session/extend ------------------------------------------------------------


def test_asking_how_long_is_left_does_not_count_as_activity(person: Browser, clock: Clock) -> None:
    clock.advance(60)
    first = person.get("/auth/session")
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    assert first.json == {"idle_seconds": 1140, "absolute_seconds": 43140, "seconds": 1140, "can_be_extended": True}
    clock.advance(60)
    assert person.get("/auth/session").json["idle_seconds"] == 1080  # not reset by the first question


def test_staying_signed_in_refreshes_the_session(person: Browser, clock: Clock) -> None:
    token = dialog_data(person.page("/lv/services"))["csrf-token"]
    clock.advance(19 * 60)
    response = extend(person, token)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.json is not None and response.json["idle_seconds"] == 1200
    assert session_of(person.client)[SESSION_KEY]["last_seen"] == int(clock.now)
    clock.advance(19 * 60)  # 38 minutes after the last page: still signed in thanks to the extension
    assert person.get("/auth/session").json["idle_seconds"] == 60


def test_staying_signed_in_needs_the_csrf_token(person: Browser, clock: Clock) -> None:
    person.page("/lv/services")
    clock.advance(600)
    assert extend(person, None).status_code == 400
    assert extend(person, "forged").status_code == 400
    assert session_of(person.client)[SESSION_KEY]["last_seen"] == int(START)


def test_staying_signed_in_after_the_end_is_refused(person: Browser, clock: Clock) -> None:
    token = dialog_data(person.page("/lv/services"))["csrf-token"]
    clock.advance(20 * 60 + 1)
    response = extend(person, token, "/auth/session/extend?lang=en")
    assert response.status_code == 401
    assert response.json == {"signed_in": False, "sign_in_url": "/en/sign-in"}
    assert SESSION_KEY not in session_of(person.client)
    assert person.get("/auth/session").status_code == 401


def test_near_the_absolute_limit_the_session_cannot_be_extended(person: Browser, clock: Clock) -> None:
    for _ in range(36):  # active all day
        clock.advance(1199)
        person.get("/lv/")
    token = dialog_data(person.page("/lv/services"))["csrf-token"]
    answer = extend(person, token).json
    assert answer is not None and answer["seconds"] == answer["absolute_seconds"] == 36
    assert answer["can_be_extended"] is False
    clock.advance(37)
    assert person.get("/auth/session").status_code == 401


def test_the_session_routes_declare_their_access(session_portal: Flask, registry: RegistryProcess) -> None:
    with session_portal.test_client() as client:
        assert client.get("/auth/session", headers=HOST).status_code == 401
        assert client.get("/auth/session", headers=HOST).json == {"signed_in": False, "sign_in_url": "/lv/sign-in"}
        assert client.get("/auth/session/extend", headers=HOST).status_code == 405
    without_sign_in = make_portal(registry.url, DEMO_SIGN_IN=False)
    assert without_sign_in.test_client().get("/auth/session", headers=HOST).status_code == 404


# --- a form posted after the end (no JavaScript) ---------------------------------------------------------------


def test_a_form_posted_after_the_end_comes_back_after_signing_in(person: Browser, clock: Clock) -> None:
    token = csrf_token(person.page("/lv/services"))
    clock.advance(25 * 60)
    posted = person.client.post(
        PRIVATE, data={"csrf_token": token, "answer": "ābols", "many": ["1", "2"]}, headers=HOST
    )
    assert posted.status_code == 303
    assert posted.headers["Location"] == f"/lv/sign-in?next={PRIVATE}"
    sign_in_page = person.page(posted.headers["Location"])
    assert EXPIRED_MESSAGE in sign_in_page and f'name="next" value="{PRIVATE}"' in sign_in_page
    assert "Lapā ievadītās atbildes ir saglabātas" in sign_in_page
    back = sign_in_as(person, LIGA, next_url=PRIVATE)
    assert back.status_code == 303 and back.headers["Location"] == PRIVATE
    assert person.get(PRIVATE).json == {"stashed": {"answer": ["ābols"], "many": ["1", "2"]}}
    assert person.get(PRIVATE).json == {"stashed": None}  # once


def test_another_person_signing_in_does_not_get_the_answers(person: Browser, clock: Clock) -> None:
    token = csrf_token(person.page("/lv/services"))
    clock.advance(25 * 60)
    person.client.post(PRIVATE, data={"csrf_token": token, "answer": "ābols"}, headers=HOST)
    assert STASH_KEY in session_of(person.client)
    sign_in_as(person, "janis-ozolins", next_url=PRIVATE)
    assert STASH_KEY not in session_of(person.client)
    assert person.get(PRIVATE).json == {"stashed": None}


def test_a_form_too_large_to_keep_still_comes_back_to_the_page(person: Browser, clock: Clock) -> None:
    token = csrf_token(person.page("/lv/services"))
    clock.advance(25 * 60)
    posted = person.client.post(PRIVATE, data={"csrf_token": token, "answer": "x" * STASH_MAX_BYTES}, headers=HOST)
    assert posted.headers["Location"] == f"/lv/sign-in?next={PRIVATE}"
    assert STASH_KEY not in session_of(person.client)


def test_a_form_of_someone_never_signed_in_is_not_kept(session_portal: Flask) -> None:
    with session_portal.test_client() as client:
        browser = Browser(client)
        token = csrf_token(browser.page("/lv/sign-in"))
        posted = client.post(PRIVATE, data={"csrf_token": token, "answer": "x"}, headers=HOST)
        assert posted.headers["Location"] == "/lv/sign-in"
        assert STASH_KEY not in session_of(client)


def test_the_scripts_post_at_the_end_is_never_acted_upon(session_portal: Flask, person: Browser, clock: Clock) -> None:
    """If another tab signed in again meanwhile, the page is shown again with the answers: nothing is saved."""
    token = csrf_token(person.page("/lv/services"))
    session_portal.config["TEST_POSTS"] = []
    try:
        posted = person.client.post(PRIVATE, data={"csrf_token": token, "answer": "a", EXPIRY_FIELD: "1"}, headers=HOST)
        assert posted.status_code == 303 and posted.headers["Location"] == PRIVATE
        assert session_portal.config["TEST_POSTS"] == []
        assert person.get(PRIVATE).json == {"stashed": {"answer": ["a"]}}
    finally:
        session_portal.config["TEST_POSTS"] = None


# --- the application journey -----------------------------------------------------------------------------------

SERVICE = "/lv/services/bezdarbnieka-statusa-pieskirsana/apply"
LIGA_CODE = next(person.identity.sub for person in load_demo_people() if person.id == LIGA)


@pytest.fixture
def applicant(applications_registry: RegistryProcess, clock: Clock) -> Iterator[Browser]:
    """Līga on a portal over the registry of drafts (she applies for unemployed status only in this module)."""
    with make_portal(applications_registry.url).test_client() as client:
        browser = Browser(client)
        assert sign_in_as(browser, LIGA).status_code == 303
        yield browser


def test_typed_answers_survive_the_end_of_the_session(applicant: Browser, clock: Clock) -> None:
    start = applicant.get(SERVICE)
    assert start.status_code == 302, start.status_code
    first_page = start.headers["Location"]
    assert first_page.endswith("/pages/applicant")
    html = applicant.page(first_page)
    saved = applicant.client.post(
        first_page,
        data={
            "csrf_token": csrf_token(html),
            "applicant_name": "Līga Bērziņa",
            "applicant_personal_code": LIGA_CODE,
            "contact_phone": "+371 21234567",
            "contact_email": "liga@example.lv",
        },
        headers=HOST,
    )
    assert saved.status_code == 303, saved.get_data(as_text=True)[:2000]
    education = saved.headers["Location"]
    assert education.endswith("/pages/education")
    token = csrf_token(applicant.page(education))

    clock.advance(21 * 60)  # the person reads, thinks and types for 21 minutes
    typed = {"csrf_token": token, "education_level": "master", "profession": "Ģeodēzists"}
    posted = applicant.client.post(education, data=typed, headers=HOST)
    assert posted.status_code == 303 and posted.headers["Location"] == f"/lv/sign-in?next={education}"
    assert EXPIRED_MESSAGE in applicant.page(posted.headers["Location"])

    back = sign_in_as(applicant, LIGA, next_url=education)
    assert back.headers["Location"] == education
    restored = applicant.page(education)
    assert 'value="Ģeodēzists"' in restored
    assert re.search(r'<option[^>]*value="master"[^>]*selected|<option[^>]*selected[^>]*value="master"', restored)
    assert "Radusies problēma" not in restored  # shown again, not checked

    # Not saved until "Save and continue": the next visit shows the draft as it was; earlier pages are intact.
    assert 'value="Ģeodēzists"' not in applicant.page(education)
    assert "21234567" in applicant.page(first_page) and "liga@example.lv" in applicant.page(first_page)


def test_the_sign_in_page_says_when_the_absolute_limit_ended_the_session(person: Browser, clock: Clock) -> None:
    for _ in range(13 * 4):  # active every 15 minutes for 13 hours: never idle, but past the 12-hour limit
        clock.advance(15 * 60)
        person.get("/lv/services")
    page = person.page("/lv/sign-in")
    assert "Jūsu sesija beidzās, jo pieteikšanās ilgst ne vairāk kā 12 stundas." in page
    assert EXPIRED_MESSAGE not in page
