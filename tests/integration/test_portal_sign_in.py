"""Signing in with the demonstration provider: the page, a new session, safe `next`, signing out, time limits."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.access import SIGNED_IN, signed_in
from app.auth import current_user, identity_token
from app.auth.next_url import safe_next
from app.auth.providers import DemoProvider, load_demo_people
from app.auth.session import SESSION_KEY
from app.config import TestConfig
from forms.validators import normalise_company_number, normalise_personal_code
from identity import read_identity
from tests.fixtures.html_checks import page_problems
from tests.fixtures.portal import POINT_HOSTS, Browser, make_portal
from tests.fixtures.registry_server import RegistryProcess

pytestmark = pytest.mark.integration

HOST = {"Host": POINT_HOSTS["latvija"]}
BANNER = "Šī ir demonstrācija: īsta pieteikšanās notiek ar eParakstu, eID karti vai internetbanku"
LIGA = "liga-berzina"
ELINA = "elina-zagare"  # the company representative
HOSTILE_NEXT = [
    "//evil.example/",
    "\\\\evil.example/",
    "/\\evil.example/",
    "/\t/evil.example/",
    "/\n/evil.example/",
    "http://evil.example/",
    "https://evil.example/lv/",
    "HTTPS://evil.example/",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    " //evil.example/",
    "evil.example",
    "lv/services",
    "/" + "a" * 3000,
]


def csrf_token(html: str) -> str:
    """Return the CSRF token of the first form in `html`, as a browser would send it."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found[1]


def post(browser: Browser, path: str, data: dict[str, str], **headers: str) -> TestResponse:
    """POST a form to the state portal."""
    return browser.client.post(path, data=data, headers={**HOST, **headers})


def sign_in_as(browser: Browser, person: str = LIGA, *, lang: str = "lv", next_url: str | None = None) -> TestResponse:
    """Open the sign-in page, as a person would, and submit it with `person` chosen."""
    query = f"?next={quote(next_url, safe='')}" if next_url is not None else ""
    html = browser.page(f"/{lang}/sign-in{query}", lang=lang)
    return post(browser, f"/{lang}/sign-in", {"csrf_token": csrf_token(html), "person": person, **_next_field(html)})


def _next_field(html: str) -> dict[str, str]:
    found = re.search(r'name="next" value="([^"]*)"', html)
    return {"next": found[1].replace("&amp;", "&")} if found else {}


def session_of(client: FlaskClient) -> dict[str, Any]:
    """Return a copy of the client's session."""
    with client.session_transaction() as session:
        return dict(session)


# --- the page --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("point", list(POINT_HOSTS))
@pytest.mark.parametrize("lang", ["lv", "en"])
def test_sign_in_page_is_well_formed_on_every_point(browser: Browser, point: str, lang: str) -> None:
    html = browser.page(f"/{lang}/sign-in", point, lang=lang)
    for person in load_demo_people():
        assert f'type="radio" id="person-{person.id}" name="person" value="{person.id}"' in html
        assert person.identity.name in html
    assert 'method="post"' in html and csrf_token(html)
    if lang == "lv":
        assert BANNER in html and "<h1>Pieteikties</h1>" in html
    else:
        assert "This is a demonstration: real sign-in happens with eParaksts" in html


def test_sign_in_page_is_neither_cached_nor_framed(browser: Browser) -> None:
    response = browser.get("/lv/sign-in")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Security-Policy"].endswith("frame-ancestors 'none'")
    assert response.headers["X-Frame-Options"] == "DENY"


def test_unknown_language_is_not_found(browser: Browser) -> None:
    assert browser.get("/de/sign-in").status_code == 404


def test_demo_people_are_valid_and_varied() -> None:
    people = load_demo_people()
    residents = [p.identity for p in people if p.identity.kind == "person"]
    representatives = [p.identity for p in people if p.identity.kind == "company_representative"]
    assert len(residents) >= 3 and representatives
    for identity in (p.identity for p in people):
        assert normalise_personal_code(identity.sub) == identity.sub  # date and check digit, not only the format
        assert re.search("[āčēģīķļņšūž]", identity.name.lower()), identity.name
    assert {"161175-19997", "180565-05610"} <= {r.sub for r in residents}
    assert any(r.sub.startswith("32") for r in residents)  # the new format, which has no birth date
    assert representatives[0].company == normalise_company_number("40003032065")
    assert representatives[0].company_name


