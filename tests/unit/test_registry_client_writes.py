"""Writes and personal reads of the registry client: what is retried, what is sent once, and what errors mean."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from werkzeug.wrappers import Request

from app.registry_client import (
    ApplicationsClient,
    RegistryConflict,
    RegistryError,
    RegistryForbidden,
    RegistryNotFound,
    RegistryUnauthorized,
    RegistryValidationError,
)
from app.registry_client.base import WORKER_TIMEOUT_SECONDS
from tests.fixtures.fake_registry import FAST, FakeRegistry, Reply, ok, problem

TOKEN = "eyJzdWIiOiIzMjAwMDAtMDAwMDEifQ.signed-identity-token"
DRAFT_ID = "0123456789abcdef0123456789abcdef"
APPLICATION_ID = "fedcba9876543210fedcba9876543210"
DRAFTS = "/api/v1/me/drafts"
DRAFT = f"/api/v1/me/drafts/{DRAFT_ID}"
APPLICATIONS = "/api/v1/applications"
WITHDRAW = f"/api/v1/me/applications/{APPLICATION_ID}/withdraw"
KEY = "3f1c9a52-5a8e-4f43-9d1e-0c7b2b6f4e11"
SECRET_ANSWER = "anna.berzina@example.lv"  # personal data: must never reach a log
APPLICATION = {"id": APPLICATION_ID, "reference": "PT-2026-000001", "status": "submitted", "answers": {}}


@dataclass(frozen=True)
class Sent:
    """A request as the fake registry received it, with its method and body."""

    method: str
    body: bytes
    headers: dict[str, str]


def recording(log: list[Sent], reply: Reply) -> Callable[[Request], Reply]:
    """Return a handler that notes the request (method, body, headers) and answers `reply`."""

    def handle(request: Request) -> Reply:
        log.append(Sent(request.method, request.get_data(), dict(request.headers)))
        return reply

    return handle


def private(status: int, data: object, **headers: str) -> Reply:
    """Return a personal JSON answer, as the registry sends it (no-store, no ETag)."""
    return Reply(status, json.dumps(data).encode(), {"Cache-Control": "no-store", **headers})


def in_flight(retry_after: str = "1") -> Reply:
    """Return the registry's 409 to a key whose first request is still being processed."""
    reply = problem(409, "A request with this Idempotency-Key is still being processed; retry shortly.")
    reply.headers["Retry-After"] = retry_after
    return reply


@pytest.fixture
def make_client(fake_registry: FakeRegistry) -> Iterator[Callable[..., ApplicationsClient]]:
    """Build applications clients of the fake registry with short timeouts; close them afterwards."""
    clients: list[ApplicationsClient] = []

    def build(**options: Any) -> ApplicationsClient:
        client = ApplicationsClient(
            fake_registry.url, **{"timeout": FAST, "retries": 2, "max_retry_after": 1.0, **options}
        )
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., ApplicationsClient]) -> ApplicationsClient:
    return make_client()


# POST without an Idempotency-Key: exactly once -----------------------------------------------------------------


def test_post_without_a_key_is_sent_once_even_on_503(fake_registry: FakeRegistry, client: ApplicationsClient) -> None:
    fake_registry.script(DRAFTS, problem(503, "busy"), private(201, {"id": DRAFT_ID}))
    with pytest.raises(RegistryError) as caught:
        client.create_draft(TOKEN, "e-adreses-izveide")
    assert caught.value.status == 503
    assert fake_registry.hits(DRAFTS) == 1


def test_post_without_a_key_is_sent_once_after_a_timeout(
    fake_registry: FakeRegistry, client: ApplicationsClient
) -> None:
    fake_registry.script(DRAFTS, Reply(201, b"{}", delay=2.0))
    with pytest.raises(RegistryError, match="did not answer in time"):
        client.create_draft(TOKEN, "e-adreses-izveide")
    assert fake_registry.hits(DRAFTS) == 1  # it may have been stored: sending it again could make a second one


