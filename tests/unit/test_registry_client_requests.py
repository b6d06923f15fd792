"""What the registry fake_client sends, and what it refuses to send."""

from __future__ import annotations

import pytest

from app.registry_client import (
    CatalogueClient,
    RegistryClient,
    RegistryNotFound,
    request_id,
)
from tests.fixtures.fake_registry import (
    PAGE,
    PATH,
    FakeRegistry,
    ok,
)

# What is sent ------------------------------------------------------------------------------------------------------


def test_none_filters_are_dropped_and_json_is_asked_for(
    fake_registry: FakeRegistry, fake_client: CatalogueClient
) -> None:
    fake_registry.script(PATH, ok(PAGE))
    fake_client.list_services(q="pase", level=4, audience=None)
    assert fake_registry.seen[0].query == {"q": "pase", "level": "4", "page": "1", "per_page": "20"}
    assert fake_registry.seen[0].headers["Accept"] == "application/json"


def test_catalogue_methods_ask_for_their_paths(fake_registry: FakeRegistry, fake_client: CatalogueClient) -> None:
    for path in ("services/pase", "institutions", "institutions/pmlp", "life-events", "municipalities"):
        fake_registry.script(f"/api/v1/{path}", ok({"path": path}))
    assert fake_client.get_service("pase") == {"path": "services/pase"}
    assert fake_client.list_institutions() == {"path": "institutions"}
    assert fake_client.get_institution("pmlp") == {"path": "institutions/pmlp"}
    assert fake_client.list_life_events() == {"path": "life-events"}
    assert fake_client.list_municipalities() == {"path": "municipalities"}


def test_request_id_comes_from_the_context(fake_registry: FakeRegistry, fake_client: CatalogueClient) -> None:
    fake_registry.script(PATH, ok(PAGE, cache_control="no-store"))
    token = request_id.set("portal-req-42")
    try:
        fake_client.list_services()
    finally:
        request_id.reset(token)
    fake_client.list_services()
    unsafe = request_id.set("evil\r\nX-Injected: 1")
    try:
        fake_client.list_services()
    finally:
        request_id.reset(unsafe)
    sent = [seen.headers["X-Request-Id"] for seen in fake_registry.seen]
    assert sent[0] == "portal-req-42"
    assert len(sent[1]) == 32 and int(sent[1], 16) >= 0  # a fresh uuid4 hex
    assert len(sent[2]) == 32 and "evil" not in sent[2]
    assert "X-Injected" not in fake_registry.seen[2].headers


BAD_IDS = ["", "a", "../etc", "pase/../../admin", "Pase", "pase ", "pase\n", "-pase", "pase--x", "%2e%2e", "a" * 81]


@pytest.mark.parametrize("bad_id", BAD_IDS)
@pytest.mark.parametrize("method", ["get_service", "get_institution"])
def test_bad_ids_never_reach_the_network(
    fake_registry: FakeRegistry, fake_client: CatalogueClient, method: str, bad_id: str
) -> None:
    with pytest.raises(RegistryNotFound):
        getattr(fake_client, method)(bad_id)
    assert fake_registry.seen == []


@pytest.mark.parametrize(
    "path",
    ["/api/v1/services", "http://evil.example/x", "//evil.example/x", "../x", "api/../../x", "api/v1?x=1", "a\\b"],
)
def test_paths_outside_the_base_url_are_refused(
    fake_registry: FakeRegistry, fake_client: CatalogueClient, path: str
) -> None:
    with pytest.raises(ValueError, match="relative"):
        fake_client.get_json(path)
    assert fake_registry.seen == []


@pytest.mark.parametrize(
    "base_url", ["ftp://127.0.0.1", "127.0.0.1:5001", "http://127.0.0.1:5001/?x=1", "http://user:pw@127.0.0.1"]
)
def test_base_url_must_be_a_plain_http_url(base_url: str) -> None:
    with pytest.raises(ValueError):
        RegistryClient(base_url)


def test_catalogue_client_wants_the_registry_root_not_the_api_root() -> None:
    with pytest.raises(ValueError, match="root URL"):
        CatalogueClient("http://127.0.0.1:5001/api/v1/")