def test_demo_people_with_a_bad_personal_code_are_refused(tmp_path: Any) -> None:
    bad = tmp_path / "people.toml"
    bad.write_text('[[people]]\nid = "x"\nsub = "161175-19996"\nname = "Ēriks"\nkind = "person"\nacr = "high"\n')
    with pytest.raises(ValueError, match="'x'"):
        DemoProvider.from_file(bad)


# --- signing in ------------------------------------------------------------------------------------------------


def test_signing_in_starts_a_new_session_and_goes_to_next(browser: Browser) -> None:
    html = browser.page("/lv/sign-in?next=%2Flv%2Fservices%3Fq%3Dpabalsts%26audience%3Dresidents")
    old_token = csrf_token(html)
    with browser.client.session_transaction() as session:
        session["planted"] = "by someone else"  # e.g. a fixated session: nothing of it may survive
    response = post(browser, "/lv/sign-in", {"csrf_token": old_token, "person": LIGA, **_next_field(html)})
    assert response.status_code == 303
    assert response.headers["Location"] == "/lv/services?q=pabalsts&audience=residents"
    session = session_of(browser.client)
    assert set(session) == {SESSION_KEY}  # no planted value, no old CSRF token, no leftover `next`
    user = session[SESSION_KEY]
    assert user["sub"] == "161175-19997" and user["name"] == "Līga Bērziņa" and user["kind"] == "person"
    assert abs(user["signed_in_at"] - time.time()) < 60 and user["last_seen"] == user["signed_in_at"]
    # The token of the page before signing in belonged to the old session.
    assert post(browser, "/lv/sign-out", {"csrf_token": old_token}).status_code == 400


def test_next_is_kept_in_the_session_for_providers_that_leave_the_site(browser: Browser) -> None:
    html = browser.page("/en/sign-in?next=/en/services", lang="en")
    response = post(browser, "/en/sign-in", {"csrf_token": csrf_token(html), "person": LIGA})  # no `next` field
    assert response.headers["Location"] == "/en/services"


@pytest.mark.parametrize("lang", ["lv", "en"])
def test_without_next_a_person_goes_to_their_applications(browser: Browser, lang: str) -> None:
    response = sign_in_as(browser, lang=lang)
    assert response.status_code == 303 and response.headers["Location"] == f"/{lang}/my/applications"


@pytest.mark.parametrize("hostile", HOSTILE_NEXT)
def test_hostile_next_falls_back_to_my_applications(browser: Browser, hostile: str) -> None:
    response = sign_in_as(browser, next_url=hostile)
    assert response.headers["Location"] == "/lv/my/applications", hostile
    # Sent straight in the form, too.
    html = browser.page("/lv/sign-in")
    response = post(browser, "/lv/sign-in", {"csrf_token": csrf_token(html), "person": LIGA, "next": hostile})
    assert response.headers["Location"] == "/lv/my/applications", hostile


@pytest.mark.parametrize("hostile", HOSTILE_NEXT)
def test_safe_next_refuses_other_sites_and_scripts(hostile: str) -> None:
    assert safe_next(hostile, "/fallback") == "/fallback"


@pytest.mark.parametrize("path", ["/lv/", "/lv/services?q=pabalsts", "/en/my/applications", "/lv/a%2F%2Fb"])
def test_safe_next_keeps_paths_on_this_site(path: str) -> None:
    assert safe_next(path, "/fallback") == path


def test_sign_in_without_a_csrf_token_gets_the_400_page(browser: Browser) -> None:
    browser.page("/lv/sign-in")
    response = post(browser, "/lv/sign-in", {"person": LIGA})
    assert response.status_code == 400
    assert page_problems(response.get_data(as_text=True), lang="lv") == []
    assert SESSION_KEY not in session_of(browser.client)


def test_sign_in_with_a_forged_csrf_token_gets_the_400_page(browser: Browser) -> None:
    browser.page("/lv/sign-in")
    response = post(browser, "/lv/sign-in", {"csrf_token": "forged", "person": LIGA})
    assert response.status_code == 400 and SESSION_KEY not in session_of(browser.client)


