"""Scale-out: the circuit breaker, the rate limits, and several portal instances sharing one Redis.

Real processes only: a registry (gunicorn) behind a forwarding proxy that can be told to answer 503 to everything
(tests/fixtures/registry_proxy.py, which also counts what reaches it), a real redis-server, and portal apps built as
in production, several at a time over the same Redis as several instances behind a load balancer would be.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator

import pytest
import redis
from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.test import TestResponse

from app.auth.server_session import RedisSessionInterface
from app.registry_client.breaker import CircuitBreaker
from registry.config import TestConfig as RegistryTestConfig
from tests.fixtures.html_checks import page_problems
from tests.fixtures.portal import Browser, make_portal
from tests.fixtures.registry_proxy import RegistryProxy
from tests.fixtures.registry_server import RegistryProcess, free_port, start_registry
from tests.integration.test_portal_sign_in import ELINA, HOST, LIGA, csrf_token, sign_in_as

pytestmark = pytest.mark.integration

SERVICE = "pases-izsniegsana"
SERVICE_NAME = "Pases izsniegšana"
STALE_NOTICE = "daļa informācijas var būt novecojusi"
UNAVAILABLE = "Nekas no jūsu ievadītā nav zudis"
TOO_MANY_LV = "Pārāk daudz pieprasījumu"
WAIT_LV = "Lūdzu, pagaidiet minūti un mēģiniet vēlreiz."
PREFIX = "test:"
COOLDOWN = 0.5


@pytest.fixture(scope="module")
def revalidating_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    """A registry whose answers are stale at once (max-age 0: every page asks it) and that trusts test identities."""
    yield from start_registry(
        tmp_path_factory.mktemp("redis-registry"),
        env={"REGISTRY_CACHE_MAX_AGE": "0", "REGISTRY_IDENTITY_SECRET": RegistryTestConfig.IDENTITY_SECRET},
    )


@pytest.fixture
def proxy(revalidating_registry: RegistryProcess) -> Iterator[RegistryProxy]:
    found = RegistryProxy(revalidating_registry.url)
    yield found
    found.stop()


def portal(registry_url: str, redis_url: str = "", **overrides: object) -> Flask:
    """A portal whose breaker opens after 2 failed registry calls, for COOLDOWN seconds."""
    settings: dict[str, object] = {
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": PREFIX,
        "BREAKER_FAILURES": 2,
        "BREAKER_COOLDOWN_SECONDS": COOLDOWN,
    }
    return make_portal(registry_url, **{**settings, **overrides})


def breaker(app: Flask) -> CircuitBreaker:
    found = app.extensions["registry_client"].breaker
    assert isinstance(found, CircuitBreaker)
    return found


def keys(redis_url: str, pattern: str) -> list[str]:
    connection = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        return sorted(connection.keys(pattern))
    finally:
        connection.close()


# The circuit breaker ------------------------------------------------------------------------------------------------


def test_the_breaker_opens_serves_stale_reads_fails_writes_fast_and_closes_again(proxy: RegistryProxy) -> None:
    app = portal(proxy.url)
    with app.test_client() as client:
        browser = Browser(client)
        assert STALE_NOTICE not in browser.page(f"/lv/services/{SERVICE}")
        assert sign_in_as(browser, LIGA).status_code == 303
        token = csrf_token(browser.page("/lv/my/applications"))

        proxy.failing = 503
        stale = browser.page(f"/lv/services/{SERVICE}")  # its registry calls fail, and open the breaker
        assert STALE_NOTICE in stale and SERVICE_NAME in stale
        assert breaker(app).state == "open"

        hits, started = proxy.hits, time.monotonic()
        assert STALE_NOTICE in browser.page(f"/lv/services/{SERVICE}")  # the copy, without asking
        assert UNAVAILABLE in browser.page("/lv/services?q=never-searched-before", status=503)
        written = client.post(f"/lv/my/messages/{'a' * 32}/read", data={"csrf_token": token}, headers=HOST)
        assert written.status_code == 503 and UNAVAILABLE in written.get_data(as_text=True)  # the write fails fast
        assert proxy.hits == hits, "nothing reached the registry while the breaker was open"
        assert time.monotonic() - started < COOLDOWN

        proxy.failing = None  # the registry is back
        time.sleep(COOLDOWN + 0.05)
        assert breaker(app).state == "half-open"
        assert STALE_NOTICE not in browser.page(f"/lv/services/{SERVICE}")  # the trial call, and the rest
        assert breaker(app).state == "closed" and proxy.hits > hits


def test_two_instances_share_the_breaker_through_redis(proxy: RegistryProxy, redis_url: str) -> None:
    first, second = portal(proxy.url, redis_url), portal(proxy.url, redis_url)
    one, two = Browser(first.test_client()), Browser(second.test_client())
    one.page("/lv/services?q=pase")

    proxy.failing = 503
    one.page("/lv/services?q=first-failure", status=503)
    one.page("/lv/services?q=second-failure", status=503)
    assert breaker(second).state == "open"  # opened by the first instance
    hits = proxy.hits
    assert UNAVAILABLE in two.page("/lv/services?q=never-asked", status=503)
    assert proxy.hits == hits, "the second instance did not ask the failing registry"

    proxy.failing = None
    time.sleep(COOLDOWN + 0.05)
    two.page("/lv/services?q=pase")  # the second instance's trial closes the breaker for both
    assert breaker(first).state == "closed"
    assert keys(redis_url, f"{PREFIX}breaker:*") == []


# The registry cache -------------------------------------------------------------------------------------------------


def test_two_instances_share_the_registry_cache_through_redis(proxy: RegistryProxy, redis_url: str) -> None:
    first, second = portal(proxy.url, redis_url), portal(proxy.url, redis_url)
    Browser(first.test_client()).page(f"/lv/services/{SERVICE}")
    assert keys(redis_url, f"{PREFIX}registry-cache:*")

    proxy.failing = 503
    # The second instance never read the page, yet has the first one's copy to fall back to.
    stale = Browser(second.test_client()).page(f"/lv/services/{SERVICE}")
    assert STALE_NOTICE in stale and SERVICE_NAME in stale
    # Without Redis, each instance has its own cache: a new one has nothing to show.
    Browser(portal(proxy.url).test_client()).page(f"/lv/services/{SERVICE}", status=503)


# Sessions -----------------------------------------------------------------------------------------------------------


def session_cookie(response: TestResponse) -> str:
    """Return the Set-Cookie header of the session cookie in `response`."""
    found = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")]
    assert len(found) == 1, response.headers.getlist("Set-Cookie")
    return found[0]


def test_without_redis_sessions_stay_signed_cookies(proxy: RegistryProxy) -> None:
    assert isinstance(portal(proxy.url).session_interface, SecureCookieSessionInterface)


def test_a_session_is_valid_on_every_instance_and_signing_out_on_one_ends_it_on_all(
    proxy: RegistryProxy, redis_url: str
) -> None:
    first, second = portal(proxy.url, redis_url), portal(proxy.url, redis_url)
    assert isinstance(first.session_interface, RedisSessionInterface)
    one, two = Browser(first.test_client()), Browser(second.test_client())
    sign_in_page = one.get("/lv/sign-in")
    before = one.client.get_cookie("session", domain="localhost")
    assert before is not None and sign_in_page.status_code == 200

    signed_in = sign_in_as(one, LIGA)
    cookie = session_cookie(signed_in)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    sid = one.client.get_cookie("session", domain="localhost")
    assert sid is not None and sid.value != before.value  # a new id on signing in
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", sid.value)  # an id, not the session itself
    stored = keys(redis_url, f"{PREFIX}session:*")
    assert len(stored) == 1 and sid.value not in stored[0]  # the fixated id is gone; keys are hashes of ids

    # The same browser, its next request landing on the other instance.
    two.client.set_cookie("session", sid.value, domain="localhost")
    html = two.page("/lv/my/applications")
    assert "Līga Bērziņa" in html

    signed_out = two.client.post("/lv/sign-out", data={"csrf_token": csrf_token(html)}, headers=HOST)
    assert signed_out.status_code == 303
    assert "session=;" in session_cookie(signed_out)  # the browser forgets it
    assert keys(redis_url, f"{PREFIX}session:*") == []

    # A copy of the cookie kept elsewhere is worth nothing on the first instance either.
    after = one.get("/lv/my/applications")
    assert after.status_code in (302, 303) and after.headers["Location"].startswith("/lv/sign-in")


def test_a_session_ended_elsewhere_is_not_written_back(proxy: RegistryProxy, redis_url: str) -> None:
    app = portal(proxy.url, redis_url)
    browser = Browser(app.test_client())
    assert sign_in_as(browser, ELINA).status_code == 303
    sid = browser.client.get_cookie("session", domain="localhost")
    assert sid is not None
    interface = app.session_interface
    assert isinstance(interface, RedisSessionInterface)
    with app.test_request_context("/lv/", headers={**HOST, "Cookie": f"session={sid.value}"}):
        session = interface.open_session(app, request)
        assert session["user"]["sub"]
        # Meanwhile another instance signs the person out ...
        with redis.Redis.from_url(redis_url) as connection:
            connection.delete(*keys(redis_url, f"{PREFIX}session:*"))
        # ... and this request, still under way, changes the session (as every request of a signed-in person does).
        session["user"] = {**session["user"], "last_seen": 1}
        response = app.response_class()
        interface.save_session(app, session, response)
    assert keys(redis_url, f"{PREFIX}session:*") == []  # not brought back
    assert "session=;" in session_cookie(response)


# Rate limits --------------------------------------------------------------------------------------------------------


def test_search_over_its_limit_gets_the_translated_429_page_with_retry_after(registry: RegistryProcess) -> None:
    browser = Browser(make_portal(registry.url, RATELIMIT_SEARCH="2/minute").test_client())
    browser.page("/lv/services?q=pase")
    browser.page("/en/services", lang="en")

    refused = browser.get("/lv/services?q=pase")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["Cache-Control"] == "no-store"
    html = refused.get_data(as_text=True)
    assert TOO_MANY_LV in html and WAIT_LV in html
    assert page_problems(html, lang="lv") == []
    english = browser.get("/en/services?q=pase").get_data(as_text=True)
    assert "Too many requests" in english and "Please wait a minute and try again." in english
    assert page_problems(english, lang="en") == []

    # Live search (htmx): a short message for the page to show, and no new address in the history.
    live = browser.get("/lv/services?q=pas", **{"HX-Request": "true"})
    assert live.status_code == 429 and live.headers["HX-Push-Url"] == "false" and "Retry-After" in live.headers
    fragment = live.get_data(as_text=True)
    assert 'role="alert"' in fragment and TOO_MANY_LV in fragment and "<html" not in fragment

    browser.page(f"/lv/services/{SERVICE}")  # other pages are not searches


def test_a_long_wait_is_said_in_minutes(registry: RegistryProcess) -> None:
    browser = Browser(make_portal(registry.url, RATELIMIT_VERIFY="1/hour").test_client())
    assert browser.get("/en/verify/AAAA-BBBB-CCCC").status_code == 404  # no such document: still a check
    refused = browser.get("/en/verify/AAAA-BBBB-CCCD")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 3500
    assert "You can try again in 60 minutes." in refused.get_data(as_text=True)
    assert browser.get("/en/verify").status_code == 200  # the form itself checks nothing


def test_sign_in_is_limited_per_address(registry: RegistryProcess) -> None:
    app = make_portal(registry.url, RATELIMIT_SIGN_IN="2/minute")
    browser = Browser(app.test_client())
    assert sign_in_as(browser, LIGA).status_code == 303  # the page and the form: two
    assert browser.get("/lv/sign-in").status_code == 429
    other_person_same_address = Browser(app.test_client())
    assert other_person_same_address.get("/lv/sign-in").status_code == 429


def extend_session(browser: Browser, **files: tuple[object, str]) -> int:
    """POST "Stay signed in" (a post with no registry call), with `files` if given; return the status."""
    token = csrf_token(browser.page("/lv/"))  # the sign-out form's
    response = browser.client.post("/auth/session/extend", data=dict(files), headers={**HOST, "X-CSRFToken": token})
    return response.status_code


def test_posts_are_limited_per_person(registry: RegistryProcess) -> None:
    app = make_portal(registry.url, RATELIMIT_POST="2/minute")
    liga, elina = Browser(app.test_client()), Browser(app.test_client())
    assert sign_in_as(liga, LIGA).status_code == 303 and sign_in_as(elina, ELINA).status_code == 303
    assert [extend_session(liga) for _ in range(3)] == [200, 200, 429]
    assert extend_session(elina) == 200  # another person behind the same address counts on her own


def test_posts_with_a_file_have_a_limit_of_their_own(registry: RegistryProcess) -> None:
    browser = Browser(make_portal(registry.url, RATELIMIT_UPLOAD="1/minute").test_client())
    assert sign_in_as(browser, LIGA).status_code == 303

    def pdf() -> tuple[object, str]:
        return (io.BytesIO(b"%PDF-1.7"), "a.pdf")

    assert extend_session(browser, file=pdf()) == 200
    assert extend_session(browser, file=pdf()) == 429
    assert extend_session(browser) == 200  # a post without a file is not an upload


def test_two_instances_count_against_one_limit_in_redis(registry: RegistryProcess, redis_url: str) -> None:
    first, second = (
        make_portal(registry.url, REDIS_URL=redis_url, REDIS_KEY_PREFIX=PREFIX, RATELIMIT_SEARCH="3/minute")
        for _ in range(2)
    )
    one, two = Browser(first.test_client()), Browser(second.test_client())
    one.page("/lv/services?q=pase")
    one.page("/lv/services?q=pase")
    two.page("/lv/services?q=pase")
    refused = two.get("/lv/services?q=pase")
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert TOO_MANY_LV in refused.get_data(as_text=True)
    assert one.get("/lv/services?q=pase").status_code == 429
    assert keys(redis_url, f"{PREFIX}limits*")


def test_without_redis_pages_still_work_and_limits_count_in_memory(registry: RegistryProcess) -> None:
    unreachable = f"redis://127.0.0.1:{free_port()}/0"
    app = make_portal(registry.url, REDIS_URL=unreachable, REDIS_KEY_PREFIX=PREFIX, RATELIMIT_SEARCH="1/minute")
    browser = Browser(app.test_client())
    # Neither the session, the cache, the breaker nor the limits stop a page ...
    assert SERVICE_NAME in browser.page(f"/lv/services/{SERVICE}")
    assert browser.get("/lv/services?q=pase").status_code == 200
    assert browser.get("/lv/services?q=pase").status_code == 429  # ... and the limits still count
