"""The registry client against a real registry process: documented shapes, caching, not-found ids."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
import requests
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request

from app.registry_client import CatalogueClient, RegistryNotFound, reset_stale, served_stale
from tests.fixtures.registry_server import RegistryProcess

pytestmark = pytest.mark.integration

FORWARDED = ("Accept", "If-None-Match", "X-Request-ID")
RETURNED = ("Content-Type", "ETag", "Cache-Control")


class _QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        """Keep the test output clean."""


class CountingProxy:
    """A loopback pass-through in front of the real registry that counts the requests reaching it."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.paths: list[str] = []
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True, request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01})
        self._thread.start()

    def stop(self) -> None:
        """Stop the proxy."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        self.paths.append(request.full_path)
        headers = {name: request.headers[name] for name in FORWARDED if name in request.headers}
        answer = requests.get(self.upstream + request.full_path, headers=headers, timeout=10, allow_redirects=False)
        start_response(
            f"{answer.status_code} {answer.reason}",
            [(name, answer.headers[name]) for name in RETURNED if name in answer.headers]
            + [("Content-Length", str(len(answer.content)))],
        )
        return [answer.content]


@pytest.fixture
def client(registry: RegistryProcess) -> Iterator[CatalogueClient]:
    """A client of the real registry with its own empty in-memory cache."""
    with CatalogueClient(registry.url) as catalogue:
        yield catalogue


@pytest.fixture
def proxy(registry: RegistryProcess) -> Iterator[CountingProxy]:
    """A counting pass-through to the real registry."""
    counting = CountingProxy(registry.url)
    yield counting
    counting.stop()


def test_list_services_has_the_documented_shape(client: CatalogueClient) -> None:
    body = client.list_services()
    assert set(body) == {"items", "total", "page", "per_page"}
    assert body["page"] == 1 and body["per_page"] == 20
    assert len(body["items"]) == 20 and body["total"] >= 40
    for item in body["items"]:
        assert {"id", "title", "summary", "level", "audiences", "competent_authority", "spatial"} <= set(item)
        assert item["title"]["lv"]


def test_list_services_passes_filters_and_search(client: CatalogueClient) -> None:
    filtered = client.list_services(audience="residents", level=4, municipality="riga", per_page=100)
    assert filtered["items"]
    for item in filtered["items"]:
        assert item["level"] == 4 and "residents" in item["audiences"] and item["spatial"] in ("LV", "riga")
    found = [item["title"]["lv"] for item in client.list_services(q="deklaresana")["items"]]
    assert "Dzīvesvietas deklarēšana" in found[:3]


def test_get_service_returns_the_full_description(client: CatalogueClient) -> None:
    first = client.list_services(per_page=1)["items"][0]
    service = client.get_service(first["id"])
    assert service["id"] == first["id"]
    assert service["title"] == first["title"]
    assert service["description"]["lv"]


def test_institutions_have_the_documented_shape(client: CatalogueClient) -> None:
    body = client.list_institutions()
    assert set(body) == {"items", "total"} and body["total"] == len(body["items"]) > 0
    first = body["items"][0]
    assert {"id", "name"} <= set(first)
    assert client.get_institution(first["id"])["id"] == first["id"]


def test_life_events_and_municipalities_have_the_documented_shape(client: CatalogueClient) -> None:
    for body in (client.list_life_events(), client.list_municipalities()):
        assert set(body) == {"items", "total"} and body["total"] == len(body["items"]) > 0
        assert all({"id"} <= set(item) for item in body["items"])
    assert "riga" in {item["id"] for item in client.list_municipalities()["items"]}


def test_second_call_within_max_age_does_not_reach_the_registry(proxy: CountingProxy) -> None:
    reset_stale()  # another test in this process may have served a stale copy
    with CatalogueClient(proxy.url) as client:
        first = client.list_services(q="pase")
        assert client.list_services(q="pase") == first
        assert client.list_institutions() == client.list_institutions()
    assert proxy.paths == ["/api/v1/services?q=pase&page=1&per_page=20", "/api/v1/institutions?"]
    assert not served_stale()


def test_unknown_ids_raise_registry_not_found(client: CatalogueClient) -> None:
    with pytest.raises(RegistryNotFound) as caught:
        client.get_service("nav-tada-pakalpojuma")
    assert caught.value.status == 404
    assert "nav-tada-pakalpojuma" in caught.value.detail
    with pytest.raises(RegistryNotFound):
        client.get_institution("nav-tadas-iestades")
