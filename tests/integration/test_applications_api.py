"""Apply online against a real registry: drafts, submissions, idempotency, withdrawal and who may see what."""

from __future__ import annotations

import copy
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from itsdangerous import URLSafeTimedSerializer
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import create_engine, text

from forms.conditions import visible_questions
from forms.loader import load_definition
from forms.model import FormDefinition, Question
from identity import SALT, sign_identity
from registry import create_app
from registry.api.openapi import build_openapi
from registry.config import TestConfig
from registry.models.idempotency import fingerprint
from tests.fixtures.registry_server import RegistryProcess

pytestmark = pytest.mark.integration

SECRET = TestConfig.IDENTITY_SECRET
RESIDENT_SERVICE = "dzivesvietas-deklaresana"  # residents only
BUSINESS_SERVICE = "komersanta-registracija"  # businesses only

ANNA = {
    "sub": "010190-12349",
    "name": "Anna Bērziņa",
    "kind": "person",
    "company": None,
    "company_name": None,
    "acr": "substantial",
}
BRUNO = {**ANNA, "sub": "150585-12343", "name": "Bruno Kalniņš"}
# Two representatives of one company and one of another.
REP = {
    "sub": "200275-12347",
    "name": "Roberts Ozols",
    "kind": "company_representative",
    "company": "40003245752",
    "company_name": "SIA Piemērs",
    "acr": "high",
}
REP_SAME_COMPANY = {**REP, "sub": "030303-12341", "name": "Rita Liepa"}
REP_OTHER_COMPANY = {**REP, "sub": "111111-11111", "company": "40103564678", "company_name": "SIA Cits"}
# Schemathesis acts as its own person, so whatever it creates never shows up in another test's lists.
FUZZER = {**ANNA, "sub": "320000-00001", "name": "Schemathesis"}


def who(claims: dict[str, Any], **headers: str) -> dict[str, str]:
    """Headers of a request by `claims`, signed the way the portal signs them."""
    return {"X-Portal-Identity": sign_identity(SECRET, claims), **headers}


def fresh_person() -> dict[str, Any]:
    """A person nobody else uses, so counts in one test are not disturbed by another."""
    number = uuid.uuid4().int % 10**9  # the nine free digits of a new-format code
    return {**ANNA, "sub": f"32{number // 10**5:04d}-{number % 10**5:05d}", "name": f"Persona {number}"}


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


@pytest.fixture(scope="module")
def base(applications_registry: RegistryProcess) -> str:
    return f"{applications_registry.url}/api/v1"


def form_of(base: str, service: str) -> tuple[int, FormDefinition]:
    body = requests.get(f"{base}/services/{service}/forms/application", timeout=10).json()
    return body["version"], load_definition(body["definition"])


# --- valid answers, built from the definition ------------------------------------------------------------------


def _value(question: Question, claims: dict[str, Any]) -> Any:
    """A valid answer to one question of any type."""
    prefilled = {
        "person.name": claims["name"],
        "person.personal_code": claims["sub"],
        "company.registration_number": claims.get("company"),
        "company.name": claims.get("company_name"),
    }
    if question.prefill in prefilled and prefilled[question.prefill] is not None:
        return prefilled[question.prefill]
    today = date.today()
    kind = question.type
    if kind in ("text", "long_text"):
        return "Pārbaude" + "x" * max(0, (question.min_length or 0) - 8)
    if kind == "number":
        return int(question.min if question.min is not None else 1)
    if kind == "money":
        return f"{question.min if question.min is not None else 10:.2f}"
    if kind == "date":
        return (today + timedelta(days=10) if question.not_in_past else today - timedelta(days=10)).isoformat()
    simple = {
        "email": "anna@example.lv",
        "phone": "+37121234567",
        "personal_code": "150585-12343",
        "company_number": "40003245752",
        "iban": "LV80BANK0000435195001",
        "postal_code": "LV-1050",
        "address": {"street": "Jēkaba iela 11-5", "city": "Rīga", "postal_code": "LV-1050"},
        "yes_no": False,
        "declaration": True,
    }
    if kind in simple:
        return copy.deepcopy(simple[kind])
    if kind == "file":
        extension = question.accept[0] if question.accept else "pdf"
        return {"file_id": uuid.uuid4().hex, "name": f"dokuments.{extension}", "size": 1000, "content_type": "x/y"}
    if kind == "single_choice":
        return question.options[0].value
    if kind == "multiple_choice":
        return [o.value for o in question.options[: max(1, question.min_items or 1)]]
    if kind == "group":
        item = {q.id: _value(q, claims) for q in question.questions if q.has_answer and (q.required or q.show_if)}
        return [item for _ in range(max(1, question.min_items or 1))]
    raise AssertionError(f"no value for {kind}")