def test_post_without_a_key_is_sent_once_when_the_connection_breaks(
    fake_registry: FakeRegistry, client: ApplicationsClient
) -> None:
    # A Content-Length longer than the body: the connection closes mid-answer.
    fake_registry.script(WITHDRAW, Reply(200, b'{"id": "', declared_length=100))
    with pytest.raises(RegistryError):
        client.withdraw(TOKEN, APPLICATION_ID)
    assert fake_registry.hits(WITHDRAW) == 1


def test_withdraw_is_not_retried_and_its_409_is_a_conflict(
    fake_registry: FakeRegistry, client: ApplicationsClient
) -> None:
    fake_registry.script(WITHDRAW, problem(502, "bad gateway"), problem(409, "It is decided."))
    with pytest.raises(RegistryError) as gateway:
        client.withdraw(TOKEN, APPLICATION_ID)
    assert gateway.value.status == 502 and fake_registry.hits(WITHDRAW) == 1
    with pytest.raises(RegistryConflict, match="decided"):
        client.withdraw(TOKEN, APPLICATION_ID)
    assert fake_registry.hits(WITHDRAW) == 2


# POST with an Idempotency-Key: retried, and a request still in flight is waited out ------------------------------


def test_post_with_a_key_is_retried_on_503_and_succeeds(
    fake_registry: FakeRegistry, client: ApplicationsClient
) -> None:
    sent: list[Sent] = []
    fake_registry.script(
        APPLICATIONS,
        recording(sent, problem(503, "busy")),
        recording(sent, private(201, APPLICATION, Location=f"/api/v1/me/applications/{APPLICATION_ID}")),
    )
    assert client.submit(TOKEN, draft_id=DRAFT_ID, idempotency_key=KEY) == APPLICATION
    assert [s.method for s in sent] == ["POST", "POST"]
    # The retry is the same request: same key, same body, same request id (so the registry's logs join up).
    assert {s.headers["Idempotency-Key"] for s in sent} == {KEY}
    assert {s.body for s in sent} == {json.dumps({"draft_id": DRAFT_ID}, separators=(",", ":")).encode()}
    assert len({s.headers["X-Request-Id"] for s in sent}) == 1
    assert sent[0].headers["Content-Type"] == "application/json"
    assert sent[0].headers["X-Portal-Identity"] == TOKEN


def test_post_with_a_key_is_retried_after_a_timeout(fake_registry: FakeRegistry, client: ApplicationsClient) -> None:
    fake_registry.script(APPLICATIONS, Reply(201, b"{}", delay=2.0), private(201, APPLICATION))
    assert client.submit(TOKEN, draft_id=DRAFT_ID, idempotency_key=KEY) == APPLICATION
    assert fake_registry.hits(APPLICATIONS) == 2


def test_post_with_a_key_waits_out_a_request_in_flight(fake_registry: FakeRegistry, client: ApplicationsClient) -> None:
    fake_registry.script(APPLICATIONS, problem(504, "gateway timeout"), in_flight("1"), private(201, APPLICATION))
    started = time.monotonic()
    assert client.submit(TOKEN, draft_id=DRAFT_ID, idempotency_key=KEY) == APPLICATION
    assert fake_registry.hits(APPLICATIONS) == 3
    assert time.monotonic() - started >= 1.0  # Retry-After was honoured


def test_a_request_in_flight_is_waited_out_within_the_budget(
    fake_registry: FakeRegistry, make_client: Callable[..., ApplicationsClient]
) -> None:
    client = make_client(timeout=(0.5, 0.5), retries=1, max_retry_after=0.3)
    fake_registry.script(APPLICATIONS, in_flight("0"))  # a Retry-After of 0 must not make the client spin
    started = time.monotonic()
    with pytest.raises(RegistryConflict) as caught:
        client.submit(TOKEN, draft_id=DRAFT_ID, idempotency_key=KEY)
    elapsed = time.monotonic() - started
    assert caught.value.status == 409
    assert elapsed < client.worst_case_seconds
    assert 2 <= fake_registry.hits(APPLICATIONS) <= int(client.worst_case_seconds / 0.2) + 1


