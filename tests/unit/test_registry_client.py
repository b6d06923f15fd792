"""The registry client against a real, scripted HTTP server on 127.0.0.1: caching, retries, timeouts, errors."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request

from app.registry_client import (
    CatalogueClient,
    RegistryClient,
    RegistryError,
    RegistryNotFound,
    request_id,
    reset_stale,
    served_stale,
)
from app.registry_client.base import BACKOFF_MAX, WORKER_TIMEOUT_SECONDS
from tests.fixtures.registry_server import free_port

FAST = (0.5, 0.5)  # (connect, read) seconds: real timeouts, short enough for a quick suite
PATH = "/api/v1/services"
PUBLIC = "public, max-age=60, stale-while-revalidate=60, stale-if-error=86400"
EXPIRED = "public, max-age=0, stale-if-error=86400"  # stored (it has an ETag) but stale at once


@dataclass
class Reply:
    """One scripted answer of the fake registry."""

    status: int = 200
    body: bytes = b'{"items": [], "total": 0}'
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    delay: float = 0.0
    declared_length: int | None = None  # a Content-Length that differs from the body: a truncated answer


def ok(data: object, cache_control: str = PUBLIC, etag: str = '"v1"') -> Reply:
    """Return a 200 JSON answer with validators, as the registry sends it."""
    return Reply(body=json.dumps(data).encode(), headers={"Cache-Control": cache_control, "ETag": etag})


def problem(status: int, detail: str) -> Reply:
    """Return an RFC 9457 problem answer, as the registry sends it."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    return Reply(status, json.dumps(body).encode(), {"Cache-Control": "no-store"}, "application/problem+json")


def revalidating(data: object, etag: str = '"v1"', cache_control: str = PUBLIC) -> Callable[[Request], Reply]:
    """Return a handler that answers a matching If-None-Match with 304, like the registry."""

    def handle(request: Request) -> Reply:
        if request.headers.get("If-None-Match") == etag:
            return Reply(304, b"", {"ETag": etag, "Cache-Control": cache_control}, content_type="")
        return ok(data, cache_control, etag)

    return handle


@dataclass(frozen=True)
class Seen:
    """A request as the fake registry received it."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]


class _QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        """Keep the test output clean."""


class FakeRegistry:
    """A real HTTP server on 127.0.0.1 whose answers each test scripts, path by path."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self._scripts: dict[str, list[Reply | Callable[[Request], Reply]]] = {}
        self._lock = threading.Lock()
        self._release = threading.Event()  # wakes slow handlers when the server stops
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, self._app, threaded=True, request_handler=_QuietHandler
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01})
        self._thread.start()

    def script(self, path: str, *replies: Reply | Callable[[Request], Reply]) -> None:
        """Answer requests for `path` with `replies` in turn; the last one repeats."""
        self._scripts[path] = list(replies)

    def hits(self, path: str = PATH) -> int:
        """Return how many requests reached `path`."""
        return sum(1 for seen in self.seen if seen.path == path)

    def stop(self) -> None:
        """Stop serving and free the port, so later connections are refused."""
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _next(self, request: Request) -> Reply:
        with self._lock:
            self.seen.append(Seen(request.path, dict(request.args), dict(request.headers)))
            script = self._scripts.get(request.path) or [problem(404, "not scripted")]
            reply = script.pop(0) if len(script) > 1 else script[0]
        return reply(request) if callable(reply) else reply

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        reply = self._next(Request(environ))
        if reply.delay:
            self._release.wait(reply.delay)
        headers = dict(reply.headers)
        if reply.content_type:
            headers["Content-Type"] = reply.content_type
        if reply.status != 304:
            headers["Content-Length"] = str(reply.declared_length or len(reply.body))
        if reply.declared_length is not None:
            headers["Connection"] = "close"  # so the client sees the short body at once instead of waiting
        start_response(f"{reply.status} {HTTPStatus(reply.status).phrase}", list(headers.items()))
        return [reply.body]


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    """A scripted registry on a free loopback port."""
    server = FakeRegistry()
    yield server
    server.stop()