@pytest.mark.parametrize("person", ["", "nobody", "161175-19997"])
def test_no_or_unknown_person_shows_the_page_again_with_an_error(browser: Browser, person: str) -> None:
    html = browser.page("/lv/sign-in?next=/lv/services")
    response = post(browser, "/lv/sign-in", {"csrf_token": csrf_token(html), "person": person, "next": "/lv/services"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert page_problems(page, lang="lv") == []
    assert "<title>Kļūda: Pieteikties" in page and 'class="error-summary"' in page
    assert f'href="#person-{LIGA}"' in page  # the summary links to the first option
    assert 'name="next" value="/lv/services"' in page
    assert response.headers["Cache-Control"] == "no-store"
    assert SESSION_KEY not in session_of(browser.client)


def test_the_demo_has_no_callback(browser: Browser) -> None:
    assert browser.get("/lv/sign-in/callback?code=x&state=y").status_code == 400


# --- signed in -------------------------------------------------------------------------------------------------


def test_header_shows_who_is_signed_in(browser: Browser) -> None:
    anonymous = browser.page("/lv/services")
    assert 'href="/lv/sign-in?next=/lv/services"' in anonymous and "Iziet" not in anonymous
    sign_in_as(browser)
    html = browser.page("/lv/services")
    assert '<nav class="account-nav" aria-label="Jūsu konts" hx-history="false">' in html
    assert "Līga Bērziņa" in html and 'action="/lv/sign-out"' in html and ">Iziet</button>" in html
    assert "/lv/sign-in" not in html


def test_header_shows_the_company_a_representative_acts_for(browser: Browser) -> None:
    sign_in_as(browser, ELINA, lang="en")
    html = browser.page("/en/", lang="en")
    assert "Elīna Žagare" in html and "on behalf of SIA „Ozolkalni”" in html and ">Sign out</button>" in html
    assert "40003032065" not in html and "061193-06460" not in html  # no identifiers in every page's header


def test_pages_for_a_signed_in_person_are_not_stored(browser: Browser) -> None:
    assert "no-store" not in browser.get("/lv/services").headers.get("Cache-Control", "")
    sign_in_as(browser)
    assert browser.get("/lv/services").headers["Cache-Control"] == "no-store"
    tokens = browser.get("/theme/tokens.css")  # not personal, but it may carry the session cookie
    assert "private" in tokens.headers["Cache-Control"] and "public" not in tokens.headers["Cache-Control"]


def test_identity_token_carries_the_signed_in_person(portal_app: Flask) -> None:
    with portal_app.test_request_context("/lv/", headers=HOST):
        assert not current_user
        with pytest.raises(LookupError):
            identity_token()
        from app.auth import sign_in

        person = load_demo_people()[-1].identity
        sign_in(person)
        assert current_user == person
        assert read_identity(TestConfig.IDENTITY_SECRET, identity_token()) == person


@pytest.fixture(scope="module")
def private_portal(registry: RegistryProcess) -> Flask:
    """A portal with one extra `signed_in` page, to check what the declaration does."""
    app = make_portal(registry.url)

    @app.route("/<lang>/my/private-test", methods=["GET", "POST"])
    @signed_in
    def private_test(lang: str) -> str:
        return f"private page of {current_user.name}"  # type: ignore[union-attr]

    return app


@pytest.fixture
def private_browser(private_portal: Flask) -> Iterator[Browser]:
    with private_portal.test_client() as client:
        yield Browser(client)


def test_signed_in_pages_send_anonymous_visitors_to_sign_in_and_back(private_browser: Browser) -> None:
    assert private_browser.client.application.view_functions["private_test"].access == SIGNED_IN
    response = private_browser.get("/en/my/private-test?tab=2&x=%C4%81")
    assert response.status_code == 302
    assert response.headers["Location"] == "/en/sign-in?next=/en/my/private-test?tab%3D2%26x%3D%25C4%2581"
    # The sign-in page carries `next` through, and signing in comes back to the same address.
    response = sign_in_as(private_browser, lang="en", next_url="/en/my/private-test?tab=2&x=%C4%81")
    assert response.headers["Location"] == "/en/my/private-test?tab=2&x=%C4%81"
    page = private_browser.get("/en/my/private-test?tab=2")
    assert page.status_code == 200 and page.get_data(as_text=True) == "private page of Līga Bērziņa"
    assert page.headers["Cache-Control"] == "no-store"


def test_signed_in_pages_answer_htmx_with_a_full_page_redirect(private_browser: Browser) -> None:
    response = private_browser.get("/lv/my/private-test", **{"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/lv/sign-in?next=/lv/my/private-test"


def test_a_post_to_a_signed_in_page_does_not_come_back_to_it(private_browser: Browser) -> None:
    html = private_browser.page("/lv/sign-in")
    response = post(private_browser, "/lv/my/private-test", {"csrf_token": csrf_token(html)})
    assert response.status_code == 302 and response.headers["Location"] == "/lv/sign-in"


# --- signing out -----------------------------------------------------------------------------------------------


def test_signing_out_ends_the_session(browser: Browser) -> None:
    sign_in_as(browser)
    html = browser.page("/lv/services")
    response = post(browser, "/lv/sign-out", {"csrf_token": csrf_token(html)})
    assert response.status_code == 303 and response.headers["Location"] == "/lv/"
    assert session_of(browser.client) == {}
    home = browser.page("/lv/")
    assert "Līga Bērziņa" not in home and ">Pieteikties</a>" in home


def test_sign_out_is_post_only(browser: Browser) -> None:
    sign_in_as(browser)
    response = browser.get("/lv/sign-out")
    assert response.status_code == 405
    assert page_problems(response.get_data(as_text=True), lang="lv") == []
    assert SESSION_KEY in session_of(browser.client)  # a GET (a link, an image) changes nothing


def test_sign_out_without_a_csrf_token_changes_nothing(browser: Browser) -> None:
    sign_in_as(browser)
    assert post(browser, "/lv/sign-out", {}).status_code == 400
    assert SESSION_KEY in session_of(browser.client)


# --- time limits -----------------------------------------------------------------------------------------------


def _shift(client: FlaskClient, **seconds_ago: int) -> None:
    """Pretend the session's timestamps lie `seconds_ago` in the past."""
    with client.session_transaction() as session:
        user = dict(session[SESSION_KEY])
        for key, ago in seconds_ago.items():
            user[key] = int(time.time()) - ago
        session[SESSION_KEY] = user


def test_a_request_refreshes_last_seen(browser: Browser) -> None:
    sign_in_as(browser)
    _shift(browser.client, last_seen=19 * 60)
    assert "Līga Bērziņa" in browser.page("/lv/services")
    assert abs(session_of(browser.client)[SESSION_KEY]["last_seen"] - time.time()) < 60


def test_after_20_idle_minutes_the_person_is_signed_out(browser: Browser) -> None:
    sign_in_as(browser)
    _shift(browser.client, last_seen=20 * 60 + 5)
    html = browser.page("/lv/services")
    assert "Līga Bērziņa" not in html and ">Pieteikties</a>" in html
    assert SESSION_KEY not in session_of(browser.client)
    # The sign-in page says why, once.
    assert "Jūsu sesija beidzās, jo 20 minūtes nebija nekādu darbību." in browser.page("/lv/sign-in")
    assert "Jūsu sesija beidzās" not in browser.page("/lv/sign-in")


def test_an_idle_session_cannot_sign_out_or_be_used_after_the_limit(private_browser: Browser) -> None:
    sign_in_as(private_browser)
    _shift(private_browser.client, last_seen=21 * 60)
    response = private_browser.get("/lv/my/private-test")
    assert response.status_code == 302 and response.headers["Location"].startswith("/lv/sign-in?next=")


def test_a_sign_in_lasts_at_most_the_maximum_however_active(browser: Browser) -> None:
    sign_in_as(browser)
    _shift(browser.client, signed_in_at=12 * 3600 + 5, last_seen=10)
    assert "Līga Bērziņa" not in browser.page("/lv/services")


def test_a_last_seen_in_the_future_is_not_believed(browser: Browser) -> None:
    sign_in_as(browser)
    _shift(browser.client, last_seen=-3600)
    assert "Līga Bērziņa" not in browser.page("/lv/services")


def test_a_malformed_identity_in_the_session_signs_out(browser: Browser) -> None:
    sign_in_as(browser)
    with browser.client.session_transaction() as session:
        session[SESSION_KEY] = {**session[SESSION_KEY], "sub": "not-a-code"}
    assert "Līga Bērziņa" not in browser.page("/lv/services")
    assert SESSION_KEY not in session_of(browser.client)


# --- switched off ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def no_demo_portal(registry: RegistryProcess) -> Flask:
    app = make_portal(registry.url, DEMO_SIGN_IN=False)

    @app.get("/<lang>/my/private-test")
    @signed_in
    def private_test(lang: str) -> str:
        return "private"

    return app


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/lv/sign-in"), ("POST", "/lv/sign-in"), ("GET", "/lv/sign-in/callback"), ("POST", "/lv/sign-out")],
)
def test_without_demo_sign_in_the_routes_do_not_exist(no_demo_portal: Flask, method: str, path: str) -> None:
    with no_demo_portal.test_client() as client:
        response = client.open(path, method=method, data={"person": LIGA}, headers=HOST)
        assert response.status_code == 404
        assert SESSION_KEY not in session_of(client)


def test_without_demo_sign_in_there_is_no_sign_in_link_and_no_signed_in_page(no_demo_portal: Flask) -> None:
    with no_demo_portal.test_client() as client:
        browser = Browser(client)
        assert "sign-in" not in browser.page("/lv/")
        assert browser.get("/lv/my/private-test").status_code == 404