def test_a_409_that_is_not_in_flight_is_not_retried(fake_registry: FakeRegistry, client: ApplicationsClient) -> None:
    fake_registry.script(APPLICATIONS, problem(409, "conflict"), private(201, APPLICATION))
    with pytest.raises(RegistryConflict):
        client.submit(TOKEN, draft_id=DRAFT_ID, idempotency_key=KEY)
    assert fake_registry.hits(APPLICATIONS) == 1


def test_keyed_post_retries_are_bounded(fake_registry: FakeRegistry, client: ApplicationsClient) -> None:
    fake_registry.script(APPLICATIONS, problem(503, "busy"))
    with pytest.raises(RegistryError) as caught:
        client.submit(TOKEN, draft_id=DRAFT_ID, idempotency_key=KEY)
    assert caught.value.status == 503
    assert fake_registry.hits(APPLICATIONS) == 3  # the first attempt and two retries


# PUT, DELETE and personal GETs: idempotent, retried like a GET, never cached ----------------------------------------


def test_put_is_retried_on_503_and_succeeds(fake_registry: FakeRegistry, client: ApplicationsClient) -> None:
    sent: list[Sent] = []
    stored = {"id": DRAFT_ID, "answers": {"notification_email": SECRET_ANSWER}, "current_page": "notifications"}
    fake_registry.script(DRAFT, recording(sent, problem(503, "busy")), recording(sent, private(200, stored)))
    assert client.save_draft(TOKEN, DRAFT_ID, {"notification_email": SECRET_ANSWER}, "notifications") == stored
    assert [s.method for s in sent] == ["PUT", "PUT"]
    assert json.loads(sent[1].body) == {
        "answers": {"notification_email": SECRET_ANSWER},
        "current_page": "notifications",
    }


def test_put_timeouts_are_retried_within_the_budget(fake_registry: FakeRegistry, client: ApplicationsClient) -> None:
    fake_registry.script(DRAFT, Reply(body=b"{}", delay=3.0))
    started = time.monotonic()
    with pytest.raises(RegistryError, match="did not answer in time") as caught:
        client.save_draft(TOKEN, DRAFT_ID, {})
    elapsed = time.monotonic() - started
    assert caught.value.status is None
    assert fake_registry.hits(DRAFT) == 3
    assert 1.5 <= elapsed < client.worst_case_seconds < WORKER_TIMEOUT_SECONDS


def test_put_honours_a_capped_retry_after(
    fake_registry: FakeRegistry, make_client: Callable[..., ApplicationsClient]
) -> None:
    client = make_client(retries=1, max_retry_after=0.5)
    busy = problem(503, "come back in an hour")
    busy.headers["Retry-After"] = "3600"
    fake_registry.script(DRAFT, busy, private(200, {"id": DRAFT_ID}))
    started = time.monotonic()
    assert client.save_draft(TOKEN, DRAFT_ID, {}) == {"id": DRAFT_ID}
    assert 0.5 <= time.monotonic() - started < 2.0


def test_delete_is_retried_on_502_and_answers_nothing(fake_registry: FakeRegistry, client: ApplicationsClient) -> None:
    sent: list[Sent] = []
    fake_registry.script(
        DRAFT,
        recording(sent, problem(502, "bad gateway")),
        recording(sent, Reply(204, b"", {"Cache-Control": "no-store"}, content_type="")),
    )
    assert client.delete_draft(TOKEN, DRAFT_ID) is None
    assert [s.method for s in sent] == ["DELETE", "DELETE"]


