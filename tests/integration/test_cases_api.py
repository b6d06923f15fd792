"""Cases against a real registry: a process across institutions, the state machine, tenancy, idempotent decisions,
requests for more information, and the audit trail."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine, text

from forms.examples import example_answers
from registry.api.openapi import build_openapi
from tests.fixtures.applications import errors_of, form_of, fresh_person, submit, upload_file, valid_answers, who
from tests.fixtures.registry_server import RegistryProcess

pytestmark = pytest.mark.integration

SERVICE = "bezdarbnieka-statusa-pieskirsana"  # NVA assesses the status, then VSAA decides the benefit


def employee(institution: str, *roles: str, sub: str = "150585-12343", name: str = "Darbinieks") -> dict[str, Any]:
    return {
        "sub": sub,
        "name": name,
        "kind": "employee",
        "acr": "high",
        "company": None,
        "company_name": None,
        "institution": institution,
        "roles": list(roles),
    }


NVA_WORKER = employee("nva", "case_worker", sub="010190-12349", name="Nora Vītola")
NVA_COLLEAGUE = employee("nva", "case_worker", sub="150585-12343", name="Kārlis Zariņš")
VSAA_WORKER = employee("vsaa", "case_worker", sub="200275-12347", name="Vita Sauliete")
VSAA_DECIDER = employee("vsaa", "case_worker", "decision_maker", sub="030303-12341", name="Valdis Ozols")
PMLP_WORKER = employee("pmlp", "case_worker", "decision_maker", sub="111111-11111", name="Pēteris Lapa")


def new_case(api: str) -> tuple[str, dict[str, Any]]:
    """A fresh person applies for the unemployed status; return the application id and the person."""
    person = fresh_person()
    version, definition = form_of(api, SERVICE)
    body = {"service": SERVICE, "form": "application", "form_version": version}
    response = submit(api, person, body | {"answers": valid_answers(definition, person, api)})
    assert response.status_code == 201, response.text
    return response.json()["id"], person


def step_answers(api: str, form: str) -> dict[str, Any]:
    _, definition = form_of_step(api, form)
    return {k: v for k, v in example_answers(definition, today=date.today(), yes=True).items() if k != "declaration"}


def form_of_step(api: str, form: str) -> tuple[int, Any]:
    from forms.loader import load_definition

    body = requests.get(f"{api}/services/{SERVICE}/forms/{form}", timeout=10).json()
    return body["version"], load_definition(body["definition"])


def case(api: str, who_: dict[str, Any], case_id: str) -> requests.Response:
    return requests.get(f"{api}/staff/cases/{case_id}", headers=who(who_), timeout=10)


def act(api: str, who_: dict[str, Any], case_id: str, action: str) -> requests.Response:
    return requests.post(f"{api}/staff/cases/{case_id}/{action}", headers=who(who_), timeout=10)


def decide(
    api: str, who_: dict[str, Any], case_id: str, body: dict[str, Any], key: str | None = None
) -> requests.Response:
    headers = who(who_, **{"Idempotency-Key": key or uuid.uuid4().hex})
    return requests.post(f"{api}/staff/cases/{case_id}/decisions", json=body, headers=headers, timeout=10)


def mine(api: str, person: dict[str, Any], application_id: str) -> dict[str, Any]:
    response = requests.get(f"{api}/me/applications/{application_id}", headers=who(person), timeout=10)
    assert response.status_code == 200
    return response.json()


def queue_ids(api: str, who_: dict[str, Any], **params: str) -> list[str]:
    response = requests.get(f"{api}/staff/cases", params={"per_page": "100", **params}, headers=who(who_), timeout=10)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_a_case_passes_from_one_institution_to_the_next_and_is_decided(applications_api: str) -> None:
    api = applications_api
    case_id, person = new_case(api)
    assert case_id in queue_ids(api, NVA_WORKER)
    assert case_id not in queue_ids(api, VSAA_WORKER)
    assert case(api, VSAA_WORKER, case_id).status_code == 404  # not yet theirs

    opened = case(api, NVA_WORKER, case_id).json()
    assert opened["step"]["id"] == "nva-status" and opened["step"]["form_version"] == 1
    assert [s["state"] for s in opened["process"]["steps"]] == ["current", "waiting"]
    assert opened["applicant_name"] == person["name"] and opened["answers"]
    assert opened["due_at"] is not None

    assert act(api, NVA_WORKER, case_id, "claim").json()["assigned_to"]["name"] == "Nora Vītola"
    assert act(api, NVA_COLLEAGUE, case_id, "claim").status_code == 409  # a colleague has it
    assert mine(api, person, case_id)["status"] == "in_progress"

    approved = decide(
        api,
        NVA_WORKER,
        case_id,
        {"step": "nva-status", "outcome": "approve", "answers": step_answers(api, "nva-status")},
    )
    assert approved.status_code == 201, approved.text
    assert approved.json()["institution"] == "nva" and approved.json()["form"] == "nva-status"

    assert case_id in queue_ids(api, VSAA_WORKER)
    assert case_id not in queue_ids(api, NVA_WORKER)
    assert case_id in queue_ids(api, NVA_WORKER, scope="involved")
    # NVA still sees the case it worked on, but cannot decide the VSAA step.
    nva_view = case(api, NVA_WORKER, case_id)
    assert nva_view.status_code == 200
    refused = decide(api, NVA_WORKER, case_id, {"step": "vsaa-benefit", "outcome": "approve", "answers": {}})
    assert refused.status_code == 403

    # Approving the last step decides the application: a decision maker's outcome.
    benefit = step_answers(api, "vsaa-benefit")
    body = {"step": "vsaa-benefit", "outcome": "approve", "answers": benefit}
    assert decide(api, VSAA_WORKER, case_id, body).status_code == 403
    assert decide(api, VSAA_DECIDER, case_id, body).status_code == 201
    final = case(api, VSAA_DECIDER, case_id).json()
    assert final["status"] == "decided" and final["result"] == "approved"
    assert [s["state"] for s in final["process"]["steps"]] == ["done", "done"]
    decisions = [e for e in final["timeline"] if e["kind"] == "decision"]
    assert [(d["institution"], d["outcome"], d["actor"]["name"]) for d in decisions] == [
        ("nva", "approve", "Nora Vītola"),
        ("vsaa", "approve", "Valdis Ozols"),
    ]
    assert decisions[1]["answers"] == benefit and decisions[1]["form_version"] == 1
    assert sum(e["kind"] == "view" for e in final["timeline"]) >= 3  # every opening of the case is audited

    applicant = mine(api, person, case_id)
    assert applicant["status"] == "decided" and applicant["result"] == "approved"
    assert [e["status"] for e in applicant["timeline"]] == ["submitted", "in_progress", "in_progress", "decided"]
    # The applicant sees where the case went: the step it was passed to, by its title (which names the office).
    handed_over = applicant["timeline"][2]
    assert handed_over["actor"] == "institution" and "VSAA" in handed_over["note"]["lv"]
    # A decided case takes no more decisions.
    again = decide(api, VSAA_DECIDER, case_id, {"step": "vsaa-benefit", "outcome": "refuse", "text": "Nē"})
    assert again.status_code == 409


def test_more_information_is_asked_and_answered_and_the_case_returns_to_its_step(applications_api: str) -> None:
    api = applications_api
    case_id, person = new_case(api)
    no_text = decide(api, NVA_WORKER, case_id, {"step": "nva-status", "outcome": "request_info"})
    assert no_text.status_code == 422
    asked = decide(
        api, NVA_WORKER, case_id, {"step": "nva-status", "outcome": "request_info", "text": "Pievienojiet izziņu."}
    )
    assert asked.status_code == 201
    waiting = mine(api, person, case_id)
    assert waiting["status"] == "more_info_requested"
    assert waiting["information_request"]["text"] == "Pievienojiet izziņu."
    # While the applicant is asked, the step waits.
    blocked = decide(
        api,
        NVA_WORKER,
        case_id,
        {"step": "nva-status", "outcome": "approve", "answers": step_answers(api, "nva-status")},
    )
    assert blocked.status_code == 409

    answer = requests.post(
        f"{api}/me/applications/{case_id}/information",
        json={"text": "Izziņa pievienota."},
        headers=who(person),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "in_progress" and answer.json()["information_request"] is None
    back = case(api, NVA_WORKER, case_id).json()
    assert back["step"]["id"] == "nva-status"
    assert back["timeline"][-2]["kind"] == "information" and back["timeline"][-2]["text"] == "Izziņa pievienota."
    # Answering again, when nothing is asked, is refused.
    again = requests.post(
        f"{api}/me/applications/{case_id}/information", json={"text": "Vēlreiz"}, headers=who(person), timeout=10
    )
    assert again.status_code == 409


def test_a_case_is_returned_to_the_previous_step(applications_api: str) -> None:
    api = applications_api
    case_id, _ = new_case(api)
    first = decide(api, NVA_WORKER, case_id, {"step": "nva-status", "outcome": "return", "text": "Atpakaļ"})
    assert first.status_code == 409  # the first step has nowhere to return to
    decide(
        api,
        NVA_WORKER,
        case_id,
        {"step": "nva-status", "outcome": "approve", "answers": step_answers(api, "nva-status")},
    )
    returned = decide(api, VSAA_WORKER, case_id, {"step": "vsaa-benefit", "outcome": "return", "text": "Trūkst datu."})
    assert returned.status_code == 201
    assert case_id in queue_ids(api, NVA_WORKER)
    assert case(api, NVA_WORKER, case_id).json()["step"]["id"] == "nva-status"


def test_illegal_decisions_are_refused_and_change_nothing(applications_api: str) -> None:
    api = applications_api
    case_id, _ = new_case(api)
    before = case(api, NVA_WORKER, case_id).json()
    assert (
        decide(api, NVA_WORKER, case_id, {"step": "vsaa-benefit", "outcome": "approve", "answers": {}}).status_code
        == 409
    )
    assert (
        decide(api, NVA_WORKER, case_id, {"step": "nva-status", "outcome": "refuse", "text": "Nē"}).status_code == 403
    )
    assert decide(api, NVA_WORKER, case_id, {"step": "nva-status", "outcome": "close"}).status_code == 422
    unknown = decide(
        api,
        NVA_WORKER,
        case_id,
        {"step": "nva-status", "outcome": "approve", "answers": {**step_answers(api, "nva-status"), "bonus": 1}},
    )
    assert errors_of(unknown) == {"#/answers/bonus": "unknown"}
    missing = decide(api, NVA_WORKER, case_id, {"step": "nva-status", "outcome": "approve", "answers": {}})
    assert "#/answers/registered_job_seeker" in errors_of(missing)
    assert (
        decide(api, NVA_WORKER, case_id, {"step": "nva-status", "outcome": "approve", "status": "decided"}).status_code
        == 422
    )
    assert (
        decide(api, PMLP_WORKER, case_id, {"step": "nva-status", "outcome": "approve", "answers": {}}).status_code
        == 404
    )
    after = case(api, NVA_WORKER, case_id).json()
    assert (after["status"], after["step"]["id"]) == (before["status"], before["step"]["id"])
    assert not [e for e in after["timeline"] if e["kind"] == "decision"]


def test_a_decision_is_taken_once_per_key(applications_api: str) -> None:
    api = applications_api
    case_id, _ = new_case(api)
    body = {"step": "nva-status", "outcome": "approve", "answers": step_answers(api, "nva-status")}
    key = uuid.uuid4().hex
    first = decide(api, NVA_WORKER, case_id, body, key)
    replay = decide(api, NVA_WORKER, case_id, body, key)
    assert first.status_code == replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.json() == first.json()
    other = decide(api, NVA_WORKER, case_id, {**body, "text": "cits"}, key)
    assert other.status_code == 422
    timeline = case(api, VSAA_WORKER, case_id).json()["timeline"]
    assert sum(e["kind"] == "decision" for e in timeline) == 1


def test_staff_and_applicants_keep_to_their_own_side(applications_api: str) -> None:
    api = applications_api
    case_id, person = new_case(api)
    assert requests.get(f"{api}/staff/cases", headers=who(person), timeout=10).status_code == 403
    assert requests.get(f"{api}/staff/cases/{case_id}", headers=who(person), timeout=10).status_code == 403
    assert requests.get(f"{api}/me/applications", headers=who(NVA_WORKER), timeout=10).status_code == 403
    assert requests.get(f"{api}/staff/cases", timeout=10).status_code == 401
    assert case(api, NVA_WORKER, "0" * 32).status_code == 404
    assert case(api, NVA_WORKER, "not-an-id").status_code == 404


def test_an_answer_brings_files_that_staff_of_the_case_download(applications_api: str) -> None:
    api = applications_api
    case_id, person = new_case(api)
    decide(api, NVA_WORKER, case_id, {"step": "nva-status", "outcome": "request_info", "text": "Izziņu, lūdzu."})
    file_id = upload_file(api, person, ("pdf",))["file_id"]
    body = {"text": "Pievienoju.", "files": [file_id]}
    answered = requests.post(f"{api}/me/applications/{case_id}/information", json=body, headers=who(person), timeout=10)
    assert answered.status_code == 200, answered.text
    assert [f["id"] for f in case(api, NVA_WORKER, case_id).json()["files"]] == [file_id]
    download = requests.get(f"{api}/staff/cases/{case_id}/files/{file_id}", headers=who(NVA_WORKER), timeout=10)
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in download.headers["Content-Security-Policy"]
    other = requests.get(f"{api}/staff/cases/{case_id}/files/{file_id}", headers=who(PMLP_WORKER), timeout=10)
    assert other.status_code == 404
    # Somebody else's upload cannot be slipped into an answer.
    decide(api, NVA_WORKER, case_id, {"step": "nva-status", "outcome": "request_info", "text": "Vēl vienu."})
    foreign = upload_file(api, fresh_person(), ("pdf",))["file_id"]
    refused = requests.post(
        f"{api}/me/applications/{case_id}/information",
        json={"text": "Lūdzu.", "files": [foreign]},
        headers=who(person),
        timeout=10,
    )
    assert errors_of(refused) == {"#/files/0": "file.missing"}


def test_the_queue_filters_and_counts(applications_api: str, applications_database: Engine) -> None:
    api = applications_api
    late_id, _ = new_case(api)
    own_id, _ = new_case(api)
    with applications_database.begin() as connection:
        connection.execute(
            text("UPDATE applications SET due_at = '2020-01-01 00:00:00' WHERE id = :id"), {"id": late_id}
        )
    act(api, NVA_COLLEAGUE, own_id, "claim")
    assert late_id in queue_ids(api, NVA_WORKER, overdue="true")
    assert own_id not in queue_ids(api, NVA_WORKER, overdue="true")
    assert queue_ids(api, NVA_COLLEAGUE, assigned="me") and own_id in queue_ids(api, NVA_COLLEAGUE, assigned="me")
    assert own_id not in queue_ids(api, NVA_WORKER, assigned="me")
    listed = requests.get(f"{api}/staff/cases", headers=who(NVA_WORKER), timeout=10).json()
    assert listed["counts"]["overdue"] >= 1 and listed["counts"]["open"] >= 2
    assert next(i for i in listed["items"] if i["id"] == late_id)["overdue"] is True
    assert queue_ids(api, NVA_WORKER, service="pii-rinda-riga") == [] or late_id not in queue_ids(
        api, NVA_WORKER, service="pii-rinda-riga"
    )
    bad = requests.get(f"{api}/staff/cases", params={"status": "lost"}, headers=who(NVA_WORKER), timeout=10)
    assert bad.status_code == 400


FUZZING_EMPLOYEE = employee("nva", "case_worker", "decision_maker", sub="320000-00002", name="Schemathesis")
schema = schemathesis.openapi.from_dict(build_openapi())


@schema.include(path_regex=r"^/api/v1/staff/").parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_staff_operations_conform_to_the_document(
    case: schemathesis.Case, applications_registry: RegistryProcess
) -> None:
    # An employee with arbitrary ids, filters, bodies and keys: never a server error, always a documented answer.
    response = case.call(base_url=applications_registry.url, headers=who(FUZZING_EMPLOYEE))
    case.validate_response(
        response,
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )


def test_staff_answers_are_never_cached(applications_api: str) -> None:
    case_id, _ = new_case(applications_api)
    for path in ("staff/cases", f"staff/cases/{case_id}"):
        response = requests.get(f"{applications_api}/{path}", headers=who(NVA_WORKER), timeout=10)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers


def test_a_case_is_given_to_a_colleague_of_the_same_institution(applications_api: str) -> None:
    api = applications_api
    case_id, _ = new_case(api)
    # Both have worked on NVA cases (the registry knows colleagues from the audit trail): Nora took one and gave it
    # back, Kārlis has this one.
    assert act(api, NVA_WORKER, case_id, "claim").status_code == 200
    assert act(api, NVA_WORKER, case_id, "release").status_code == 200
    act(api, NVA_COLLEAGUE, case_id, "claim")
    known = requests.get(f"{api}/staff/colleagues", headers=who(NVA_COLLEAGUE), timeout=10).json()["items"]
    assert {"sub": NVA_WORKER["sub"], "name": NVA_WORKER["name"]} in known
    assert all(c["sub"] != VSAA_WORKER["sub"] for c in known)  # only the institution's own people

    given = requests.post(
        f"{api}/staff/cases/{case_id}/assign", json={"to": NVA_WORKER["sub"]}, headers=who(NVA_COLLEAGUE), timeout=10
    )
    assert given.status_code == 200 and given.json()["assigned_to"]["name"] == "Nora Vītola"
    stranger = requests.post(
        f"{api}/staff/cases/{case_id}/assign", json={"to": VSAA_WORKER["sub"]}, headers=who(NVA_WORKER), timeout=10
    )
    assert stranger.status_code == 422  # not a colleague of NVA
    other_institution = requests.post(
        f"{api}/staff/cases/{case_id}/assign", json={"to": VSAA_WORKER["sub"]}, headers=who(VSAA_WORKER), timeout=10
    )
    assert other_institution.status_code == 404
    timeline = case(api, NVA_WORKER, case_id).json()["timeline"]
    assert [e["text"] for e in timeline if e["kind"] == "assign"] == ["Nora Vītola"]
