"""The registry fake_client under failure: bounded retries, timeouts, and answers that are not what they should be."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from app.registry_client import (
    CatalogueClient,
    RegistryClient,
    RegistryError,
    RegistryNotFound,
)
from app.registry_client.base import BACKOFF_MAX, WORKER_TIMEOUT_SECONDS
from tests.fixtures.fake_registry import (
    FAST,
    PAGE,
    PATH,
    PUBLIC,
    FakeRegistry,
    Reply,
    ok,
    problem,
)
from tests.fixtures.registry_server import free_port

# Retries and timeouts ----------------------------------------------------------------------------------------------


def test_get_is_retried_on_503_and_then_succeeds(fake_registry: FakeRegistry, fake_client: CatalogueClient) -> None:
    fake_registry.script(PATH, problem(503, "busy"), problem(503, "busy"), ok(PAGE))
    assert fake_client.list_services() == PAGE
    assert fake_registry.hits() == 3


def test_retries_are_bounded(fake_registry: FakeRegistry, fake_client: CatalogueClient) -> None:
    fake_registry.script(PATH, problem(503, "busy"))
    with pytest.raises(RegistryError) as caught:
        fake_client.list_services()
    assert caught.value.status == 503
    assert fake_registry.hits() == 3  # the first attempt and two retries


def test_500_is_not_retried(fake_registry: FakeRegistry, fake_client: CatalogueClient) -> None:
    fake_registry.script(PATH, problem(500, "bug"))
    with pytest.raises(RegistryError):
        fake_client.list_services()
    assert fake_registry.hits() == 1


def test_retry_after_is_respected(
    fake_registry: FakeRegistry, make_fake_client: Callable[..., CatalogueClient]
) -> None:
    fake_client = make_fake_client(retries=1, max_retry_after=2.0)
    busy = problem(503, "busy")
    busy.headers["Retry-After"] = "1"
    fake_registry.script(PATH, busy, ok(PAGE))
    started = time.monotonic()
    assert fake_client.list_services() == PAGE
    assert time.monotonic() - started >= 1.0


def test_retry_after_is_bounded(fake_registry: FakeRegistry, make_fake_client: Callable[..., CatalogueClient]) -> None:
    fake_client = make_fake_client(retries=1, max_retry_after=0.5)
    busy = problem(503, "come back in an hour")
    busy.headers["Retry-After"] = "3600"
    fake_registry.script(PATH, busy)
    started = time.monotonic()
    with pytest.raises(RegistryError, match="come back in an hour"):
        fake_client.list_services()
    assert time.monotonic() - started < 2.0
    assert fake_registry.hits() == 2


def test_read_timeout_is_a_registry_error_within_the_budget(
    fake_registry: FakeRegistry, fake_client: CatalogueClient
) -> None:
    fake_registry.script(PATH, Reply(body=b"{}", delay=3.0))
    started = time.monotonic()
    with pytest.raises(RegistryError, match="did not answer in time") as caught:
        fake_client.list_services()
    elapsed = time.monotonic() - started
    assert caught.value.status is None
    assert fake_registry.hits() == 3  # a timed-out GET is retried like any other idempotent failure
    assert 1.5 <= elapsed < fake_client.worst_case_seconds


def test_connection_refused_is_a_registry_error() -> None:
    started = time.monotonic()
    with (
        CatalogueClient(f"http://127.0.0.1:{free_port()}", timeout=FAST) as fake_client,
        pytest.raises(RegistryError, match="cannot reach") as caught,
    ):
        fake_client.list_services()
    assert caught.value.status is None
    assert time.monotonic() - started < 3.0


def test_worst_case_time_stays_under_the_worker_timeout() -> None:
    with RegistryClient("http://127.0.0.1:1") as fake_client:
        connect, read = fake_client.timeout
        # The rule of thumb (retries x read timeout + backoff) and the fake_client's own worst case: every attempt
        # timing out at connect and at read, with the longest backoff or capped Retry-After between attempts.
        assert fake_client.retries * read + fake_client.retries * BACKOFF_MAX < WORKER_TIMEOUT_SECONDS
        assert fake_client.worst_case_seconds >= (fake_client.retries + 1) * (connect + read)
        assert fake_client.worst_case_seconds < WORKER_TIMEOUT_SECONDS
    with pytest.raises(ValueError, match="worker timeout"):
        RegistryClient("http://127.0.0.1:1", timeout=(5.0, 10.0), retries=2)


# Answers that are not what they should be --------------------------------------------------------------------------


def test_truncated_body_is_a_registry_error(fake_registry: FakeRegistry, fake_client: CatalogueClient) -> None:
    fake_registry.script(PATH, Reply(body=b'{"items": [{"id": "pa', declared_length=500))
    with pytest.raises(RegistryError):
        fake_client.list_services()


def test_malformed_json_is_a_registry_error_and_not_kept(
    fake_registry: FakeRegistry, fake_client: CatalogueClient
) -> None:
    fake_registry.script(
        PATH, Reply(body=b'{"items": [{"id": "pa', headers={"Cache-Control": PUBLIC, "ETag": '"x"'}), ok(PAGE)
    )
    with pytest.raises(RegistryError, match="malformed JSON") as caught:
        fake_client.list_services()
    assert caught.value.status == 200
    assert fake_client.list_services() == PAGE  # the broken body was not cached
    assert fake_registry.hits() == 2


def test_answer_that_is_not_json_is_a_registry_error(fake_registry: FakeRegistry, fake_client: CatalogueClient) -> None:
    fake_registry.script(PATH, Reply(body=b"<html>proxy error</html>", content_type="text/html"))
    with pytest.raises(RegistryError, match="malformed JSON"):
        fake_client.list_services()


def test_json_that_is_not_an_object_is_a_registry_error(
    fake_registry: FakeRegistry, fake_client: CatalogueClient
) -> None:
    fake_registry.script(PATH, ok(["not", "an", "object"]))
    with pytest.raises(RegistryError, match="expected a JSON object"):
        fake_client.list_services()


@pytest.mark.parametrize("status", [404, 410])
def test_not_found_problem_is_registry_not_found_with_its_detail(
    fake_registry: FakeRegistry, fake_client: CatalogueClient, status: int
) -> None:
    fake_registry.script("/api/v1/services/nav-tada", problem(status, "There is no service 'nav-tada'."))
    with pytest.raises(RegistryNotFound) as caught:
        fake_client.get_service("nav-tada")
    assert caught.value.status == status
    assert caught.value.detail == "There is no service 'nav-tada'."


def test_problem_detail_is_cleaned_for_logs(fake_registry: FakeRegistry, fake_client: CatalogueClient) -> None:
    fake_registry.script(PATH, problem(400, "bad\r\nX-Injected: 1 " + "x" * 1000))
    with pytest.raises(RegistryError) as caught:
        fake_client.list_services()
    assert "\n" not in caught.value.detail and "\r" not in caught.value.detail
    assert len(caught.value.detail) <= 300


def test_redirect_is_not_followed(fake_registry: FakeRegistry, fake_client: CatalogueClient) -> None:
    fake_registry.script(PATH, Reply(302, b"", {"Location": "http://127.0.0.1:1/elsewhere"}, content_type=""))
    with pytest.raises(RegistryError) as caught:
        fake_client.list_services()
    assert caught.value.status == 302
    assert [seen.path for seen in fake_registry.seen] == [PATH]