def test_personal_reads_are_retried_and_never_cached(fake_registry: FakeRegistry, client: ApplicationsClient) -> None:
    page = {"items": [], "total": 0, "page": 1, "per_page": 20}
    fake_registry.script(DRAFTS, problem(503, "busy"), ok(page))  # even an answer that says "cache me" is not kept
    assert client.list_drafts(TOKEN) == page
    assert client.list_drafts(TOKEN) == page
    assert fake_registry.hits(DRAFTS) == 3
    seen = fake_registry.seen[-1]
    assert seen.headers["X-Portal-Identity"] == TOKEN and "Authorization" not in seen.headers
    assert seen.query == {"page": "1", "per_page": "20"}


def test_get_json_with_a_token_is_still_retried(fake_registry: FakeRegistry, client: ApplicationsClient) -> None:
    path = "/api/v1/services/draft"
    fake_registry.script(path, problem(503, "busy"), ok({"id": "draft"}))
    assert client.get_json("api/v1/services/draft", token="publisher") == {"id": "draft"}
    assert fake_registry.hits(path) == 2


# What errors mean ----------------------------------------------------------------------------------------------


def test_422_is_a_validation_error_with_the_errors(fake_registry: FakeRegistry, client: ApplicationsClient) -> None:
    errors = [
        {"pointer": "#/answers/notification_email", "detail": "email.invalid"},
        {"pointer": "#/answers/declaration", "detail": "required"},
    ]
    junk = ["not a problem", {"pointer": 5, "detail": "x"}, {"pointer": "#/answers"}]  # left out
    body = {
        "title": "Unprocessable Content",
        "status": 422,
        "detail": "The answers are not valid.",
        "errors": [*errors, *junk],
    }
    reply = Reply(422, json.dumps(body).encode(), {"Cache-Control": "no-store"}, "application/problem+json")
    fake_registry.script(APPLICATIONS, reply)
    with pytest.raises(RegistryValidationError) as caught:
        client.submit(TOKEN, draft_id=DRAFT_ID, idempotency_key=KEY)
    assert caught.value.status == 422
    assert caught.value.errors == errors
    assert caught.value.detail == "The answers are not valid."
    assert fake_registry.hits(APPLICATIONS) == 1  # a refusal is an answer: never retried


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, RegistryError),
        (401, RegistryUnauthorized),
        (403, RegistryForbidden),
        (404, RegistryNotFound),
        (409, RegistryConflict),
        (410, RegistryNotFound),
        (422, RegistryValidationError),
        (500, RegistryError),
    ],
)
def test_statuses_map_to_errors(
    fake_registry: FakeRegistry, client: ApplicationsClient, status: int, error: type[RegistryError]
) -> None:
    fake_registry.script(DRAFT, problem(status, "refused"))
    with pytest.raises(RegistryError) as caught:
        client.get_draft(TOKEN, DRAFT_ID)
    assert type(caught.value) is error
    assert caught.value.status == status and caught.value.detail == "refused"
    if isinstance(caught.value, RegistryValidationError):
        assert caught.value.errors == []


def test_redirect_is_not_followed(fake_registry: FakeRegistry, client: ApplicationsClient) -> None:
    fake_registry.script(DRAFTS, Reply(307, b"", {"Location": "http://127.0.0.1:1/elsewhere"}, content_type=""))
    with pytest.raises(RegistryError) as caught:
        client.create_draft(TOKEN, "e-adreses-izveide")
    assert caught.value.status == 307
    assert [seen.path for seen in fake_registry.seen] == [DRAFTS]


def test_a_success_that_is_not_json_is_a_registry_error(
    fake_registry: FakeRegistry, client: ApplicationsClient
) -> None:
    fake_registry.script(DRAFT, Reply(200, b"<html>proxy</html>", content_type="text/html"))
    with pytest.raises(RegistryError, match="malformed JSON"):
        client.get_draft(TOKEN, DRAFT_ID)
    fake_registry.script(DRAFT, private(200, ["not", "an", "object"]))
    with pytest.raises(RegistryError, match="expected a JSON object"):
        client.get_draft(TOKEN, DRAFT_ID)


# What is never sent, and never logged --------------------------------------------------------------------------