@pytest.fixture
def make_client(fake: FakeRegistry) -> Iterator[Callable[..., CatalogueClient]]:
    """Build clients of the fake registry with short timeouts; close them afterwards."""
    clients: list[CatalogueClient] = []

    def build(**options: Any) -> CatalogueClient:
        client = CatalogueClient(fake.url, **{"timeout": FAST, "retries": 2, "max_retry_after": 1.0, **options})
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., CatalogueClient]) -> CatalogueClient:
    """A client of the fake registry with the default in-memory cache."""
    return make_client()


@pytest.fixture(autouse=True)
def fresh_context() -> Iterator[None]:
    """Start every test with no stale answer and no request id (tests share one thread and its context)."""
    reset_stale()
    token = request_id.set(None)
    yield
    request_id.reset(token)


PAGE = {"items": [{"id": "pases-izsniegsana"}], "total": 1, "page": 1, "per_page": 20}


# Caching -----------------------------------------------------------------------------------------------------------


def test_fresh_cache_hit_makes_no_request(fake: FakeRegistry, client: CatalogueClient) -> None:
    fake.script(PATH, ok(PAGE))
    assert client.list_services() == PAGE
    assert client.list_services() == PAGE
    assert fake.hits() == 1
    assert not served_stale()


def test_revalidates_with_etag_after_max_age_and_uses_the_304(fake: FakeRegistry, client: CatalogueClient) -> None:
    fake.script(PATH, revalidating(PAGE, cache_control="public, max-age=1"))
    assert client.list_services() == PAGE
    time.sleep(1.1)  # let max-age run out
    assert client.list_services() == PAGE
    assert fake.hits() == 2
    assert "If-None-Match" not in fake.seen[0].headers
    assert fake.seen[1].headers["If-None-Match"] == '"v1"'
    assert not served_stale()  # a revalidated copy is fresh, not stale
    assert client.list_services() == PAGE  # and fresh again for the new max-age
    assert fake.hits() == 2


def test_different_queries_are_cached_apart(fake: FakeRegistry, client: CatalogueClient) -> None:
    fake.script(PATH, ok(PAGE))
    client.list_services(q="pase")
    client.list_services(q="pase")
    client.list_services(q="vize")
    assert [seen.query.get("q") for seen in fake.seen] == ["pase", "vize"]


def test_memory_cache_is_bounded(fake: FakeRegistry, make_client: Callable[..., CatalogueClient]) -> None:
    client = make_client(cache_max_entries=2)
    fake.script(PATH, ok(PAGE))
    for page in (1, 2, 3, 1):  # page 1 is the least recently used when page 3 arrives
        client.list_services(page=page)
    assert [seen.query["page"] for seen in fake.seen] == ["1", "2", "3", "1"]


def test_sqlite_cache_is_shared_by_clients_of_one_file(
    fake: FakeRegistry, make_client: Callable[..., CatalogueClient], tmp_path: Path
) -> None:
    fake.script(PATH, ok(PAGE))
    first = make_client(cache_backend="sqlite", cache_name=tmp_path / "registry-cache")
    second = make_client(cache_backend="sqlite", cache_name=tmp_path / "registry-cache")
    assert first.list_services() == PAGE
    assert second.list_services() == PAGE  # another worker process would see the same file
    assert fake.hits() == 1


def test_sqlite_cache_needs_a_file_name(fake: FakeRegistry) -> None:
    with pytest.raises(ValueError, match="cache_name"):
        CatalogueClient(fake.url, cache_backend="sqlite")


def test_request_with_authorization_is_never_cached(fake: FakeRegistry, client: CatalogueClient) -> None:
    fake.script("/api/v1/services/draft", ok({"id": "draft", "status": "draft"}))
    for _ in range(2):
        assert client.get_json("api/v1/services/draft", token="secret")["status"] == "draft"
    assert fake.hits("/api/v1/services/draft") == 2
    assert fake.seen[0].headers["Authorization"] == "Bearer secret"
    # An anonymous request does not get the token holder's answer from the cache...
    client.get_json("api/v1/services/draft")
    assert fake.hits("/api/v1/services/draft") == 3
    assert "Authorization" not in fake.seen[2].headers
    # ...and a token holder does not get the anonymous copy either.
    client.get_json("api/v1/services/draft", token="secret")
    assert fake.hits("/api/v1/services/draft") == 4


