"""Idempotency-Key on submissions: replays, scoping, refused keys, concurrent duplicates, claims in flight."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from sqlalchemy import text

from forms.model import FormDefinition
from registry.models.idempotency import fingerprint
from tests.fixtures.applications import (
    fresh_person,
    key,
    start_draft,
    submission,
    submit,
    who,
)

pytestmark = pytest.mark.integration


def test_a_replay_returns_the_stored_response(
    applications_api: str, residence_form: tuple[int, FormDefinition]
) -> None:
    person = fresh_person()
    body = submission(applications_api, residence_form, person)
    headers = key()
    first = submit(applications_api, person, body, **headers)
    assert first.status_code == 201
    # The same body with keys in another order is the same request (canonical JSON fingerprint).
    replay = submit(applications_api, person, dict(reversed(list(body.items()))), **headers)
    assert replay.status_code == 201
    assert replay.json() == first.json() and replay.headers["Location"] == first.headers["Location"]
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert requests.get(f"{applications_api}/me/applications", headers=who(person), timeout=10).json()["total"] == 1

    changed = submit(
        applications_api,
        person,
        submission(applications_api, residence_form, person, contact_email="cits@example.lv"),
        **headers,
    )
    assert changed.status_code == 422 and "different" in changed.json()["detail"]
    assert requests.get(f"{applications_api}/me/applications", headers=who(person), timeout=10).json()["total"] == 1


def test_a_draft_submission_replays_after_the_draft_is_gone(
    applications_api: str, residence_form: tuple[int, FormDefinition]
) -> None:
    person = fresh_person()
    draft = start_draft(applications_api, person).json()
    answers = submission(applications_api, residence_form, person)["answers"]
    requests.put(
        f"{applications_api}/me/drafts/{draft['id']}", json={"answers": answers}, headers=who(person), timeout=10
    )
    headers = key()
    first = submit(applications_api, person, {"draft_id": draft["id"]}, **headers)
    replay = submit(applications_api, person, {"draft_id": draft["id"]}, **headers)
    assert first.status_code == replay.status_code == 201 and first.json() == replay.json()


def test_keys_are_scoped_to_the_principal(applications_api: str, residence_form: tuple[int, FormDefinition]) -> None:
    one, two = fresh_person(), fresh_person()
    headers = key()
    first = submit(applications_api, one, submission(applications_api, residence_form, one), **headers)
    other = submit(applications_api, two, submission(applications_api, residence_form, two), **headers)
    assert first.status_code == other.status_code == 201
    assert first.json()["id"] != other.json()["id"]


def test_the_key_is_required_and_bounded(applications_api: str, residence_form: tuple[int, FormDefinition]) -> None:
    person = fresh_person()
    body = submission(applications_api, residence_form, person)
    missing = requests.post(f"{applications_api}/applications", json=body, headers=who(person), timeout=10)
    assert missing.status_code == 400 and "Idempotency-Key" in missing.json()["detail"]
    for bad in ("x" * 201, "", "clé", '""'):
        assert submit(applications_api, person, body, **{"Idempotency-Key": bad}).status_code == 400, bad
    assert submit(applications_api, person, body, **{"Idempotency-Key": "k" * 200}).status_code == 201
    quoted = submit(applications_api, person, body, **{"Idempotency-Key": '"sf-string-key"'})  # RFC 8941 string form
    assert quoted.status_code == 201
    assert requests.get(f"{applications_api}/me/applications", headers=who(person), timeout=10).json()["total"] == 2


def test_a_refused_request_does_not_use_up_its_key(
    applications_api: str, residence_form: tuple[int, FormDefinition]
) -> None:
    person = fresh_person()
    headers = key()
    invalid = submission(applications_api, residence_form, person, contact_email="not an address")
    assert submit(applications_api, person, invalid, **headers).status_code == 422
    corrected = submit(applications_api, person, submission(applications_api, residence_form, person), **headers)
    assert corrected.status_code == 201


def test_concurrent_duplicates_make_one_application(
    applications_api: str, residence_form: tuple[int, FormDefinition]
) -> None:
    person = fresh_person()
    body = submission(applications_api, residence_form, person)
    headers = who(person, **key())
    start = threading.Barrier(10)
    responses: list[requests.Response] = []
    lock = threading.Lock()

    def post() -> None:
        start.wait()
        response = requests.post(f"{applications_api}/applications", json=body, headers=headers, timeout=30)
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=post) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(responses) == 10
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, [r.text for r in responses]
    created = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created) == 1
    listed = requests.get(f"{applications_api}/me/applications", headers=who(person), timeout=10).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] in created
    assert all(r.headers["Content-Type"] == "application/problem+json" for r in responses if r.status_code == 409)
    again = requests.post(f"{applications_api}/applications", json=body, headers=headers, timeout=10)
    assert again.status_code == 201 and again.json()["id"] in created


def test_concurrent_submissions_of_different_people_get_distinct_references(
    applications_api: str, residence_form: tuple[int, FormDefinition]
) -> None:
    people = [fresh_person() for _ in range(6)]
    start = threading.Barrier(len(people))
    references: list[str] = []
    lock = threading.Lock()

    def post(person: dict[str, Any]) -> None:
        body = submission(applications_api, residence_form, person)
        start.wait()
        response = submit(applications_api, person, body)
        assert response.status_code == 201, response.text
        with lock:
            references.append(response.json()["reference"])

    threads = [threading.Thread(target=post, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(references)) == len(people)


def _hold(applications_database: Any, principal: str, idempotency_key: str, body: Any, claimed_at: datetime) -> None:
    """Store a claim as a request that is still running (or whose worker died) would have left it."""
    with applications_database.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO idempotency_keys (principal, key, fingerprint, state, claim, claimed_at, created_at) "
                "VALUES (:principal, :key, :fingerprint, 'in_flight', :claim, :at, :at)"
            ),
            {
                "principal": principal,
                "key": idempotency_key,
                "fingerprint": fingerprint(body),
                "claim": uuid.uuid4().hex,
                "at": claimed_at.replace(tzinfo=None),
            },
        )


def test_a_request_in_flight_gets_409_and_a_dead_one_is_taken_over(
    applications_api: str, residence_form: tuple[int, FormDefinition], applications_database: Any
) -> None:
    person = fresh_person()
    body = submission(applications_api, residence_form, person)
    running, dead = key(), key()
    _hold(applications_database, person["sub"], running["Idempotency-Key"], body, datetime.now(UTC))
    busy = submit(applications_api, person, body, **running)
    assert busy.status_code == 409 and busy.headers["Retry-After"]
    other_body = submission(applications_api, residence_form, person, contact_email="cits@example.lv")
    # Another body is refused even now.
    assert submit(applications_api, person, other_body, **running).status_code == 422

    # A claim older than the lease belongs to a worker that died without storing anything: the retry proceeds.
    _hold(applications_database, person["sub"], dead["Idempotency-Key"], body, datetime.now(UTC) - timedelta(minutes=5))
    taken_over = submit(applications_api, person, body, **dead)
    assert taken_over.status_code == 201, taken_over.text
    assert submit(applications_api, person, body, **dead).json() == taken_over.json()
    assert requests.get(f"{applications_api}/me/applications", headers=who(person), timeout=10).json()["total"] == 1
