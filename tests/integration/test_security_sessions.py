"""The session cookie as a browser receives it, session fixation, and embedded pages that need no session.

QUALITY.md, Sessions: "Session cookie Secure (production), HttpOnly, __Host- prefix; SameSite=Lax normally; embedded
citizen flows need SameSite=None; Secure; Partitioned or an 'open in a new tab' fallback" [3.3.x] and "New session id
on sign-in" [7.2.4]. Signing out, expiry and the timeout warning have their own tests (test_portal_sign_in.py,
test_portal_session_timeout.py, test_portal_redis.py); docs/security.md maps them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.config import ProductionConfig
from tests.fixtures.portal import POINT_HOSTS, make_portal
from tests.fixtures.registry_server import RegistryProcess

pytestmark = pytest.mark.integration

PRODUCTION_COOKIE = {
    name: getattr(ProductionConfig, name)
    for name in dir(ProductionConfig)
    if name.startswith("SESSION_COOKIE_") and name.isupper()
}


@pytest.fixture(scope="module")
def production_like(registry: RegistryProcess) -> Flask:
    """The test portal with production's cookie settings (and the demo sign-in, which production refuses)."""
    return make_portal(registry.url, RATELIMIT_ENABLED=False, **PRODUCTION_COOKIE)


def sign_in(client: FlaskClient, host: str = "localhost", base_url: str = "https://localhost") -> list[str]:
    """Sign in as Līga; return the Set-Cookie headers of the answer."""
    html = client.get("/lv/sign-in", headers={"Host": host}, base_url=base_url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token is not None
    response = client.post(
        "/lv/sign-in",
        data={"csrf_token": token[1], "person": "liga-berzina"},
        # Over HTTPS Flask-WTF also wants a Referer of this same site, as a browser sends it.
        headers={"Host": host, "Referer": f"{base_url.replace('localhost', host)}/lv/sign-in"},
        base_url=base_url,
    )
    assert response.status_code == 303
    return response.headers.getlist("Set-Cookie")


def attributes(set_cookie: str) -> tuple[str, dict[str, str]]:
    name_value, *rest = [part.strip() for part in set_cookie.split(";")]
    pairs = dict(part.split("=", 1) if "=" in part else (part, "") for part in rest)
    return name_value.split("=", 1)[0], {key.lower(): value for key, value in pairs.items()}


def test_production_cookie_is_host_only_secure_http_only_and_lax(production_like: Flask) -> None:
    assert PRODUCTION_COOKIE["SESSION_COOKIE_NAME"].startswith("__Host-")
    cookies = sign_in(production_like.test_client())
    session = [attributes(c) for c in cookies if c.startswith("__Host-session=")]
    assert len(session) == 1, cookies
    _, attrs = session[0]
    assert "secure" in attrs and "httponly" in attrs
    assert attrs["samesite"] == "Lax" and attrs["path"] == "/"
    assert "domain" not in attrs  # __Host-: this host alone


def test_development_cookie_is_http_only_and_lax_too(registry: RegistryProcess) -> None:
    portal = make_portal(registry.url, RATELIMIT_ENABLED=False)
    cookies = sign_in(portal.test_client(), base_url="http://localhost")
    _, attrs = attributes(next(c for c in cookies if c.startswith(f"{portal.config['SESSION_COOKIE_NAME']}=")))
    assert "httponly" in attrs and attrs["samesite"] == "Lax"


def test_a_session_cookie_from_before_signing_in_is_not_signed_in_after(production_like: Flask) -> None:
    """Fixation: whoever planted or copied the cookie of the sign-in page is not signed in by the victim's sign-in."""
    victim = production_like.test_client()
    victim.get("/lv/sign-in", headers={"Host": "localhost"}, base_url="https://localhost")
    before = victim.get_cookie("__Host-session", domain="localhost")
    assert before is not None
    sign_in(victim)
    after = victim.get_cookie("__Host-session", domain="localhost")
    assert after is not None and after.value != before.value
    attacker = production_like.test_client()
    attacker.set_cookie("__Host-session", before.value, domain="localhost", secure=True)
    page = attacker.get("/lv/my/applications", headers={"Host": "localhost"}, base_url="https://localhost")
    assert page.status_code in (302, 303) and "/sign-in" in page.headers["Location"]


# --- embedded pages: no session inside the frame; leaving it to sign in or apply ----------------------------------


@pytest.fixture
def embeds(registry: RegistryProcess) -> Iterator[tuple[FlaskClient, str]]:
    portal = make_portal(registry.url, RATELIMIT_ENABLED=False)
    yield portal.test_client(), POINT_HOSTS["riga"]


@pytest.mark.parametrize("path", ["/lv/embed/services", "/lv/embed/services/dzivesvietas-deklaresana"])
def test_embedded_pages_need_no_session_and_leave_the_frame_for_anything_personal(
    embeds: tuple[FlaskClient, str], path: str
) -> None:
    """With SameSite=Lax the cookie is not sent inside another site's frame: embeds must not need it."""
    client, host = embeds
    response = client.get(path, headers={"Host": host})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert not re.search(r'<form[^>]+method="post"', html, re.I), "an embed posts nothing (no session, no CSRF)"
    assert "Set-Cookie" not in response.headers
    for link in re.finditer(r'<a ([^>]*)href="(/[a-z]{2}/(?:services/[^"/]+/apply|sign-in|my/)[^"]*)"([^>]*)>', html):
        assert re.search(r'target="_(top|blank)"', link[1] + link[3]), link[0]
    if "/embed/services/" in path:
        assert 'apply" target="_top"' in html  # applying happens in the portal's own window
    # And every embed offers the whole page in a new tab.
    assert re.search(r'<a href="/lv/services[^"]*" target="_blank" rel="noopener">', html)
