"""The registry client's circuit breaker: its states, and the client against a real HTTP server that fails."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
import redis

from app.registry_client import CatalogueClient, RegistryError, served_stale
from app.registry_client.breaker import (
    CircuitBreaker,
    MemoryBreakerStorage,
    RedisBreakerStorage,
    RegistryCircuitOpen,
)
from tests.fixtures.fake_registry import EXPIRED, PAGE, PATH, FakeRegistry, ok, problem
from tests.fixtures.registry_server import free_port

WRITE_PATH = "/api/v1/things"


class Clock:
    """A monotonic clock that stands still until moved."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def breaker(clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(MemoryBreakerStorage(clock), failures=3, window=60, cooldown=30)


def fail(breaker: CircuitBreaker, times: int = 1) -> None:
    for _ in range(times):
        breaker.failed(breaker.admit(5))


# The states, on a clock the test moves -------------------------------------------------------------------------------


def test_opens_after_the_threshold_of_failures_in_a_row(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    assert breaker.state == "closed"
    fail(breaker)
    assert breaker.state == "open"
    with pytest.raises(RegistryCircuitOpen, match="circuit breaker open") as caught:
        breaker.admit(5)
    assert isinstance(caught.value, RegistryError) and caught.value.status is None  # served like any outage


def test_a_success_ends_the_run_of_failures(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    breaker.succeeded(breaker.admit(5))
    fail(breaker, 2)
    assert breaker.state == "closed"


def test_failures_further_apart_than_the_window_do_not_add_up(breaker: CircuitBreaker, clock: Clock) -> None:
    fail(breaker, 2)
    clock.now += 61
    fail(breaker, 2)
    assert breaker.state == "closed"
    fail(breaker)
    assert breaker.state == "open"


def test_after_the_cool_down_one_trial_closes_it(breaker: CircuitBreaker, clock: Clock) -> None:
    fail(breaker, 3)
    clock.now += 29
    assert breaker.state == "open"
    clock.now += 1
    assert breaker.state == "half-open"
    trial = breaker.admit(5)
    assert trial.trial
    with pytest.raises(RegistryCircuitOpen, match="trial"):
        breaker.admit(5)  # everyone else still fails fast while the trial is on its way
    breaker.succeeded(trial)
    assert breaker.state == "closed"
    assert not breaker.admit(5).trial


def test_a_failed_trial_opens_it_for_another_cool_down(breaker: CircuitBreaker, clock: Clock) -> None:
    fail(breaker, 3)
    clock.now += 30
    breaker.failed(breaker.admit(5))
    assert breaker.state == "open"
    clock.now += 29
    assert breaker.state == "open"
    clock.now += 1
    assert breaker.admit(5).trial


def test_a_trial_that_never_reached_the_registry_lets_the_next_call_try(breaker: CircuitBreaker, clock: Clock) -> None:
    fail(breaker, 3)
    clock.now += 30
    breaker.released(breaker.admit(5))  # e.g. answered from a fresh cached copy
    assert breaker.state == "half-open"
    assert breaker.admit(5).trial


def test_a_trial_whose_caller_vanished_expires(breaker: CircuitBreaker, clock: Clock) -> None:
    fail(breaker, 3)
    clock.now += 30
    breaker.admit(5)  # the worker died before it could say how the call went
    clock.now += 5
    assert breaker.admit(5).trial


def test_late_failures_of_calls_admitted_before_it_opened_do_not_prolong_the_cool_down(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    slow = breaker.admit(5)
    fail(breaker, 3)
    clock.now += 20
    breaker.failed(slow)
    clock.now += 10
    assert breaker.state == "half-open"


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(failures=0)
    with pytest.raises(ValueError):
        CircuitBreaker(cooldown=0)


# The client against a real HTTP server --------------------------------------------------------------------------------


@pytest.fixture
def guarded(make_fake_client: Callable[..., CatalogueClient]) -> CatalogueClient:
    """A client with no retries (each call is one request) and a breaker that opens after 2 failed calls."""
    return make_fake_client(retries=0, breaker=CircuitBreaker(failures=2, window=60, cooldown=0.3))


def test_5xx_and_outages_open_it_and_then_nothing_reaches_the_registry(
    fake_registry: FakeRegistry, guarded: CatalogueClient
) -> None:
    fake_registry.script(PATH, problem(500, "bug"), problem(503, "busy"), ok(PAGE))
    for _ in range(2):
        with pytest.raises(RegistryError) as caught:
            guarded.list_services()
        assert not isinstance(caught.value, RegistryCircuitOpen)
    started = time.monotonic()
    with pytest.raises(RegistryCircuitOpen):
        guarded.list_services()
    with pytest.raises(RegistryCircuitOpen):
        guarded.send_json("POST", WRITE_PATH.lstrip("/"), body={"a": 1}, idempotency_key="k-1")
    assert time.monotonic() - started < 0.1
    assert fake_registry.hits() == 2 and fake_registry.hits(WRITE_PATH) == 0


def test_reads_fall_back_to_the_stale_copy_while_it_is_open(
    fake_registry: FakeRegistry, guarded: CatalogueClient
) -> None:
    fake_registry.script(PATH, ok(PAGE, cache_control=EXPIRED), problem(503, "busy"))
    assert guarded.list_services() == PAGE
    for _ in range(2):
        assert guarded.list_services() == PAGE  # stale copies, each after a failed request
    assert guarded.breaker is not None and guarded.breaker.state == "open"
    hits = fake_registry.hits()
    assert guarded.list_services() == PAGE and served_stale()
    assert fake_registry.hits() == hits  # the copy, without asking


def test_writes_fail_fast_even_when_the_registry_went_silent(
    fake_registry: FakeRegistry, make_fake_client: Callable[..., CatalogueClient]
) -> None:
    client = make_fake_client(retries=0, breaker=CircuitBreaker(failures=1, window=60, cooldown=30))
    fake_registry.stop()  # refused connections from now on
    with pytest.raises(RegistryError, match="cannot reach"):
        client.send_json("POST", WRITE_PATH.lstrip("/"), body={}, idempotency_key="k-2")
    with pytest.raises(RegistryCircuitOpen):
        client.send_json("POST", WRITE_PATH.lstrip("/"), body={}, idempotency_key="k-2")


def test_it_half_opens_and_closes_when_the_registry_recovers(
    fake_registry: FakeRegistry, guarded: CatalogueClient
) -> None:
    fake_registry.script(PATH, problem(503, "busy"), problem(503, "busy"), ok(PAGE))
    for _ in range(2):
        with pytest.raises(RegistryError):
            guarded.list_services()
    with pytest.raises(RegistryCircuitOpen):
        guarded.list_services()
    time.sleep(0.35)
    assert guarded.breaker is not None and guarded.breaker.state == "half-open"
    assert guarded.list_services() == PAGE  # the trial
    assert guarded.breaker.state == "closed"
    assert fake_registry.hits() == 3


def test_4xx_answers_are_the_registry_working(fake_registry: FakeRegistry, guarded: CatalogueClient) -> None:
    fake_registry.script(PATH, problem(503, "busy"), problem(404, "none"), problem(503, "busy"), ok(PAGE))
    for _ in range(3):
        with pytest.raises(RegistryError):
            guarded.list_services()
    assert guarded.list_services() == PAGE  # 503, 404, 503: never two failures in a row


def test_fresh_cache_hits_tell_the_breaker_nothing(fake_registry: FakeRegistry, guarded: CatalogueClient) -> None:
    fake_registry.script(PATH, ok(PAGE))
    guarded.list_services()
    breaker = guarded.breaker
    assert breaker is not None
    fail(breaker, 2)
    time.sleep(0.35)
    assert guarded.list_services() == PAGE  # from the fresh copy: the trial claim is given back
    assert breaker.state == "half-open" and breaker.admit(5).trial


# In Redis ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def redis_connection(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


def test_two_breakers_on_one_redis_share_the_state(redis_connection: redis.Redis) -> None:
    first, second = (
        CircuitBreaker(RedisBreakerStorage(redis_connection, "t:breaker:"), failures=2, window=60, cooldown=0.3)
        for _ in range(2)
    )
    fail(first)
    fail(second)  # two instances, one failure each: two in a row
    assert first.state == second.state == "open"
    with pytest.raises(RegistryCircuitOpen):
        second.admit(5)
    time.sleep(0.35)
    trial = first.admit(5)
    assert trial.trial
    with pytest.raises(RegistryCircuitOpen, match="trial"):
        second.admit(5)
    first.succeeded(trial)
    assert second.state == "closed" and not second.admit(5).trial
    assert set(redis_connection.keys("t:breaker:*")) == set()  # closed and clean: nothing left behind


def test_a_failed_trial_in_redis_opens_it_again(redis_connection: redis.Redis) -> None:
    breaker = CircuitBreaker(RedisBreakerStorage(redis_connection, "t:breaker:"), failures=1, window=60, cooldown=0.2)
    fail(breaker)
    time.sleep(0.25)
    breaker.failed(breaker.admit(5))
    assert breaker.state == "open"
    assert 0 < redis_connection.pttl("t:breaker:open") <= 200


def test_without_redis_the_breaker_counts_in_the_process(caplog: pytest.LogCaptureFixture) -> None:
    connection = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2)
    breaker = CircuitBreaker(RedisBreakerStorage(connection, "t:breaker:"), failures=2, window=60, cooldown=30)
    assert breaker.state == "closed"  # registry calls are not stopped by a missing Redis
    fail(breaker, 2)
    assert breaker.state == "open"
    assert sum("Redis unavailable" in record.message for record in caplog.records) == 1  # said once, not per call