def test_private_answer_is_not_cached(fake: FakeRegistry, client: CatalogueClient) -> None:
    fake.script(PATH, ok(PAGE, cache_control="private, max-age=60"))
    client.list_services()
    client.list_services()
    assert fake.hits() == 2


# Stale-if-error ----------------------------------------------------------------------------------------------------


def test_stale_copy_is_served_when_the_registry_answers_500(fake: FakeRegistry, client: CatalogueClient) -> None:
    fake.script(PATH, ok(PAGE, EXPIRED), problem(500, "database is down"))
    assert client.list_services() == PAGE
    assert not served_stale()
    assert client.list_services() == PAGE
    assert served_stale()
    assert fake.seen[1].headers["If-None-Match"] == '"v1"'  # it did try the registry first


def test_stale_copy_is_served_when_the_registry_is_stopped(fake: FakeRegistry, client: CatalogueClient) -> None:
    fake.script(PATH, ok(PAGE, EXPIRED))
    assert client.list_services() == PAGE
    fake.stop()
    assert client.list_services() == PAGE
    assert served_stale()


def test_stale_flag_lasts_until_reset(fake: FakeRegistry, client: CatalogueClient) -> None:
    fake.script(PATH, ok(PAGE, EXPIRED), problem(503, "maintenance"))
    fake.script("/api/v1/institutions", ok({"items": [], "total": 0}))
    client.list_services()
    client.list_services()
    client.list_institutions()  # a later fresh answer on the same page does not hide the stale one
    assert served_stale()
    reset_stale()
    assert not served_stale()


def test_failure_without_a_cached_copy_is_a_registry_error(fake: FakeRegistry, client: CatalogueClient) -> None:
    fake.script(PATH, problem(500, "database is down"))
    with pytest.raises(RegistryError) as caught:
        client.list_services()
    assert caught.value.status == 500
    assert caught.value.detail == "database is down"
    assert "database is down" in str(caught.value)
    assert not served_stale()


def test_withdrawn_service_is_not_masked_by_a_stale_copy(fake: FakeRegistry, client: CatalogueClient) -> None:
    path = "/api/v1/services/old-service"
    fake.script(path, ok({"id": "old-service"}, EXPIRED), problem(410, "The service was withdrawn."))
    client.get_service("old-service")
    with pytest.raises(RegistryNotFound, match="withdrawn"):
        client.get_service("old-service")
    assert not served_stale()


def test_stale_if_error_zero_turns_the_fallback_off(
    fake: FakeRegistry, make_client: Callable[..., CatalogueClient]
) -> None:
    client = make_client(stale_if_error=0)
    fake.script(PATH, ok(PAGE, EXPIRED), problem(500, "database is down"))
    client.list_services()
    with pytest.raises(RegistryError):
        client.list_services()


# Retries and timeouts ----------------------------------------------------------------------------------------------


def test_get_is_retried_on_503_and_then_succeeds(fake: FakeRegistry, client: CatalogueClient) -> None:
    fake.script(PATH, problem(503, "busy"), problem(503, "busy"), ok(PAGE))
    assert client.list_services() == PAGE
    assert fake.hits() == 3


def test_retries_are_bounded(fake: FakeRegistry, client: CatalogueClient) -> None:
    fake.script(PATH, problem(503, "busy"))
    with pytest.raises(RegistryError) as caught:
        client.list_services()
    assert caught.value.status == 503
    assert fake.hits() == 3  # the first attempt and two retries


def test_500_is_not_retried(fake: FakeRegistry, client: CatalogueClient) -> None:
    fake.script(PATH, problem(500, "bug"))
    with pytest.raises(RegistryError):
        client.list_services()
    assert fake.hits() == 1


def test_retry_after_is_respected(fake: FakeRegistry, make_client: Callable[..., CatalogueClient]) -> None:
    client = make_client(retries=1, max_retry_after=2.0)
    busy = problem(503, "busy")
    busy.headers["Retry-After"] = "1"
    fake.script(PATH, busy, ok(PAGE))
    started = time.monotonic()
    assert client.list_services() == PAGE
    assert time.monotonic() - started >= 1.0