def valid_answers(definition: FormDefinition, claims: dict[str, Any]) -> dict[str, Any]:
    """Answer every shown required question (and the declaration), as a person filling the form in would."""
    answers: dict[str, Any] = {}
    for _ in range(10):  # answering one question can show another: repeat until nothing changes
        missing = [
            q for q in visible_questions(definition, answers) if q.has_answer and q.required and q.id not in answers
        ]
        if not missing:
            break
        for question in missing:
            answers[question.id] = _value(question, claims)
    if definition.declaration is not None:
        answers["declaration"] = True
    return answers


@pytest.fixture(scope="module")
def residence(base: str) -> tuple[int, FormDefinition]:
    return form_of(base, RESIDENT_SERVICE)


def submission(
    base: str, residence: tuple[int, FormDefinition], claims: dict[str, Any], **changes: Any
) -> dict[str, Any]:
    version, definition = residence
    answers = valid_answers(definition, claims) | changes
    return {"service": RESIDENT_SERVICE, "form": "application", "form_version": version, "answers": answers}


def submit(base: str, claims: dict[str, Any], body: dict[str, Any], **headers: str) -> requests.Response:
    headers = key() | headers
    return requests.post(f"{base}/applications", json=body, headers=who(claims, **headers), timeout=20)


def start_draft(base: str, claims: dict[str, Any], service: str = RESIDENT_SERVICE) -> requests.Response:
    return requests.post(
        f"{base}/me/drafts", json={"service": service, "form": "application"}, headers=who(claims), timeout=10
    )


