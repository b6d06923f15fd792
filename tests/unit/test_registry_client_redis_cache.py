"""The registry client's cache in Redis (REDIS_URL): shared by clients, JSON (never pickle), forgotten in time.

And, for every backend: a copy the registry has just confirmed is not "out of date".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis

from app.registry_client import CatalogueClient, served_stale
from app.registry_client.cache import redis_cache
from tests.fixtures.fake_registry import EXPIRED, PAGE, PATH, FakeRegistry, ok, problem, revalidating

STALE_IF_ERROR = 600


@pytest.fixture
def connection(redis_url: str) -> Iterator[redis.Redis]:
    found = redis.Redis.from_url(redis_url)
    yield found
    found.close()


def test_clients_on_one_redis_share_answers_and_stale_copies(
    fake_registry: FakeRegistry, make_fake_client: Callable[..., CatalogueClient], connection: redis.Redis
) -> None:
    first, second = (
        make_fake_client(retries=0, cache_backend=redis_cache(connection, "t:cache", STALE_IF_ERROR)) for _ in range(2)
    )
    fake_registry.script(PATH, ok(PAGE), problem(503, "busy"))
    assert first.list_services() == PAGE
    assert second.list_services() == PAGE  # fresh in the shared cache: not asked again
    assert fake_registry.hits() == 1

    fake_registry.script(PATH, ok(PAGE, cache_control=EXPIRED, etag='"v2"'), problem(503, "busy"))
    third = make_fake_client(retries=0, cache_backend=redis_cache(connection, "t:other", STALE_IF_ERROR))
    assert third.list_services() == PAGE  # another namespace: its own copy, stale at once
    fourth = make_fake_client(retries=0, cache_backend=redis_cache(connection, "t:other", STALE_IF_ERROR))
    assert fourth.list_services() == PAGE and served_stale()  # the registry failed: the shared stale copy


def test_entries_are_json_and_expire_after_stale_if_error(
    fake_registry: FakeRegistry, make_fake_client: Callable[..., CatalogueClient], connection: redis.Redis
) -> None:
    client = make_fake_client(cache_backend=redis_cache(connection, "t:cache", STALE_IF_ERROR))
    fake_registry.script(PATH, ok(PAGE, cache_control="public, max-age=60"))
    client.list_services()
    [key] = connection.keys("t:cache:*")
    assert connection.get(key).lstrip().startswith(b"{")  # JSON: a tampered entry cannot run code
    assert 60 + STALE_IF_ERROR - 5 <= connection.ttl(key) <= 60 + STALE_IF_ERROR


def test_a_copy_the_registry_confirmed_is_not_stale(fake_registry: FakeRegistry, fake_client: CatalogueClient) -> None:
    # max-age 0: every use revalidates. A 304 says the copy is current: no "may be out of date" notice.
    fake_registry.script(PATH, revalidating(PAGE, cache_control=EXPIRED))
    assert fake_client.list_services() == PAGE
    assert fake_client.list_services() == PAGE
    assert not served_stale()
    assert fake_registry.hits() == 2