def test_retry_after_is_bounded(fake: FakeRegistry, make_client: Callable[..., CatalogueClient]) -> None:
    client = make_client(retries=1, max_retry_after=0.5)
    busy = problem(503, "come back in an hour")
    busy.headers["Retry-After"] = "3600"
    fake.script(PATH, busy)
    started = time.monotonic()
    with pytest.raises(RegistryError, match="come back in an hour"):
        client.list_services()
    assert time.monotonic() - started < 2.0
    assert fake.hits() == 2


def test_read_timeout_is_a_registry_error_within_the_budget(fake: FakeRegistry, client: CatalogueClient) -> None:
    fake.script(PATH, Reply(body=b"{}", delay=3.0))
    started = time.monotonic()
    with pytest.raises(RegistryError, match="did not answer in time") as caught:
        client.list_services()
    elapsed = time.monotonic() - started
    assert caught.value.status is None
    assert fake.hits() == 3  # a timed-out GET is retried like any other idempotent failure
    assert 1.5 <= elapsed < client.worst_case_seconds


def test_connection_refused_is_a_registry_error() -> None:
    started = time.monotonic()
    with (
        CatalogueClient(f"http://127.0.0.1:{free_port()}", timeout=FAST) as client,
        pytest.raises(RegistryError, match="cannot reach") as caught,
    ):
        client.list_services()
    assert caught.value.status is None
    assert time.monotonic() - started < 3.0


def test_worst_case_time_stays_under_the_worker_timeout() -> None:
    with RegistryClient("http://127.0.0.1:1") as client:
        connect, read = client.timeout
        # The rule of thumb (retries x read timeout + backoff) and the client's own worst case: every attempt
        # timing out at connect and at read, with the longest backoff or capped Retry-After between attempts.
        assert client.retries * read + client.retries * BACKOFF_MAX < WORKER_TIMEOUT_SECONDS
        assert client.worst_case_seconds >= (client.retries + 1) * (connect + read)
        assert client.worst_case_seconds < WORKER_TIMEOUT_SECONDS
    with pytest.raises(ValueError, match="worker timeout"):
        RegistryClient("http://127.0.0.1:1", timeout=(5.0, 10.0), retries=2)


# Answers that are not what they should be --------------------------------------------------------------------------


def test_truncated_body_is_a_registry_error(fake: FakeRegistry, client: CatalogueClient) -> None:
    fake.script(PATH, Reply(body=b'{"items": [{"id": "pa', declared_length=500))
    with pytest.raises(RegistryError):
        client.list_services()


def test_malformed_json_is_a_registry_error_and_not_kept(fake: FakeRegistry, client: CatalogueClient) -> None:
    fake.script(PATH, Reply(body=b'{"items": [{"id": "pa', headers={"Cache-Control": PUBLIC, "ETag": '"x"'}), ok(PAGE))
    with pytest.raises(RegistryError, match="malformed JSON") as caught:
        client.list_services()
    assert caught.value.status == 200
    assert client.list_services() == PAGE  # the broken body was not cached
    assert fake.hits() == 2


def test_answer_that_is_not_json_is_a_registry_error(fake: FakeRegistry, client: CatalogueClient) -> None:
    fake.script(PATH, Reply(body=b"<html>proxy error</html>", content_type="text/html"))
    with pytest.raises(RegistryError, match="malformed JSON"):
        client.list_services()


def test_json_that_is_not_an_object_is_a_registry_error(fake: FakeRegistry, client: CatalogueClient) -> None:
    fake.script(PATH, ok(["not", "an", "object"]))
    with pytest.raises(RegistryError, match="expected a JSON object"):
        client.list_services()


@pytest.mark.parametrize("status", [404, 410])
def test_not_found_problem_is_registry_not_found_with_its_detail(
    fake: FakeRegistry, client: CatalogueClient, status: int
) -> None:
    fake.script("/api/v1/services/nav-tada", problem(status, "There is no service 'nav-tada'."))
    with pytest.raises(RegistryNotFound) as caught:
        client.get_service("nav-tada")
    assert caught.value.status == status
    assert caught.value.detail == "There is no service 'nav-tada'."