BAD_IDS = ["", "a" * 31, "a" * 33, "A" * 32, "../" + "a" * 29, DRAFT_ID + "/x", None, 5]


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_bad_ids_never_reach_the_network(fake_registry: FakeRegistry, client: ApplicationsClient, bad_id: Any) -> None:
    for call in (
        lambda: client.get_draft(TOKEN, bad_id),
        lambda: client.save_draft(TOKEN, bad_id, {}),
        lambda: client.delete_draft(TOKEN, bad_id),
        lambda: client.submit(TOKEN, draft_id=bad_id, idempotency_key=KEY),
        lambda: client.get_application(TOKEN, bad_id),
        lambda: client.withdraw(TOKEN, bad_id),
    ):
        with pytest.raises(RegistryNotFound):
            call()
    assert fake_registry.seen == []


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.create_draft(TOKEN, "../admin"),
        lambda c: c.create_draft(TOKEN, "e-adreses-izveide", "Application"),
        lambda c: c.get_form("e-adreses-izveide", "application", 0),
        lambda c: c.get_form("e-adreses-izveide", "application", True),
        lambda c: c.get_form("pase/../../x"),
    ],
)
def test_bad_slugs_and_versions_never_reach_the_network(
    fake_registry: FakeRegistry, client: ApplicationsClient, call: Callable[[ApplicationsClient], Any]
) -> None:
    with pytest.raises(RegistryNotFound):
        call(client)
    assert fake_registry.seen == []


@pytest.mark.parametrize("token", ["", "has space", "line\r\nX-Injected: 1", "a" * 4097, None])
def test_unusable_tokens_never_reach_the_network(
    fake_registry: FakeRegistry, client: ApplicationsClient, token: Any
) -> None:
    with pytest.raises(RegistryUnauthorized):
        client.list_drafts(token)
    assert fake_registry.seen == []


def test_send_json_refuses_what_it_cannot_send_safely(fake_registry: FakeRegistry, client: ApplicationsClient) -> None:
    with pytest.raises(ValueError, match="Idempotency-Key"):
        client.submit(TOKEN, draft_id=DRAFT_ID, idempotency_key="")
    with pytest.raises(ValueError, match="Idempotency-Key"):
        client.submit(TOKEN, draft_id=DRAFT_ID, idempotency_key="k" * 201)
    with pytest.raises(ValueError, match="Idempotency-Key"):
        client.send_json("PUT", "api/v1/me/drafts", body={}, idempotency_key=KEY)  # keys are for POSTs
    with pytest.raises(ValueError, match="sends"):
        client.send_json("PATCH", "api/v1/me/drafts")
    with pytest.raises(ValueError, match="stay under the base URL"):
        client.send_json("POST", "http://evil.example/x")
    assert fake_registry.seen == []


def test_form_is_cached_like_the_catalogue(fake_registry: FakeRegistry, client: ApplicationsClient) -> None:
    path = "/api/v1/services/e-adreses-izveide/forms/application/versions/1"
    form = {"service": "e-adreses-izveide", "form": "application", "version": 1, "definition": {}}
    fake_registry.script(path, ok(form))
    assert client.get_form("e-adreses-izveide", version=1) == form
    assert client.get_form("e-adreses-izveide", version=1) == form
    assert fake_registry.hits(path) == 1


def test_neither_the_token_nor_answers_are_logged(
    fake_registry: FakeRegistry, client: ApplicationsClient, caplog: pytest.LogCaptureFixture
) -> None:
    fake_registry.script(DRAFT, problem(503, "busy"), problem(503, "busy"), problem(503, "busy"))
    with caplog.at_level(logging.DEBUG), pytest.raises(RegistryError):
        client.save_draft(TOKEN, DRAFT_ID, {"notification_email": SECRET_ANSWER})
    assert "retrying" in caplog.text  # the retries are logged...
    assert TOKEN not in caplog.text and SECRET_ANSWER not in caplog.text  # ...without anything personal
