"""Submitting applications to a real registry: what is stored, what is refused, and withdrawing."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import requests
from sqlalchemy import text

from forms.model import FormDefinition
from tests.fixtures.applications import (
    ANNA,
    BRUNO,
    BUSINESS_SERVICE,
    REP,
    REP_OTHER_COMPANY,
    REP_SAME_COMPANY,
    RESIDENT_SERVICE,
    errors_of,
    form_of,
    fresh_person,
    submission,
    submit,
    valid_answers,
    who,
)

pytestmark = pytest.mark.integration


def test_valid_answers_are_submitted(applications_api: str, residence_form: tuple[int, FormDefinition]) -> None:
    person = fresh_person()
    body = submission(applications_api, residence_form, person)
    response = submit(applications_api, person, body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["Location"] == f"/api/v1/me/applications/{created['id']}"
    assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers
    assert created["reference"].startswith(f"PT-{date.today().year}-") and len(created["reference"]) == 14
    assert created["status"] == "submitted" and created["service"] == RESIDENT_SERVICE
    assert created["form_version"] == residence_form[0] and created["answers"] == body["answers"]
    assert person["sub"] not in response.headers["Location"]

    detail = requests.get(f"{applications_api}/me/applications/{created['id']}", headers=who(person), timeout=10)
    assert detail.status_code == 200 and detail.headers["Cache-Control"] == "no-store"
    document = detail.json()
    assert document["applicant_name"] == person["name"] and document["acting_for"] is None
    assert [(e["status"], e["actor"]) for e in document["timeline"]] == [("submitted", "applicant")]
    listed = requests.get(f"{applications_api}/me/applications", headers=who(person), timeout=10).json()
    assert [a["reference"] for a in listed["items"]] == [created["reference"]]
    assert listed["items"][0]["status"] == "submitted"


def test_answers_are_normalised_before_they_are_stored(
    applications_api: str, residence_form: tuple[int, FormDefinition]
) -> None:
    person = fresh_person()
    body = submission(applications_api, residence_form, person)
    body["answers"]["address"] = {"street": "Jēkaba iela 11-5", "city": "Rīga", "postal_code": "1050"}
    response = submit(applications_api, person, body)
    assert response.status_code == 201, response.text
    assert response.json()["answers"]["address"]["postal_code"] == "LV-1050"


def test_references_count_up(applications_api: str, residence_form: tuple[int, FormDefinition]) -> None:
    person = fresh_person()
    first = submit(applications_api, person, submission(applications_api, residence_form, person)).json()["reference"]
    second = submit(applications_api, person, submission(applications_api, residence_form, person)).json()["reference"]
    assert int(second.rsplit("-", 1)[1]) > int(first.rsplit("-", 1)[1])
    listed = requests.get(f"{applications_api}/me/applications", headers=who(person), timeout=10).json()["items"]
    assert [a["reference"] for a in listed] == [second, first]  # newest first


def test_a_company_representative_applies_for_the_company(applications_api: str) -> None:
    version, definition = form_of(applications_api, BUSINESS_SERVICE)
    body = {
        "service": BUSINESS_SERVICE,
        "form": "application",
        "form_version": version,
        "answers": valid_answers(definition, REP, applications_api),
    }
    response = submit(applications_api, REP, body)
    assert response.status_code == 201, response.text
    application_id = response.json()["id"]
    colleague = requests.get(
        f"{applications_api}/me/applications/{application_id}", headers=who(REP_SAME_COMPANY), timeout=10
    )
    assert colleague.status_code == 200
    assert colleague.json()["acting_for"] == REP["company"] and colleague.json()["applicant_name"] == REP["name"]
    private = {**ANNA, "sub": REP["sub"]}
    assert (
        requests.get(
            f"{applications_api}/me/applications/{application_id}", headers=who(private), timeout=10
        ).status_code
        == 404
    )
    other = requests.get(
        f"{applications_api}/me/applications/{application_id}", headers=who(REP_OTHER_COMPANY), timeout=10
    )
    assert other.status_code == 404
    refused = submit(applications_api, ANNA, {**body, "answers": valid_answers(definition, ANNA)})
    assert refused.status_code == 403


def test_invalid_answers_are_422_with_pointers(
    applications_api: str, residence_form: tuple[int, FormDefinition]
) -> None:
    person = fresh_person()
    body = submission(applications_api, residence_form, person, moves_with_others=True, legal_ground="owner")
    body["answers"]["moving_people"] = [{"name": "Bērns", "personal_code": "010190-12340", "relation": "child"}]
    body["answers"]["legal_ground_other"] = "answer to a question that is hidden"
    body["answers"]["favourite_colour"] = "green"
    body["answers"]["status"] = "decided"
    del body["answers"]["contact_email"]
    errors = errors_of(submit(applications_api, person, body))
    assert errors["#/answers/moving_people/0/personal_code"].startswith("personal_code.")
    assert errors["#/answers/contact_email"] == "required"
    assert errors["#/answers/legal_ground_other"] == "hidden"
    assert errors["#/answers/favourite_colour"] == "unknown"
    assert errors["#/answers/status"] == "unknown"
    assert requests.get(f"{applications_api}/me/applications", headers=who(person), timeout=10).json()["total"] == 0


def test_status_and_other_unknown_fields_are_refused(
    applications_api: str, residence_form: tuple[int, FormDefinition]
) -> None:
    person = fresh_person()
    valid = submission(applications_api, residence_form, person)
    assert errors_of(submit(applications_api, person, valid | {"status": "decided"})) == {"#/status": "not_allowed"}
    assert "#/decision" in errors_of(submit(applications_api, person, valid | {"decision": {"granted": True}}))
    assert "#/principal" in errors_of(submit(applications_api, person, valid | {"principal": ANNA["sub"]}))
    assert "#/form_version" in errors_of(submit(applications_api, person, {**valid, "form_version": "1"}))
    assert "#/form_version" in errors_of(submit(applications_api, person, {**valid, "form_version": 10**30}))
    assert "#/answers" in errors_of(
        submit(applications_api, person, {k: v for k, v in valid.items() if k != "answers"})
    )
    assert "#/status" in errors_of(submit(applications_api, person, {"draft_id": "a" * 32, "status": "decided"}))
    assert submit(applications_api, person, {**valid, "form_version": 999}).status_code == 404
    assert submit(applications_api, person, [valid]).status_code == 422  # type: ignore[arg-type]
    assert requests.get(f"{applications_api}/me/applications", headers=who(person), timeout=10).json()["total"] == 0


def test_nobody_applies_in_another_persons_name(
    applications_api: str, residence_form: tuple[int, FormDefinition]
) -> None:
    person = fresh_person()
    body = submission(applications_api, residence_form, person, applicant_personal_code=BRUNO["sub"])
    assert errors_of(submit(applications_api, person, body)) == {
        "#/answers/applicant_personal_code": "identity_mismatch"
    }


def test_withdraw_rules(
    applications_api: str, residence_form: tuple[int, FormDefinition], applications_database: Any
) -> None:
    person = fresh_person()
    application_id = submit(applications_api, person, submission(applications_api, residence_form, person)).json()["id"]
    url = f"{applications_api}/me/applications/{application_id}/withdraw"
    withdrawn = requests.post(url, headers=who(person), timeout=10)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.headers["Cache-Control"] == "no-store"
    assert withdrawn.json()["status"] == "withdrawn"
    assert [e["status"] for e in withdrawn.json()["timeline"]] == ["submitted", "withdrawn"]
    again = requests.post(url, headers=who(person), timeout=10)
    assert again.status_code == 409 and again.headers["Content-Type"] == "application/problem+json"

    for status, allowed in (("in_progress", True), ("more_info_requested", True), ("decided", False)):
        other_id = submit(applications_api, person, submission(applications_api, residence_form, person)).json()["id"]
        with applications_database.begin() as connection:
            connection.execute(
                text("UPDATE applications SET status = :status WHERE id = :id"), {"status": status, "id": other_id}
            )
        response = requests.post(
            f"{applications_api}/me/applications/{other_id}/withdraw", headers=who(person), timeout=10
        )
        assert response.status_code == (200 if allowed else 409), (status, response.text)
        current = requests.get(f"{applications_api}/me/applications/{other_id}", headers=who(person), timeout=10).json()
        assert current["status"] == ("withdrawn" if allowed else "decided")
