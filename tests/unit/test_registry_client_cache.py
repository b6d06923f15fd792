"""The registry fake_client caches: fresh hits, ETag revalidation, stale copies when the registry fails."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from app.registry_client import (
    CatalogueClient,
    RegistryError,
    RegistryNotFound,
    reset_stale,
    served_stale,
)
from tests.fixtures.fake_registry import (
    EXPIRED,
    PAGE,
    PATH,
    FakeRegistry,
    ok,
    problem,
    revalidating,
)

# Caching -----------------------------------------------------------------------------------------------------------


def test_fresh_cache_hit_makes_no_request(fake_registry: FakeRegistry, fake_client: CatalogueClient) -> None:
    fake_registry.script(PATH, ok(PAGE))
    assert fake_client.list_services() == PAGE
    assert fake_client.list_services() == PAGE
    assert fake_registry.hits() == 1
    assert not served_stale()


def test_revalidates_with_etag_after_max_age_and_uses_the_304(
    fake_registry: FakeRegistry, fake_client: CatalogueClient
) -> None:
    fake_registry.script(PATH, revalidating(PAGE, cache_control="public, max-age=1"))
    assert fake_client.list_services() == PAGE
    time.sleep(1.1)  # let max-age run out
    assert fake_client.list_services() == PAGE
    assert fake_registry.hits() == 2
    assert "If-None-Match" not in fake_registry.seen[0].headers
    assert fake_registry.seen[1].headers["If-None-Match"] == '"v1"'
    assert not served_stale()  # a revalidated copy is fresh, not stale
    assert fake_client.list_services() == PAGE  # and fresh again for the new max-age
    assert fake_registry.hits() == 2


def test_different_queries_are_cached_apart(fake_registry: FakeRegistry, fake_client: CatalogueClient) -> None:
    fake_registry.script(PATH, ok(PAGE))
    fake_client.list_services(q="pase")
    fake_client.list_services(q="pase")
    fake_client.list_services(q="vize")
    assert [seen.query.get("q") for seen in fake_registry.seen] == ["pase", "vize"]


def test_memory_cache_is_bounded(fake_registry: FakeRegistry, make_fake_client: Callable[..., CatalogueClient]) -> None:
    fake_client = make_fake_client(cache_max_entries=2)
    fake_registry.script(PATH, ok(PAGE))
    for page in (1, 2, 3, 1):  # page 1 is the least recently used when page 3 arrives
        fake_client.list_services(page=page)
    assert [seen.query["page"] for seen in fake_registry.seen] == ["1", "2", "3", "1"]


def test_sqlite_cache_is_shared_by_clients_of_one_file(
    fake_registry: FakeRegistry, make_fake_client: Callable[..., CatalogueClient], tmp_path: Path
) -> None:
    fake_registry.script(PATH, ok(PAGE))
    first = make_fake_client(cache_backend="sqlite", cache_name=tmp_path / "registry-cache")
    second = make_fake_client(cache_backend="sqlite", cache_name=tmp_path / "registry-cache")
    assert first.list_services() == PAGE
    assert second.list_services() == PAGE  # another worker process would see the same file
    assert fake_registry.hits() == 1


def test_sqlite_cache_needs_a_file_name(fake_registry: FakeRegistry) -> None:
    with pytest.raises(ValueError, match="cache_name"):
        CatalogueClient(fake_registry.url, cache_backend="sqlite")


def test_request_with_authorization_is_never_cached(fake_registry: FakeRegistry, fake_client: CatalogueClient) -> None:
    fake_registry.script("/api/v1/services/draft", ok({"id": "draft", "status": "draft"}))
    for _ in range(2):
        assert fake_client.get_json("api/v1/services/draft", token="secret")["status"] == "draft"
    assert fake_registry.hits("/api/v1/services/draft") == 2
    assert fake_registry.seen[0].headers["Authorization"] == "Bearer secret"
    # An anonymous request does not get the token holder's answer from the cache...
    fake_client.get_json("api/v1/services/draft")
    assert fake_registry.hits("/api/v1/services/draft") == 3
    assert "Authorization" not in fake_registry.seen[2].headers
    # ...and a token holder does not get the anonymous copy either.
    fake_client.get_json("api/v1/services/draft", token="secret")
    assert fake_registry.hits("/api/v1/services/draft") == 4


def test_private_answer_is_not_cached(fake_registry: FakeRegistry, fake_client: CatalogueClient) -> None:
    fake_registry.script(PATH, ok(PAGE, cache_control="private, max-age=60"))
    fake_client.list_services()
    fake_client.list_services()
    assert fake_registry.hits() == 2


# Stale-if-error ----------------------------------------------------------------------------------------------------


def test_stale_copy_is_served_when_the_registry_answers_500(
    fake_registry: FakeRegistry, fake_client: CatalogueClient
) -> None:
    fake_registry.script(PATH, ok(PAGE, EXPIRED), problem(500, "database is down"))
    assert fake_client.list_services() == PAGE
    assert not served_stale()
    assert fake_client.list_services() == PAGE
    assert served_stale()
    assert fake_registry.seen[1].headers["If-None-Match"] == '"v1"'  # it did try the registry first


def test_stale_copy_is_served_when_the_registry_is_stopped(
    fake_registry: FakeRegistry, fake_client: CatalogueClient
) -> None:
    fake_registry.script(PATH, ok(PAGE, EXPIRED))
    assert fake_client.list_services() == PAGE
    fake_registry.stop()
    assert fake_client.list_services() == PAGE
    assert served_stale()


def test_stale_flag_lasts_until_reset(fake_registry: FakeRegistry, fake_client: CatalogueClient) -> None:
    fake_registry.script(PATH, ok(PAGE, EXPIRED), problem(503, "maintenance"))
    fake_registry.script("/api/v1/institutions", ok({"items": [], "total": 0}))
    fake_client.list_services()
    fake_client.list_services()
    fake_client.list_institutions()  # a later fresh answer on the same page does not hide the stale one
    assert served_stale()
    reset_stale()
    assert not served_stale()


def test_failure_without_a_cached_copy_is_a_registry_error(
    fake_registry: FakeRegistry, fake_client: CatalogueClient
) -> None:
    fake_registry.script(PATH, problem(500, "database is down"))
    with pytest.raises(RegistryError) as caught:
        fake_client.list_services()
    assert caught.value.status == 500
    assert caught.value.detail == "database is down"
    assert "database is down" in str(caught.value)
    assert not served_stale()


def test_withdrawn_service_is_not_masked_by_a_stale_copy(
    fake_registry: FakeRegistry, fake_client: CatalogueClient
) -> None:
    path = "/api/v1/services/old-service"
    fake_registry.script(path, ok({"id": "old-service"}, EXPIRED), problem(410, "The service was withdrawn."))
    fake_client.get_service("old-service")
    with pytest.raises(RegistryNotFound, match="withdrawn"):
        fake_client.get_service("old-service")
    assert not served_stale()


def test_stale_if_error_zero_turns_the_fallback_off(
    fake_registry: FakeRegistry, make_fake_client: Callable[..., CatalogueClient]
) -> None:
    fake_client = make_fake_client(stale_if_error=0)
    fake_registry.script(PATH, ok(PAGE, EXPIRED), problem(500, "database is down"))
    fake_client.list_services()
    with pytest.raises(RegistryError):
        fake_client.list_services()
