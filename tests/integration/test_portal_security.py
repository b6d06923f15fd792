"""Headers, framing rules and inert registry content."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from flask import Flask

from app.access import PUBLIC, SIGNED_IN, STAFF
from tests.fixtures.portal import Browser, make_portal
from tests.fixtures.registry_server import RegistryProcess

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "path",
    [
        "/lv/",
        "/lv/services",
        "/lv/services/pases-izsniegsana",
        "/lv/institutions/pmlp",
        "/lv/nothing",
        "/de/",
        "/lv/sign-in",  # sign-in pages are never frameable
    ],
)
def test_every_response_has_the_security_headers(browser: Browser, path: str) -> None:
    response = browser.get(path)
    csp = response.headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize(
    ("point", "ancestors"),
    [
        ("latvija", "frame-ancestors 'self'"),
        ("riga", "frame-ancestors 'self' https://www.riga.lv http://embed.localhost:5000"),
        ("valmiera", "frame-ancestors 'self' https://www.valmiera.lv"),
    ],
)
def test_only_embed_routes_may_be_framed_and_only_by_the_points_origins(
    browser: Browser, point: str, ancestors: str
) -> None:
    for path in ("/lv/embed/services", "/lv/embed/services/pases-izsniegsana"):
        response = browser.get(path, point)
        assert response.headers["Content-Security-Policy"].endswith(ancestors)
        assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors 'none'" in browser.get("/lv/services", point).headers["Content-Security-Policy"]


def test_every_route_declares_who_may_use_it(portal_app: Flask) -> None:
    """Each route is `@public`, `@signed_in` or `@staff` (a new kind of access must be added here on purpose)."""
    declared = {
        rule.rule: getattr(portal_app.view_functions[rule.endpoint], "access", None)
        for rule in portal_app.url_map.iter_rules()
        if rule.endpoint != "static"
    }
    assert {rule: access for rule, access in declared.items() if access not in (PUBLIC, SIGNED_IN, STAFF)} == {}
    assert declared["/<lang>/sign-in"] == PUBLIC and declared["/<lang>/sign-out"] == PUBLIC


def test_public_urls_stay(portal_app: Flask) -> None:
    """These addresses are printed on paper: none may disappear without a redirect."""
    rules = {rule.rule for rule in portal_app.url_map.iter_rules()}
    assert {
        "/",
        "/<lang>/",
        "/<lang>/services",
        "/<lang>/services/<service_id>",
        "/<lang>/institutions/<institution_id>",
        "/<lang>/embed/services",
        "/<lang>/embed/services/<service_id>",
        "/<lang>/sign-in",
        "/healthz",
    } <= rules


HOSTILE = '"><svg onload=alert(1)><script>alert(2)</script>'


@pytest.fixture(scope="module")
def hostile_portal(writable_registry: RegistryProcess) -> Iterator[Browser]:
    token = writable_registry.token("pmlp")
    document = {
        "id": "naidigs-saturs",
        "status": "published",
        "level": 3,
        "audiences": ["residents"],
        "competent_authority": "pmlp",
        "spatial": "LV",
        "title": {"lv": f"Naidīgs {HOSTILE}", "en": f"Hostile {HOSTILE}"},
        "summary": {"lv": HOSTILE, "en": HOSTILE},
        "description": {"lv": f"[klikšķini](javascript:alert(3)) <img src=x onerror=alert(4)> {HOSTILE}", "en": "x"},
        "channels": [{"type": "e-service", "url": "https://example.lv/", "title": {"lv": HOSTILE}}],
        "legal_basis": [{"title": {"lv": HOSTILE}, "url": "https://likumi.lv/"}],
    }
    response = requests.put(
        f"{writable_registry.url}/api/v1/services/naidigs-saturs",
        json=document,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code in (200, 201), response.text
    with make_portal(writable_registry.url).test_client() as client:
        yield Browser(client)


@pytest.mark.parametrize(
    "path", ["/lv/services/naidigs-saturs", "/lv/services?q=naidigs", "/lv/embed/services/naidigs-saturs"]
)
def test_hostile_registry_text_is_inert(hostile_portal: Browser, path: str) -> None:
    html = hostile_portal.page(path)
    assert "<svg" not in html and "<script>alert" not in html and "<img" not in html
    assert 'href="javascript:' not in html.replace(" ", "")
    assert "&lt;svg onload=alert(1)&gt;" in html
