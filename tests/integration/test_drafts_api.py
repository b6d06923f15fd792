"""Drafts in a real registry: start one, save answers page by page, delete it, submit it."""

from __future__ import annotations

import pytest
import requests

from forms.model import FormDefinition
from tests.fixtures.applications import (
    ANNA,
    BUSINESS_SERVICE,
    REP,
    RESIDENT_SERVICE,
    errors_of,
    fresh_person,
    start_draft,
    submission,
    submit,
    who,
)

pytestmark = pytest.mark.integration


def test_draft_lifecycle(applications_api: str, residence_form: tuple[int, FormDefinition]) -> None:
    version, definition = residence_form
    person = fresh_person()
    started = start_draft(applications_api, person)
    assert started.status_code == 201, started.text
    draft = started.json()
    assert started.headers["Location"] == f"/api/v1/me/drafts/{draft['id']}"
    assert started.headers["Cache-Control"] == "no-store" and "ETag" not in started.headers
    assert draft["service"] == RESIDENT_SERVICE and draft["form_version"] == version
    assert draft["answers"] == {} and draft["current_page"] is None

    second = start_draft(applications_api, person).json()
    listed = requests.get(f"{applications_api}/me/drafts", headers=who(person), timeout=10)
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
    url = f"{applications_api}/me/drafts/{draft['id']}"
    saved = requests.put(
        url, json={"answers": answers, "current_page": "legal-ground"}, headers=who(person), timeout=10
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["answers"] == {"applicant_name": person["name"], "legal_ground": "owner"}
    assert saved.json()["current_page"] == "legal-ground"
    again = requests.get(url, headers=who(person), timeout=10)
    assert again.json() == saved.json()
    listed = requests.get(f"{applications_api}/me/drafts", headers=who(person), timeout=10)
    assert [d["id"] for d in listed.json()["items"]] == [draft["id"], second["id"]]  # the one saved last comes first

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


def test_starting_a_draft_checks_service_form_and_audience(applications_api: str) -> None:
    # Residents cannot register a company, and a company does not declare residence.
    assert start_draft(applications_api, ANNA, BUSINESS_SERVICE).status_code == 403
    assert start_draft(applications_api, REP, RESIDENT_SERVICE).status_code == 403
    assert start_draft(applications_api, REP, BUSINESS_SERVICE).status_code == 201
    assert start_draft(applications_api, ANNA, "no-such-service").status_code == 404
    assert start_draft(applications_api, ANNA, "mirsanas-fakta-registracija-valmiera").status_code == 404  # no form
    response = requests.post(
        f"{applications_api}/me/drafts",
        json={"service": RESIDENT_SERVICE, "form": "decision"},
        headers=who(ANNA),
        timeout=10,
    )
    assert response.status_code == 404
    for body in ({"service": RESIDENT_SERVICE}, {"service": 5, "form": "application"}, {"x": 1}, []):
        response = requests.post(f"{applications_api}/me/drafts", json=body, headers=who(ANNA), timeout=10)
        assert response.status_code == 422, body


def test_a_draft_is_submitted_and_then_gone(applications_api: str, residence_form: tuple[int, FormDefinition]) -> None:
    person = fresh_person()
    draft = start_draft(applications_api, person).json()
    answers = submission(applications_api, residence_form, person)["answers"]
    url = f"{applications_api}/me/drafts/{draft['id']}"
    assert requests.put(url, json={"answers": answers}, headers=who(person), timeout=10).status_code == 200
    response = submit(applications_api, person, {"draft_id": draft["id"]})
    assert response.status_code == 201, response.text
    assert response.json()["answers"] == answers
    assert requests.get(url, headers=who(person), timeout=10).status_code == 404
    assert requests.get(f"{applications_api}/me/drafts", headers=who(person), timeout=10).json()["total"] == 0
    # A new key cannot submit it again.
    assert submit(applications_api, person, {"draft_id": draft["id"]}).status_code == 404


def test_an_incomplete_draft_is_not_submitted(applications_api: str) -> None:
    person = fresh_person()
    draft = start_draft(applications_api, person).json()
    errors = errors_of(submit(applications_api, person, {"draft_id": draft["id"]}))
    assert errors["#/answers/address"] == "required"
    assert (
        requests.get(f"{applications_api}/me/drafts/{draft['id']}", headers=who(person), timeout=10).status_code == 200
    )