def errors_of(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    return {e["pointer"]: e["detail"] for e in response.json()["errors"]}


# --- identity --------------------------------------------------------------------------------------------------


def _expired_token() -> str:
    real = time.time
    try:
        time.time = lambda: real() - 301  # type: ignore[assignment]
        return sign_identity(SECRET, ANNA)
    finally:
        time.time = real  # type: ignore[assignment]


OPERATIONS = [
    ("get", "/me/drafts"),
    ("post", "/me/drafts"),
    ("get", "/me/drafts/" + "a" * 32),
    ("put", "/me/drafts/" + "a" * 32),
    ("delete", "/me/drafts/" + "a" * 32),
    ("post", "/applications"),
    ("get", "/me/applications"),
    ("get", "/me/applications/" + "a" * 32),
    ("post", "/me/applications/" + "a" * 32 + "/withdraw"),
]


@pytest.mark.parametrize(
    "token",
    [
        None,
        "garbage",
        "wrong-secret",
        "expired",
        "wrong-salt",
        "malformed-claims",
    ],
)
def test_without_a_valid_identity_everything_is_401(base: str, token: str | None) -> None:
    tokens = {
        None: None,
        "garbage": "not.a.token",
        "wrong-secret": sign_identity("dev-identity-secret-not-for-production", ANNA),
        "expired": _expired_token(),
        "wrong-salt": URLSafeTimedSerializer(SECRET, salt="other").dumps(ANNA),
        "malformed-claims": URLSafeTimedSerializer(SECRET, salt=SALT).dumps({**ANNA, "kind": "staff"}),
    }
    headers = {} if tokens[token] is None else {"X-Portal-Identity": str(tokens[token])}
    for method, path in OPERATIONS:
        response = requests.request(method, f"{base}{path}", json={}, headers=headers | key(), timeout=10)
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.headers["Cache-Control"] == "no-store"
        assert "PortalIdentity" in response.headers["WWW-Authenticate"]
        assert ANNA["sub"] not in response.text


# --- drafts ----------------------------------------------------------------------------------------------------


def test_draft_lifecycle(base: str, residence: tuple[int, FormDefinition]) -> None:
    version, definition = residence
    person = fresh_person()
    started = start_draft(base, person)
    assert started.status_code == 201, started.text
    draft = started.json()
    assert started.headers["Location"] == f"/api/v1/me/drafts/{draft['id']}"
    assert started.headers["Cache-Control"] == "no-store" and "ETag" not in started.headers
    assert draft["service"] == RESIDENT_SERVICE and draft["form_version"] == version
    assert draft["answers"] == {} and draft["current_page"] is None

    second = start_draft(base, person).json()
    listed = requests.get(f"{base}/me/drafts", headers=who(person), timeout=10)
    assert listed.headers["Cache-Control"] == "no-store"
    assert [d["id"] for d in listed.json()["items"]] == [second["id"], draft["id"]]  # newest first
    assert listed.json()["total"] == 2 and "answers" not in listed.json()["items"][0]

    # Incomplete answers are fine; unknown ones and answers to hidden questions are dropped.
    answers = {
        "applicant_name": person["name"],
        "legal_ground": "owner",
        "legal_ground_other": "hidden when the person owns the place",
        "favourite_colour": "green",
    }
    url = f"{base}/me/drafts/{draft['id']}"
    saved = requests.put(
        url, json={"answers": answers, "current_page": "legal-ground"}, headers=who(person), timeout=10
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["answers"] == {"applicant_name": person["name"], "legal_ground": "owner"}
    assert saved.json()["current_page"] == "legal-ground"
    again = requests.get(url, headers=who(person), timeout=10)
    assert again.json() == saved.json()
    assert [d["id"] for d in requests.get(f"{base}/me/drafts", headers=who(person), timeout=10).json()["items"]] == [
        draft["id"],
        second["id"],
    ]  # the one saved last comes first

    for body, pointer in (
        ({"answers": ["not", "an", "object"]}, "#/answers"),
        ({"answers": {}, "current_page": "no-such-page"}, "#/current_page"),
        ({"answers": {}, "status": "decided"}, "#/status"),
        ({}, "#/answers"),
    ):
        assert pointer in errors_of(requests.put(url, json=body, headers=who(person), timeout=10))
    assert (
        requests.put(url, data="{", headers=who(person, **{"Content-Type": "application/json"}), timeout=10).status_code
        == 400
    )

    deleted = requests.delete(url, headers=who(person), timeout=10)
    assert deleted.status_code == 204 and deleted.headers["Cache-Control"] == "no-store"
    assert requests.get(url, headers=who(person), timeout=10).status_code == 404
    assert requests.delete(url, headers=who(person), timeout=10).status_code == 404
    assert definition.pages  # the definition really was the one the draft refers to


def test_starting_a_draft_checks_service_form_and_audience(base: str) -> None:
    assert start_draft(base, ANNA, BUSINESS_SERVICE).status_code == 403  # residents cannot register a company
    assert start_draft(base, REP, RESIDENT_SERVICE).status_code == 403  # a company does not declare residence
    assert start_draft(base, REP, BUSINESS_SERVICE).status_code == 201
    assert start_draft(base, ANNA, "no-such-service").status_code == 404
    assert start_draft(base, ANNA, "mirsanas-fakta-registracija-valmiera").status_code == 404  # no form
    response = requests.post(
        f"{base}/me/drafts", json={"service": RESIDENT_SERVICE, "form": "decision"}, headers=who(ANNA), timeout=10
    )
    assert response.status_code == 404
    for body in ({"service": RESIDENT_SERVICE}, {"service": 5, "form": "application"}, {"x": 1}, []):
        response = requests.post(f"{base}/me/drafts", json=body, headers=who(ANNA), timeout=10)
        assert response.status_code == 422, body


# --- access matrix ---------------------------------------------------------------------------------------------


def test_nobody_reaches_another_principals_drafts(base: str) -> None:
    mine = start_draft(base, ANNA).json()
    url = f"{base}/me/drafts/{mine['id']}"
    for intruder in (BRUNO, REP):
        assert requests.get(url, headers=who(intruder), timeout=10).status_code == 404
        put = requests.put(url, json={"answers": {"applicant_name": "X"}}, headers=who(intruder), timeout=10)
        assert put.status_code == 404
        assert requests.delete(url, headers=who(intruder), timeout=10).status_code == 404
        listed = requests.get(f"{base}/me/drafts", headers=who(intruder), timeout=10).json()
        assert mine["id"] not in {d["id"] for d in listed["items"]}
        stolen = submit(base, intruder, {"draft_id": mine["id"]})
        assert stolen.status_code == 404
    assert requests.get(url, headers=who(ANNA), timeout=10).json()["answers"] == {}  # untouched


def test_company_drafts_belong_to_the_company(base: str) -> None:
    company_draft = start_draft(base, REP, BUSINESS_SERVICE).json()
    own_draft = start_draft(base, {**ANNA, "sub": REP["sub"], "name": REP["name"]}).json()  # the same person, privately
    url = f"{base}/me/drafts/{company_draft['id']}"
    assert requests.get(url, headers=who(REP_SAME_COMPANY), timeout=10).status_code == 200  # a colleague sees it
    assert requests.get(url, headers=who(REP_OTHER_COMPANY), timeout=10).status_code == 404
    assert requests.get(url, headers=who({**ANNA, "sub": REP["sub"]}), timeout=10).status_code == 404  # not privately
    as_company = {d["id"] for d in requests.get(f"{base}/me/drafts", headers=who(REP), timeout=10).json()["items"]}
    assert company_draft["id"] in as_company and own_draft["id"] not in as_company
    own_url = f"{base}/me/drafts/{own_draft['id']}"
    assert requests.get(own_url, headers=who(REP), timeout=10).status_code == 404


def test_nobody_reaches_another_principals_applications(base: str, residence: tuple[int, FormDefinition]) -> None:
    created = submit(base, ANNA, submission(base, residence, ANNA))
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    for intruder in (BRUNO, REP):
        detail = requests.get(f"{base}/me/applications/{application_id}", headers=who(intruder), timeout=10)
        assert detail.status_code == 404
        withdraw = requests.post(f"{base}/me/applications/{application_id}/withdraw", headers=who(intruder), timeout=10)
        assert withdraw.status_code == 404
        listed = requests.get(f"{base}/me/applications", headers=who(intruder), timeout=10).json()
        assert application_id not in {a["id"] for a in listed["items"]}
    mine = requests.get(f"{base}/me/applications/{application_id}", headers=who(ANNA), timeout=10).json()
    assert mine["status"] == "submitted"
    for malformed in ("not-an-id", "A" * 32, "a" * 33):
        assert requests.get(f"{base}/me/applications/{malformed}", headers=who(ANNA), timeout=10).status_code == 404


# --- submitting ------------------------------------------------------------------------------------------------


def test_valid_answers_are_submitted(base: str, residence: tuple[int, FormDefinition]) -> None:
    person = fresh_person()
    body = submission(base, residence, person)
    response = submit(base, person, body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["Location"] == f"/api/v1/me/applications/{created['id']}"
    assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers
    assert created["reference"].startswith(f"PT-{date.today().year}-") and len(created["reference"]) == 14
    assert created["status"] == "submitted" and created["service"] == RESIDENT_SERVICE
    assert created["form_version"] == residence[0] and created["answers"] == body["answers"]
    assert person["sub"] not in response.headers["Location"]

    detail = requests.get(f"{base}/me/applications/{created['id']}", headers=who(person), timeout=10)
    assert detail.status_code == 200 and detail.headers["Cache-Control"] == "no-store"
    document = detail.json()
    assert document["applicant_name"] == person["name"] and document["acting_for"] is None
    assert [(e["status"], e["actor"]) for e in document["timeline"]] == [("submitted", "applicant")]
    listed = requests.get(f"{base}/me/applications", headers=who(person), timeout=10).json()
    assert [a["reference"] for a in listed["items"]] == [created["reference"]]
    assert listed["items"][0]["status"] == "submitted"


def test_answers_are_normalised_before_they_are_stored(base: str, residence: tuple[int, FormDefinition]) -> None:
    person = fresh_person()
    body = submission(base, residence, person)
    body["answers"]["address"] = {"street": "Jēkaba iela 11-5", "city": "Rīga", "postal_code": "1050"}
    response = submit(base, person, body)
    assert response.status_code == 201, response.text
    assert response.json()["answers"]["address"]["postal_code"] == "LV-1050"


def test_references_count_up(base: str, residence: tuple[int, FormDefinition]) -> None:
    person = fresh_person()
    first = submit(base, person, submission(base, residence, person)).json()["reference"]
    second = submit(base, person, submission(base, residence, person)).json()["reference"]
    assert int(second.rsplit("-", 1)[1]) > int(first.rsplit("-", 1)[1])
    listed = requests.get(f"{base}/me/applications", headers=who(person), timeout=10).json()["items"]
    assert [a["reference"] for a in listed] == [second, first]  # newest first


def test_a_company_representative_applies_for_the_company(base: str) -> None:
    version, definition = form_of(base, BUSINESS_SERVICE)
    body = {
        "service": BUSINESS_SERVICE,
        "form": "application",
        "form_version": version,
        "answers": valid_answers(definition, REP),
    }
    response = submit(base, REP, body)
    assert response.status_code == 201, response.text
    application_id = response.json()["id"]
    colleague = requests.get(f"{base}/me/applications/{application_id}", headers=who(REP_SAME_COMPANY), timeout=10)
    assert colleague.status_code == 200
    assert colleague.json()["acting_for"] == REP["company"] and colleague.json()["applicant_name"] == REP["name"]
    private = {**ANNA, "sub": REP["sub"]}
    assert requests.get(f"{base}/me/applications/{application_id}", headers=who(private), timeout=10).status_code == 404
    other = requests.get(f"{base}/me/applications/{application_id}", headers=who(REP_OTHER_COMPANY), timeout=10)
    assert other.status_code == 404
    refused = submit(base, ANNA, {**body, "answers": valid_answers(definition, ANNA)})
    assert refused.status_code == 403


def test_a_draft_is_submitted_and_then_gone(base: str, residence: tuple[int, FormDefinition]) -> None:
    person = fresh_person()
    draft = start_draft(base, person).json()
    answers = submission(base, residence, person)["answers"]
    url = f"{base}/me/drafts/{draft['id']}"
    assert requests.put(url, json={"answers": answers}, headers=who(person), timeout=10).status_code == 200
    response = submit(base, person, {"draft_id": draft["id"]})
    assert response.status_code == 201, response.text
    assert response.json()["answers"] == answers
    assert requests.get(url, headers=who(person), timeout=10).status_code == 404
    assert requests.get(f"{base}/me/drafts", headers=who(person), timeout=10).json()["total"] == 0
    assert submit(base, person, {"draft_id": draft["id"]}).status_code == 404  # a new key cannot submit it again


def test_an_incomplete_draft_is_not_submitted(base: str) -> None:
    person = fresh_person()
    draft = start_draft(base, person).json()
    errors = errors_of(submit(base, person, {"draft_id": draft["id"]}))
    assert errors["#/answers/address"] == "required"
    assert requests.get(f"{base}/me/drafts/{draft['id']}", headers=who(person), timeout=10).status_code == 200


def test_invalid_answers_are_422_with_pointers(base: str, residence: tuple[int, FormDefinition]) -> None:
    person = fresh_person()
    body = submission(base, residence, person, moves_with_others=True, legal_ground="owner")
    body["answers"]["moving_people"] = [{"name": "Bērns", "personal_code": "010190-12340", "relation": "child"}]
    body["answers"]["legal_ground_other"] = "answer to a question that is hidden"
    body["answers"]["favourite_colour"] = "green"
    body["answers"]["status"] = "decided"
    del body["answers"]["contact_email"]
    errors = errors_of(submit(base, person, body))
    assert errors["#/answers/moving_people/0/personal_code"].startswith("personal_code.")
    assert errors["#/answers/contact_email"] == "required"
    assert errors["#/answers/legal_ground_other"] == "hidden"
    assert errors["#/answers/favourite_colour"] == "unknown"
    assert errors["#/answers/status"] == "unknown"
    assert requests.get(f"{base}/me/applications", headers=who(person), timeout=10).json()["total"] == 0


def test_status_and_other_unknown_fields_are_refused(base: str, residence: tuple[int, FormDefinition]) -> None:
    person = fresh_person()
    valid = submission(base, residence, person)
    assert errors_of(submit(base, person, valid | {"status": "decided"})) == {"#/status": "not_allowed"}
    assert "#/decision" in errors_of(submit(base, person, valid | {"decision": {"granted": True}}))
    assert "#/principal" in errors_of(submit(base, person, valid | {"principal": ANNA["sub"]}))
    assert "#/form_version" in errors_of(submit(base, person, {**valid, "form_version": "1"}))
    assert "#/form_version" in errors_of(submit(base, person, {**valid, "form_version": 10**30}))
    assert "#/answers" in errors_of(submit(base, person, {k: v for k, v in valid.items() if k != "answers"}))
    assert "#/status" in errors_of(submit(base, person, {"draft_id": "a" * 32, "status": "decided"}))
    assert submit(base, person, {**valid, "form_version": 999}).status_code == 404
    assert submit(base, person, [valid]).status_code == 422  # type: ignore[arg-type]
    assert requests.get(f"{base}/me/applications", headers=who(person), timeout=10).json()["total"] == 0


def test_nobody_applies_in_another_persons_name(base: str, residence: tuple[int, FormDefinition]) -> None:
    person = fresh_person()
    body = submission(base, residence, person, applicant_personal_code=BRUNO["sub"])
    assert errors_of(submit(base, person, body)) == {"#/answers/applicant_personal_code": "identity_mismatch"}


# --- idempotency -----------------------------------------------------------------------------------------------


def test_a_replay_returns_the_stored_response(base: str, residence: tuple[int, FormDefinition]) -> None:
    person = fresh_person()
    body = submission(base, residence, person)
    headers = key()
    first = submit(base, person, body, **headers)
    assert first.status_code == 201
    # The same body with keys in another order is the same request (canonical JSON fingerprint).
    replay = submit(base, person, dict(reversed(list(body.items()))), **headers)
    assert replay.status_code == 201
    assert replay.json() == first.json() and replay.headers["Location"] == first.headers["Location"]
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert requests.get(f"{base}/me/applications", headers=who(person), timeout=10).json()["total"] == 1

    changed = submit(base, person, submission(base, residence, person, contact_email="cits@example.lv"), **headers)
    assert changed.status_code == 422 and "different" in changed.json()["detail"]
    assert requests.get(f"{base}/me/applications", headers=who(person), timeout=10).json()["total"] == 1


def test_a_draft_submission_replays_after_the_draft_is_gone(base: str, residence: tuple[int, FormDefinition]) -> None:
    person = fresh_person()
    draft = start_draft(base, person).json()
    answers = submission(base, residence, person)["answers"]
    requests.put(f"{base}/me/drafts/{draft['id']}", json={"answers": answers}, headers=who(person), timeout=10)
    headers = key()
    first = submit(base, person, {"draft_id": draft["id"]}, **headers)
    replay = submit(base, person, {"draft_id": draft["id"]}, **headers)
    assert first.status_code == replay.status_code == 201 and first.json() == replay.json()


def test_keys_are_scoped_to_the_principal(base: str, residence: tuple[int, FormDefinition]) -> None:
    one, two = fresh_person(), fresh_person()
    headers = key()
    first = submit(base, one, submission(base, residence, one), **headers)
    other = submit(base, two, submission(base, residence, two), **headers)
    assert first.status_code == other.status_code == 201
    assert first.json()["id"] != other.json()["id"]


def test_the_key_is_required_and_bounded(base: str, residence: tuple[int, FormDefinition]) -> None:
    person = fresh_person()
    body = submission(base, residence, person)
    missing = requests.post(f"{base}/applications", json=body, headers=who(person), timeout=10)
    assert missing.status_code == 400 and "Idempotency-Key" in missing.json()["detail"]
    for bad in ("x" * 201, "", "clé", '""'):
        assert submit(base, person, body, **{"Idempotency-Key": bad}).status_code == 400, bad
    assert submit(base, person, body, **{"Idempotency-Key": "k" * 200}).status_code == 201
    quoted = submit(base, person, body, **{"Idempotency-Key": '"sf-string-key"'})  # RFC 8941 string form
    assert quoted.status_code == 201
    assert requests.get(f"{base}/me/applications", headers=who(person), timeout=10).json()["total"] == 2


def test_a_refused_request_does_not_use_up_its_key(base: str, residence: tuple[int, FormDefinition]) -> None:
    person = fresh_person()
    headers = key()
    invalid = submission(base, residence, person, contact_email="not an address")
    assert submit(base, person, invalid, **headers).status_code == 422
    corrected = submit(base, person, submission(base, residence, person), **headers)
    assert corrected.status_code == 201


def test_concurrent_duplicates_make_one_application(base: str, residence: tuple[int, FormDefinition]) -> None:
    person = fresh_person()
    body = submission(base, residence, person)
    headers = who(person, **key())
    start = threading.Barrier(10)
    responses: list[requests.Response] = []
    lock = threading.Lock()

    def post() -> None:
        start.wait()
        response = requests.post(f"{base}/applications", json=body, headers=headers, timeout=30)
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
    listed = requests.get(f"{base}/me/applications", headers=who(person), timeout=10).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] in created
    assert all(r.headers["Content-Type"] == "application/problem+json" for r in responses if r.status_code == 409)
    again = requests.post(f"{base}/applications", json=body, headers=headers, timeout=10)
    assert again.status_code == 201 and again.json()["id"] in created


def test_concurrent_submissions_of_different_people_get_distinct_references(
    base: str, residence: tuple[int, FormDefinition]
) -> None:
    people = [fresh_person() for _ in range(6)]
    start = threading.Barrier(len(people))
    references: list[str] = []
    lock = threading.Lock()

    def post(person: dict[str, Any]) -> None:
        body = submission(base, residence, person)
        start.wait()
        response = submit(base, person, body)
        assert response.status_code == 201, response.text
        with lock:
            references.append(response.json()["reference"])

    threads = [threading.Thread(target=post, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(references)) == len(people)


@pytest.fixture(scope="module")
def database(applications_registry: RegistryProcess) -> Iterator[Any]:
    """The registry's database: to hold a key in flight, or move an application along as staff would."""
    engine = create_engine(applications_registry.database_url)
    yield engine
    engine.dispose()


def _hold(database: Any, principal: str, idempotency_key: str, body: Any, claimed_at: datetime) -> None:
    """Store a claim as a request that is still running (or whose worker died) would have left it."""
    with database.begin() as connection:
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
    base: str, residence: tuple[int, FormDefinition], database: Any
) -> None:
    person = fresh_person()
    body = submission(base, residence, person)
    running, dead = key(), key()
    _hold(database, person["sub"], running["Idempotency-Key"], body, datetime.now(UTC))
    busy = submit(base, person, body, **running)
    assert busy.status_code == 409 and busy.headers["Retry-After"]
    other_body = submission(base, residence, person, contact_email="cits@example.lv")
    assert submit(base, person, other_body, **running).status_code == 422  # another body is refused even now

    # A claim older than the lease belongs to a worker that died without storing anything: the retry proceeds.
    _hold(database, person["sub"], dead["Idempotency-Key"], body, datetime.now(UTC) - timedelta(minutes=5))
    taken_over = submit(base, person, body, **dead)
    assert taken_over.status_code == 201, taken_over.text
    assert submit(base, person, body, **dead).json() == taken_over.json()
    assert requests.get(f"{base}/me/applications", headers=who(person), timeout=10).json()["total"] == 1


# --- withdrawal ------------------------------------------------------------------------------------------------


def test_withdraw_rules(base: str, residence: tuple[int, FormDefinition], database: Any) -> None:
    person = fresh_person()
    application_id = submit(base, person, submission(base, residence, person)).json()["id"]
    url = f"{base}/me/applications/{application_id}/withdraw"
    withdrawn = requests.post(url, headers=who(person), timeout=10)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.headers["Cache-Control"] == "no-store"
    assert withdrawn.json()["status"] == "withdrawn"
    assert [e["status"] for e in withdrawn.json()["timeline"]] == ["submitted", "withdrawn"]
    again = requests.post(url, headers=who(person), timeout=10)
    assert again.status_code == 409 and again.headers["Content-Type"] == "application/problem+json"

    for status, allowed in (("in_progress", True), ("more_info_requested", True), ("decided", False)):
        other_id = submit(base, person, submission(base, residence, person)).json()["id"]
        with database.begin() as connection:
            connection.execute(
                text("UPDATE applications SET status = :status WHERE id = :id"), {"status": status, "id": other_id}
            )
        response = requests.post(f"{base}/me/applications/{other_id}/withdraw", headers=who(person), timeout=10)
        assert response.status_code == (200 if allowed else 409), (status, response.text)
        current = requests.get(f"{base}/me/applications/{other_id}", headers=who(person), timeout=10).json()
        assert current["status"] == ("withdrawn" if allowed else "decided")


# --- logs ------------------------------------------------------------------------------------------------------


def test_database_errors_never_log_personal_codes(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # A database without tables fails every query; SQLAlchemy's message would list the principal it was given.
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}", "IDENTITY_SECRET": SECRET})
    client = app.test_client()
    with caplog.at_level(logging.ERROR):
        for path in ("/api/v1/me/drafts", "/api/v1/me/applications"):
            response = client.get(path, headers=who(ANNA))
            assert response.status_code == 500 and ANNA["sub"] not in response.text
    assert "OperationalError" in caplog.text  # the failure is logged...
    assert ANNA["sub"] not in caplog.text  # ...without the personal code


# --- the document describes these operations -------------------------------------------------------------------


def test_every_personal_get_is_no_store_and_data_only(base: str, residence: tuple[int, FormDefinition]) -> None:
    person = fresh_person()
    draft_id = start_draft(base, person).json()["id"]
    application_id = submit(base, person, submission(base, residence, person)).json()["id"]
    ids = {"draft_id": draft_id, "application_id": application_id}
    personal = [
        path
        for path, item in build_openapi()["paths"].items()
        if "get" in item and {"portalIdentity": []} in item["get"].get("security", [])
    ]
    assert len(personal) == 4
    root = base.removesuffix("/api/v1")
    for path in personal:
        response = requests.get(f"{root}{path.format(**ids)}", headers=who(person), timeout=10)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "Access-Control-Allow-Origin" not in response.headers
        assert person["sub"] not in path.format(**ids)


schema = schemathesis.openapi.from_dict(build_openapi())


@schema.include(path_regex=r"^/api/v1/(me/|applications)").parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_personal_operations_conform_to_the_document(
    case: schemathesis.Case, applications_registry: RegistryProcess
) -> None:
    # A signed-in person with arbitrary bodies, ids and keys: never a server error, always a documented answer.
    response = case.call(base_url=applications_registry.url, headers=who(FUZZER))
    case.validate_response(
        response,
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )
