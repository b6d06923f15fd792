"""The applications client against a real registry: drafts, submitting exactly once, withdrawal, who sees what."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from app.registry_client import (
    ApplicationsClient,
    RegistryConflict,
    RegistryForbidden,
    RegistryNotFound,
    RegistryUnauthorized,
    RegistryValidationError,
)
from identity import sign_identity
from registry.config import TestConfig
from tests.fixtures.registry_server import RegistryProcess, free_port

pytestmark = pytest.mark.integration

SECRET = TestConfig.IDENTITY_SECRET
SERVICE = "e-adreses-izveide"  # residents and businesses; one page, three questions and a declaration
BUSINESS_ONLY = "komersanta-registracija"
ANSWERS = {"notification_email": "anna@example.lv", "notification_channels": ["email"], "declaration": True}


def person() -> dict[str, Any]:
    """A person nobody else uses (new-format personal code), so lists hold only what this test made."""
    number = uuid.uuid4().int % 10**9
    return {
        "sub": f"32{number // 10**5:04d}-{number % 10**5:05d}",
        "name": f"Persona {number}",
        "kind": "person",
        "company": None,
        "company_name": None,
        "acr": "high",  # e-address needs an eID card or eParaksts
    }


def token(claims: dict[str, Any]) -> str:
    """Sign `claims` the way the portal does."""
    return sign_identity(SECRET, claims)


@pytest.fixture
def client(applications_registry: RegistryProcess) -> Iterator[ApplicationsClient]:
    with ApplicationsClient(applications_registry.url) as client:
        yield client


def test_the_whole_cycle(client: ApplicationsClient) -> None:
    me = token(person())
    draft = client.create_draft(me, SERVICE)
    assert draft["service"] == SERVICE and draft["form"] == "application" and draft["answers"] == {}

    saved = client.save_draft(me, draft["id"], {**ANSWERS, "favourite_colour": "green"}, "notifications")
    assert saved["answers"] == ANSWERS  # unknown answers are dropped
    assert saved["current_page"] == "notifications"
    assert client.get_draft(me, draft["id"]) == saved
    listed = client.list_drafts(me)
    assert [d["id"] for d in listed["items"]] == [draft["id"]] and listed["total"] == 1

    key = str(uuid.uuid4())
    created = client.submit(me, draft_id=draft["id"], idempotency_key=key)
    assert created["status"] == "submitted" and created["reference"].startswith("PT-")
    assert created["answers"] == ANSWERS
    # A retry after a lost answer (the same key and draft) gets the same application, not a second one.
    assert client.submit(me, draft_id=draft["id"], idempotency_key=key) == created
    with pytest.raises(RegistryNotFound):
        client.get_draft(me, draft["id"])  # submitting consumed the draft
    assert client.list_drafts(me)["total"] == 0

    applications = client.list_applications(me)
    assert [a["id"] for a in applications["items"]] == [created["id"]]
    assert applications["items"][0]["status"] == "submitted"
    detail = client.get_application(me, created["id"])
    assert detail["reference"] == created["reference"]
    assert [event["status"] for event in detail["timeline"]] == ["submitted"]

    withdrawn = client.withdraw(me, created["id"])
    assert withdrawn["status"] == "withdrawn"
    assert [event["status"] for event in withdrawn["timeline"]] == ["submitted", "withdrawn"]
    assert client.get_application(me, created["id"])["status"] == "withdrawn"
    with pytest.raises(RegistryConflict) as caught:
        client.withdraw(me, created["id"])
    assert caught.value.status == 409


def test_a_draft_can_be_deleted(client: ApplicationsClient) -> None:
    me = token(person())
    draft = client.create_draft(me, SERVICE)
    assert client.delete_draft(me, draft["id"]) is None
    with pytest.raises(RegistryNotFound):
        client.get_draft(me, draft["id"])
    with pytest.raises(RegistryNotFound):
        client.delete_draft(me, draft["id"])


def test_another_person_gets_not_found(client: ApplicationsClient) -> None:
    owner, intruder = token(person()), token(person())
    draft = client.create_draft(owner, SERVICE)
    kept = client.create_draft(owner, SERVICE)
    client.save_draft(owner, draft["id"], ANSWERS)
    application = client.submit(owner, draft_id=draft["id"], idempotency_key=str(uuid.uuid4()))

    for call in (
        lambda: client.get_draft(intruder, kept["id"]),
        lambda: client.save_draft(intruder, kept["id"], ANSWERS),
        lambda: client.delete_draft(intruder, kept["id"]),
        lambda: client.submit(intruder, draft_id=kept["id"], idempotency_key=str(uuid.uuid4())),
        lambda: client.get_application(intruder, application["id"]),
        lambda: client.withdraw(intruder, application["id"]),
    ):
        with pytest.raises(RegistryNotFound) as caught:
            call()
        assert caught.value.status == 404
    assert client.list_drafts(intruder)["total"] == 0
    assert client.list_applications(intruder)["total"] == 0
    # Nothing the intruder did touched the owner's data.
    assert client.get_draft(owner, kept["id"])["answers"] == {}
    assert client.get_application(owner, application["id"])["status"] == "submitted"


def _expired(claims: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> str:
    real = time.time
    with monkeypatch.context() as patched:
        patched.setattr(time, "time", lambda: real() - 301)  # the registry accepts tokens for 300 s
        return token(claims)


def test_a_token_the_registry_does_not_accept_is_unauthorized(
    client: ApplicationsClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    claims = person()
    for bad in (
        "not.a.token",
        sign_identity("another-secret", claims),  # signed, but not by the portal the registry trusts
        _expired(claims, monkeypatch),
    ):
        with pytest.raises(RegistryUnauthorized) as caught:
            client.list_drafts(bad)
        assert caught.value.status == 401
        assert bad not in str(caught.value)
        with pytest.raises(RegistryUnauthorized):
            client.create_draft(bad, SERVICE)


def test_an_unusable_token_is_refused_before_the_network() -> None:
    with ApplicationsClient(f"http://127.0.0.1:{free_port()}") as offline:
        for bad in ("", "two words", "a" * 4097, "line\r\nX-Injected: 1"):
            with pytest.raises(RegistryUnauthorized) as caught:
                offline.list_drafts(bad)
            assert caught.value.status is None  # decided here: nothing was sent


def test_a_service_for_another_audience_is_forbidden(client: ApplicationsClient) -> None:
    with pytest.raises(RegistryForbidden) as caught:
        client.create_draft(token(person()), BUSINESS_ONLY)
    assert caught.value.status == 403


def test_invalid_answers_are_a_validation_error_with_pointers(client: ApplicationsClient) -> None:
    me = token(person())
    draft = client.create_draft(me, SERVICE)
    with pytest.raises(RegistryValidationError) as page:
        client.save_draft(me, draft["id"], ANSWERS, "no-such-page")
    assert page.value.errors == [{"pointer": "#/current_page", "detail": "unknown"}]

    # A draft may be incomplete or wrong; submitting it may not.
    client.save_draft(me, draft["id"], {"notification_email": "not an address", "notification_channels": []})
    key = str(uuid.uuid4())
    with pytest.raises(RegistryValidationError) as caught:
        client.submit(me, draft_id=draft["id"], idempotency_key=key)
    assert caught.value.status == 422
    problems = {error["pointer"]: error["detail"] for error in caught.value.errors}
    assert set(problems) >= {"#/answers/notification_email", "#/answers/notification_channels", "#/answers/declaration"}
    assert all(isinstance(detail, str) and detail for detail in problems.values())

    # The refusal released the key: the corrected draft goes in with it.
    client.save_draft(me, draft["id"], ANSWERS)
    assert client.submit(me, draft_id=draft["id"], idempotency_key=key)["status"] == "submitted"


@pytest.mark.parametrize(
    ("method", "bad_id"),
    [
        ("get_draft", "not-an-id"),
        ("get_draft", "A" * 32),
        ("delete_draft", "a" * 33),
        ("get_application", "../../services"),
        ("withdraw", "a" * 31),
        ("get_application", None),
    ],
)
def test_bad_ids_never_reach_the_network(method: str, bad_id: Any) -> None:
    # Nothing listens on this port: reaching the network would be a RegistryError, not RegistryNotFound.
    with ApplicationsClient(f"http://127.0.0.1:{free_port()}") as offline:
        with pytest.raises(RegistryNotFound) as caught:
            getattr(offline, method)(token(person()), bad_id)
        assert caught.value.status is None
        with pytest.raises(RegistryNotFound):
            offline.create_draft(token(person()), "Not A Slug")
        with pytest.raises(RegistryNotFound):
            offline.submit(token(person()), draft_id="../x", idempotency_key="k")
        with pytest.raises(RegistryNotFound):
            offline.get_form(SERVICE, version=0)


def test_get_form_returns_the_definition_and_schema(client: ApplicationsClient) -> None:
    newest = client.get_form(SERVICE)
    assert newest["service"] == SERVICE and newest["form"] == "application"
    assert newest["definition"]["pages"][0]["id"] == "notifications"
    assert newest["answers_schema"]["type"] == "object"
    assert client.get_form(SERVICE, "application", version=newest["version"]) == newest
    assert client.get_form(SERVICE, version=1)["version"] == 1
    with pytest.raises(RegistryNotFound):
        client.get_form(SERVICE, version=999)
    with pytest.raises(RegistryNotFound):
        client.get_form(SERVICE, "decision")
