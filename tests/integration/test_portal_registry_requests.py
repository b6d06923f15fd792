"""How many registry requests a portal page costs, counted by a fake registry that forwards to the real one."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
from werkzeug.wrappers import Request

from tests.fixtures.fake_registry import FakeRegistry, Reply
from tests.fixtures.portal import Browser, make_portal
from tests.fixtures.registry_server import RegistryProcess

pytestmark = pytest.mark.integration

WITHOUT_FORM = "pases-izsniegsana"  # level 3, for residents: applied for online, but through its own e-service
WITH_FORM = "e-adreses-izveide"
FORWARDED_HEADERS = ("If-None-Match", "Accept", "Accept-Language")
RETURNED_HEADERS = ("ETag", "Cache-Control")


def forward_to(registry: RegistryProcess) -> Callable[[Request], Reply]:
    """Return a handler that answers with whatever the real registry answers (conditional requests included)."""

    def handle(request: Request) -> Reply:
        upstream = requests.get(
            f"{registry.url}{request.full_path.rstrip('?')}",
            headers={h: request.headers[h] for h in FORWARDED_HEADERS if h in request.headers},
            timeout=10,
        )
        headers = {h: upstream.headers[h] for h in RETURNED_HEADERS if h in upstream.headers}
        content_type = upstream.headers.get("Content-Type", "") if upstream.status_code != 304 else ""
        return Reply(upstream.status_code, upstream.content, headers, content_type)

    return handle


def view_twice(fake_registry: FakeRegistry, registry: RegistryProcess, service_id: str) -> tuple[str, list[str]]:
    """Show a service page twice through the counting registry; return the page and the requests about the service."""
    handler = forward_to(registry)
    forwarded = (
        f"/api/v1/services/{service_id}",
        f"/api/v1/services/{service_id}/forms/application",
        "/api/v1/institutions",
    )
    for path in forwarded:
        fake_registry.script(path, handler)
    with make_portal(fake_registry.url).test_client() as client:
        browser = Browser(client)
        html = browser.page(f"/lv/services/{service_id}")
        assert browser.page(f"/lv/services/{service_id}") == html
    unscripted = [seen.path for seen in fake_registry.seen if seen.path not in forwarded]
    assert unscripted == [], "the page asked the registry for something this test does not forward"
    about_service = [seen.path for seen in fake_registry.seen if seen.path.startswith(f"/api/v1/services/{service_id}")]
    return html, about_service


def test_a_service_page_without_a_form_asks_the_registry_once(
    fake_registry: FakeRegistry, registry: RegistryProcess
) -> None:
    # Whether there is a form comes with the detail: no request about a form that does not exist, on any view.
    html, about_service = view_twice(fake_registry, registry, WITHOUT_FORM)
    assert about_service == [f"/api/v1/services/{WITHOUT_FORM}"]
    assert f'href="/lv/services/{WITHOUT_FORM}/apply"' not in html


def test_a_service_page_with_a_form_offers_it_from_the_detail_alone(
    fake_registry: FakeRegistry, registry: RegistryProcess
) -> None:
    html, about_service = view_twice(fake_registry, registry, WITH_FORM)
    assert about_service == [f"/api/v1/services/{WITH_FORM}"]
    assert f'href="/lv/services/{WITH_FORM}/apply"' in html