def test_problem_detail_is_cleaned_for_logs(fake: FakeRegistry, client: CatalogueClient) -> None:
    fake.script(PATH, problem(400, "bad\r\nX-Injected: 1 " + "x" * 1000))
    with pytest.raises(RegistryError) as caught:
        client.list_services()
    assert "\n" not in caught.value.detail and "\r" not in caught.value.detail
    assert len(caught.value.detail) <= 300


def test_redirect_is_not_followed(fake: FakeRegistry, client: CatalogueClient) -> None:
    fake.script(PATH, Reply(302, b"", {"Location": "http://127.0.0.1:1/elsewhere"}, content_type=""))
    with pytest.raises(RegistryError) as caught:
        client.list_services()
    assert caught.value.status == 302
    assert [seen.path for seen in fake.seen] == [PATH]


# What is sent ------------------------------------------------------------------------------------------------------


def test_none_filters_are_dropped_and_json_is_asked_for(fake: FakeRegistry, client: CatalogueClient) -> None:
    fake.script(PATH, ok(PAGE))
    client.list_services(q="pase", level=4, audience=None)
    assert fake.seen[0].query == {"q": "pase", "level": "4", "page": "1", "per_page": "20"}
    assert fake.seen[0].headers["Accept"] == "application/json"


def test_catalogue_methods_ask_for_their_paths(fake: FakeRegistry, client: CatalogueClient) -> None:
    for path in ("services/pase", "institutions", "institutions/pmlp", "life-events", "municipalities"):
        fake.script(f"/api/v1/{path}", ok({"path": path}))
    assert client.get_service("pase") == {"path": "services/pase"}
    assert client.list_institutions() == {"path": "institutions"}
    assert client.get_institution("pmlp") == {"path": "institutions/pmlp"}
    assert client.list_life_events() == {"path": "life-events"}
    assert client.list_municipalities() == {"path": "municipalities"}


def test_request_id_comes_from_the_context(fake: FakeRegistry, client: CatalogueClient) -> None:
    fake.script(PATH, ok(PAGE, cache_control="no-store"))
    token = request_id.set("portal-req-42")
    try:
        client.list_services()
    finally:
        request_id.reset(token)
    client.list_services()
    unsafe = request_id.set("evil\r\nX-Injected: 1")
    try:
        client.list_services()
    finally:
        request_id.reset(unsafe)
    sent = [seen.headers["X-Request-Id"] for seen in fake.seen]
    assert sent[0] == "portal-req-42"
    assert len(sent[1]) == 32 and int(sent[1], 16) >= 0  # a fresh uuid4 hex
    assert len(sent[2]) == 32 and "evil" not in sent[2]
    assert "X-Injected" not in fake.seen[2].headers


BAD_IDS = ["", "a", "../etc", "pase/../../admin", "Pase", "pase ", "pase\n", "-pase", "pase--x", "%2e%2e", "a" * 81]


@pytest.mark.parametrize("bad_id", BAD_IDS)
@pytest.mark.parametrize("method", ["get_service", "get_institution"])
def test_bad_ids_never_reach_the_network(fake: FakeRegistry, client: CatalogueClient, method: str, bad_id: str) -> None:
    with pytest.raises(RegistryNotFound):
        getattr(client, method)(bad_id)
    assert fake.seen == []


@pytest.mark.parametrize(
    "path",
    ["/api/v1/services", "http://evil.example/x", "//evil.example/x", "../x", "api/../../x", "api/v1?x=1", "a\\b"],
)
def test_paths_outside_the_base_url_are_refused(fake: FakeRegistry, client: CatalogueClient, path: str) -> None:
    with pytest.raises(ValueError, match="relative"):
        client.get_json(path)
    assert fake.seen == []


@pytest.mark.parametrize(
    "base_url", ["ftp://127.0.0.1", "127.0.0.1:5001", "http://127.0.0.1:5001/?x=1", "http://user:pw@127.0.0.1"]
)
def test_base_url_must_be_a_plain_http_url(base_url: str) -> None:
    with pytest.raises(ValueError):
        RegistryClient(base_url)


def test_catalogue_client_wants_the_registry_root_not_the_api_root() -> None:
    with pytest.raises(ValueError, match="root URL"):
        CatalogueClient("http://127.0.0.1:5001/api/v1/")
