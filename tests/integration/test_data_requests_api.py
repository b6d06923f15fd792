"""Level 5 against a real registry: an institution asks another about a case's applicant, without the client, with a
kind of request (registry/seed/data_requests) or a free-text question; employees and institution systems (institution
tokens) answer a kind with its answer form, checked like a step form; the answer joins the case's audit trail."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import requests

from forms.answers import validate_answers
from forms.loader import load_definition
from tests.fixtures.applications import errors_of, who
from tests.fixtures.registry_server import RegistryProcess
from tests.integration.test_cases_api import (
    NVA_WORKER,
    PMLP_WORKER,
    VSAA_WORKER,
    case,
    decide,
    employee,
    new_case,
    step_answers,
)

pytestmark = pytest.mark.integration

RIGA_WORKER = employee("riga-municipality", "case_worker", sub="161175-19997", name="Rita Rīga")
SEED_KINDS = {"vsaa-benefits": "vsaa", "pmlp-residence": "pmlp", "nva-status": "nva", "vid-tax-debts": "vid"}
BENEFITS = {"receives": True, "benefits": ["unemployment"], "monthly_amount": "412.50", "granted_until": "2027-03-31"}


def ask(
    api: str, who_: dict[str, object], case_id: str, to: str | None = None, text: str | None = None, **more: object
) -> requests.Response:
    body = {"to_institution": to, "text": text} | more
    body = {key: value for key, value in body.items() if value is not None}
    return requests.post(f"{api}/staff/cases/{case_id}/data-requests", json=body, headers=who(who_), timeout=10)


def answer(api: str, who_: dict[str, object], request_id: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{api}/staff/data-requests/{request_id}/answer", json=body, headers=who(who_), timeout=10)


def incoming(api: str, who_: dict[str, object], **params: str) -> list[dict[str, object]]:
    response = requests.get(f"{api}/staff/data-requests", params=params, headers=who(who_), timeout=10)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def one(api: str, who_: dict[str, object], request_id: str) -> dict[str, Any]:
    response = requests.get(f"{api}/staff/data-requests/{request_id}", headers=who(who_), timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


def of_case(api: str, who_: dict[str, object], case_id: str) -> requests.Response:
    return requests.get(f"{api}/staff/cases/{case_id}/data-requests", headers=who(who_), timeout=10)


# --- kinds -------------------------------------------------------------------------------------------------------


def test_the_kinds_and_their_answer_forms_are_published(applications_api: str) -> None:
    api = applications_api
    listed = requests.get(f"{api}/data-request-kinds", timeout=10)
    assert listed.status_code == 200 and "public" in listed.headers["Cache-Control"]
    assert (
        requests.get(
            f"{api}/data-request-kinds", headers={"If-None-Match": listed.headers["ETag"]}, timeout=10
        ).status_code
        == 304
    )
    items = {item["id"]: item for item in listed.json()["items"]}
    assert {kind: item["answered_by"] for kind, item in items.items()} == SEED_KINDS
    assert items["vsaa-benefits"]["title"]["lv"] == "Vai persona saņem VSAA pabalstu vai pensiju?"
    assert items["nva-status"]["asked_by"] == [
        "vsaa",
        "riga-municipality",
        "valmiera-municipality",
        "liepaja-municipality",
    ]
    assert items["vsaa-benefits"]["asked_by"] is None and items["vid-tax-debts"]["about"] == ["person", "company"]

    kind = requests.get(f"{api}/data-request-kinds/vsaa-benefits", timeout=10).json()
    # The answer form is a form definition like any other: the forms package loads it and validates its answers.
    definition = load_definition(kind["answer_form"])
    assert definition.key == ("vsaa-benefits", "answer", kind["version"])
    assert validate_answers(definition, BENEFITS, today=date.today()) == {}
    assert validate_answers(definition, {"receives": True}, today=date.today()) == {"benefits": ["required"]}
    assert kind["answers_schema"]["additionalProperties"] is False
    version = requests.get(f"{api}/data-request-kinds/vsaa-benefits/versions/{kind['version']}", timeout=10)
    assert version.status_code == 200 and version.json() == kind
    assert requests.get(f"{api}/data-request-kinds/no-such-kind", timeout=10).status_code == 404
    assert requests.get(f"{api}/data-request-kinds/vsaa-benefits/versions/99", timeout=10).status_code == 404


# --- asking and answering a kind --------------------------------------------------------------------------------


def test_a_kind_is_asked_and_answered_with_its_form_and_the_answer_joins_the_case(applications_api: str) -> None:
    api = applications_api
    case_id, person = new_case(api)  # at NVA's step
    asked = ask(api, NVA_WORKER, case_id, kind="vsaa-benefits", text="Vai saņem arī slimības pabalstu?")
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert (request["kind"], request["to_institution"], request["form_version"]) == ("vsaa-benefits", "vsaa", 1)
    assert request["case"] == case_id and request["status"] == "open" and request["subject"] == person["sub"]
    assert request["answers"] is None and request["text"] == "Vai saņem arī slimības pabalstu?"

    # VSAA sees the kind and whom it is about, but not the case.
    seen = [r for r in incoming(api, VSAA_WORKER) if r["id"] == request["id"]]
    assert seen and seen[0]["case"] is None and seen[0]["kind"] == "vsaa-benefits"
    assert case(api, VSAA_WORKER, case_id).status_code == 404
    assert of_case(api, VSAA_WORKER, case_id).status_code == 404

    # Every refusal says what is wrong and leaves the request open and unanswered.
    rid = request["id"]
    extra = answer(api, VSAA_WORKER, rid, {"answers": BENEFITS | {"pension_fund": "yes"}})
    assert errors_of(extra) == {"#/answers/pension_fund": "unknown"}
    hidden = answer(api, VSAA_WORKER, rid, {"answers": {"receives": False, "benefits": ["sickness"]}})
    assert errors_of(hidden) == {"#/answers/benefits": "hidden"}
    invalid = answer(api, VSAA_WORKER, rid, {"answers": BENEFITS | {"monthly_amount": "daudz", "benefits": ["x"]}})
    assert errors_of(invalid) == {"#/answers/monthly_amount": "money.invalid", "#/answers/benefits": "not_an_option"}
    assert errors_of(answer(api, VSAA_WORKER, rid, {"answers": {}})) == {"#/answers/receives": "required"}
    assert errors_of(answer(api, VSAA_WORKER, rid, {"answers": BENEFITS, "text": "Jā"})) == {
        "#/text": "A request of a kind is answered with `answers` only."
    }
    assert errors_of(answer(api, VSAA_WORKER, rid, {"text": "Jā"})) == {
        "#/answers": "Answer with the kind's answer form (`answers`)."
    }
    assert errors_of(answer(api, VSAA_WORKER, rid, {"answers": BENEFITS, "status": "answered"})) == {
        "#/status": "not_allowed"
    }
    assert answer(api, NVA_WORKER, rid, {"answers": BENEFITS}).status_code == 403  # the asker never answers
    assert answer(api, PMLP_WORKER, rid, {"answers": BENEFITS}).status_code == 404  # nor does a stranger
    still = one(api, VSAA_WORKER, rid)
    assert (still["status"], still["answers"], still["answered_at"]) == ("open", None, None)

    answered = answer(api, VSAA_WORKER, rid, {"answers": BENEFITS | {"note": "  "}})  # a blank answer is no answer
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "answered" and answered.json()["answers"] == BENEFITS
    assert answered.json()["answered_by"] == "Vita Sauliete" and answered.json()["answer"] is None
    assert answer(api, VSAA_WORKER, rid, {"answers": BENEFITS}).status_code == 409

    # The asking institution reads the answer from the case; the audit trail has the question and the answers.
    listed = of_case(api, NVA_WORKER, case_id)
    assert listed.status_code == 200
    assert [(r["kind"], r["answers"], r["answered_by"]) for r in listed.json()["items"]] == [
        ("vsaa-benefits", BENEFITS, "Vita Sauliete")
    ]
    timeline = case(api, NVA_WORKER, case_id).json()["timeline"]
    events = [e for e in timeline if e["kind"].startswith("data_")]
    assert [(e["kind"], e["institution"], e["form"]) for e in events] == [
        ("data_request", "nva", "vsaa-benefits"),
        ("data_answer", "vsaa", "vsaa-benefits"),
    ]
    assert events[0]["text"] == "vsaa: Vai persona saņem VSAA pabalstu vai pensiju?\nVai saņem arī slimības pabalstu?"
    assert events[1]["answers"] == BENEFITS and events[1]["form_version"] == 1
    # The applicant is not involved: their application shows nothing of it.
    mine = requests.get(f"{api}/me/applications/{case_id}", headers=who(person), timeout=10).json()
    assert "412.50" not in str(mine) and "vsaa-benefits" not in str(mine)


def test_requests_the_asker_may_not_send_are_refused_clearly(applications_api: str) -> None:
    api = applications_api
    case_id, _ = new_case(api)  # at NVA's step
    assert errors_of(ask(api, NVA_WORKER, case_id, kind="no-such-kind")) == {
        "#/kind": "There is no data request kind 'no-such-kind'."
    }
    own = ask(api, NVA_WORKER, case_id, kind="nva-status")  # NVA answers it itself
    assert errors_of(own) == {"#/kind": "Your institution answers this kind of request itself."}
    not_for_nva = ask(api, NVA_WORKER, case_id, kind="vid-tax-debts")  # only those the tax secret allows
    assert not_for_nva.status_code == 403 and not_for_nva.headers["Content-Type"] == "application/problem+json"
    assert not_for_nva.json()["errors"] == [
        {"pointer": "#/kind", "detail": "Your institution may not ask requests of the kind 'vid-tax-debts'."}
    ]
    elsewhere = ask(api, NVA_WORKER, case_id, "pmlp", kind="vsaa-benefits")
    assert errors_of(elsewhere) == {"#/to_institution": "A request of the kind 'vsaa-benefits' goes to 'vsaa'."}
    assert ask(api, NVA_WORKER, case_id, kind="vsaa-benefits", text="x" * 5001).status_code == 422
    assert errors_of(ask(api, NVA_WORKER, case_id, kind=5)) == {"#/kind": "type"}
    assert errors_of(ask(api, NVA_WORKER, case_id, kind="vsaa-benefits", answers={})) == {"#/answers": "not_allowed"}
    # Tenancy: only the institution at the case's current step asks.
    assert ask(api, VSAA_WORKER, case_id, kind="pmlp-residence").status_code == 404
    assert ask(api, RIGA_WORKER, case_id, kind="pmlp-residence").status_code == 404
    assert of_case(api, NVA_WORKER, case_id).json()["items"] == []  # nothing was sent

    # At VSAA's step, VSAA may ask NVA about the status (NVA's kind lists VSAA among those who ask).
    approved = decide(
        api,
        NVA_WORKER,
        case_id,
        {"step": "nva-status", "outcome": "approve", "answers": step_answers(api, "nva-status")},
    )
    assert approved.status_code == 201, approved.text
    assert ask(api, NVA_WORKER, case_id, kind="vsaa-benefits").status_code == 409  # no longer NVA's step
    asked = ask(api, VSAA_WORKER, case_id, kind="nva-status")
    assert asked.status_code == 201 and asked.json()["to_institution"] == "nva" and asked.json()["text"] == ""
    status = {"status": "unemployed", "registered_since": (date.today() - timedelta(days=20)).isoformat()}
    future = {"status": "unemployed", "registered_since": (date.today() + timedelta(days=2)).isoformat()}
    assert errors_of(answer(api, NVA_WORKER, asked.json()["id"], {"answers": future})) == {
        "#/answers/registered_since": "date.future"
    }
    assert answer(api, NVA_WORKER, asked.json()["id"], {"answers": status}).status_code == 200
    # Both institutions working on the case see what was asked from it.
    for worker in (NVA_WORKER, VSAA_WORKER):
        assert [r["kind"] for r in of_case(api, worker, case_id).json()["items"]] == ["nva-status"]


# --- free-text questions -----------------------------------------------------------------------------------------


def test_a_free_text_question_is_still_possible(applications_api: str) -> None:
    api = applications_api
    case_id, person = new_case(api)  # at NVA's step
    asked = ask(api, NVA_WORKER, case_id, "vsaa", "Vai persona saņem pabalstu?")
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert request["kind"] is None and request["form_version"] is None and request["subject"] == person["sub"]
    seen = [r for r in incoming(api, VSAA_WORKER) if r["id"] == request["id"]]
    assert seen and seen[0]["case"] is None and seen[0]["text"] == "Vai persona saņem pabalstu?"
    assert not [r for r in incoming(api, PMLP_WORKER) if r["id"] == request["id"]]
    other = requests.get(f"{api}/staff/data-requests/{request['id']}", headers=who(PMLP_WORKER), timeout=10)
    assert other.status_code == 404

    assert answer(api, NVA_WORKER, request["id"], {"text": "Jā"}).status_code == 403
    assert errors_of(answer(api, VSAA_WORKER, request["id"], {"answers": {"receives": True}})) == {
        "#/answers": "A free-text question is answered with `text`."
    }
    assert errors_of(answer(api, VSAA_WORKER, request["id"], {"text": "  "}))["#/text"].startswith("Write the answer")
    answered = answer(api, VSAA_WORKER, request["id"], {"text": "Nē, pabalstu nesaņem."})
    assert answered.status_code == 200 and answered.json()["answer"] == "Nē, pabalstu nesaņem."
    assert answer(api, VSAA_WORKER, request["id"], {"text": "Jā"}).status_code == 409

    timeline = case(api, NVA_WORKER, case_id).json()["timeline"]
    events = [(e["kind"], e["institution"], e["text"]) for e in timeline if e["kind"].startswith("data_")]
    assert events == [
        ("data_request", "nva", "vsaa: Vai persona saņem pabalstu?"),
        ("data_answer", "vsaa", "Nē, pabalstu nesaņem."),
    ]
    outgoing = incoming(api, NVA_WORKER, direction="outgoing")
    assert any(r["id"] == request["id"] and r["answer"] == "Nē, pabalstu nesaņem." for r in outgoing)
    mine = requests.get(f"{api}/me/applications/{case_id}", headers=who(person), timeout=10).json()
    assert "pabalstu" not in str(mine)


def test_a_free_text_question_needs_an_institution_and_a_question(applications_api: str) -> None:
    api = applications_api
    case_id, _ = new_case(api)
    assert errors_of(ask(api, NVA_WORKER, case_id, "nva", "Jautājums")) == {
        "#/to_institution": "Ask another institution that the registry knows."
    }
    assert ask(api, NVA_WORKER, case_id, "no-such-institution", "Jautājums").status_code == 422
    assert ask(api, NVA_WORKER, case_id, text="Jautājums").status_code == 422
    assert errors_of(ask(api, NVA_WORKER, case_id, "vsaa", "   "))["#/text"].startswith("Write the question")
    assert ask(api, RIGA_WORKER, case_id, "vsaa", "Jautājums").status_code == 404


# --- machine to machine ------------------------------------------------------------------------------------------


def test_an_institution_system_answers_a_kind_with_its_token(
    applications_api: str, applications_registry: RegistryProcess
) -> None:
    api = applications_api
    case_id, person = new_case(api)
    request_id = ask(api, NVA_WORKER, case_id, kind="pmlp-residence").json()["id"]
    token = applications_registry.cli("create-token", "pmlp", "--label", "PMLP sistēma").strip()
    bearer = {"Authorization": f"Bearer {token}"}
    listed = requests.get(f"{api}/institution/data-requests", params={"status": "open"}, headers=bearer, timeout=10)
    assert listed.status_code == 200
    found = next(r for r in listed.json()["items"] if r["id"] == request_id)
    assert found["case"] is None and found["subject"] == person["sub"]
    # The system reads the answer form of the version the request was asked with, and answers it.
    kind = requests.get(f"{api}/data-request-kinds/{found['kind']}/versions/{found['form_version']}", timeout=10).json()
    assert set(kind["answers_schema"]["properties"]) == {"declared", "address", "declared_since", "note"}
    url = f"{api}/institution/data-requests/{request_id}/answer"
    residence = {
        "declared": True,
        "address": {"street": "Brīvības iela 1-5", "city": "Rīga", "postal_code": "1050"},
        "declared_since": "2019-05-01",
    }
    wrong = requests.post(url, json={"answers": residence | {"street": "x"}}, headers=bearer, timeout=10)
    assert errors_of(wrong) == {"#/answers/street": "unknown"}
    partial = requests.post(url, json={"answers": {"declared": True}}, headers=bearer, timeout=10)
    assert errors_of(partial) == {"#/answers/address": "required", "#/answers/declared_since": "required"}
    assert (
        requests.get(f"{api}/institution/data-requests/{request_id}", headers=bearer, timeout=10).json()["status"]
        == "open"
    )
    answered = requests.post(url, json={"answers": residence}, headers=bearer, timeout=10)
    assert answered.status_code == 200, answered.text
    assert answered.json()["answered_by"] == "pmlp (sistēma)"
    assert answered.json()["answers"]["address"]["postal_code"] == "LV-1050"  # stored in canonical form
    assert requests.post(url, json={"answers": residence}, headers=bearer, timeout=10).status_code == 409

    vsaa = {"Authorization": f"Bearer {applications_registry.cli('create-token', 'vsaa').strip()}"}
    assert requests.post(url, json={"answers": residence}, headers=vsaa, timeout=10).status_code == 404
    assert requests.get(f"{api}/institution/data-requests/{request_id}", headers=vsaa, timeout=10).status_code == 404
    assert requests.get(f"{api}/institution/data-requests", timeout=10).status_code == 401
    wrong_token = {"Authorization": "Bearer not-a-token"}
    assert requests.get(f"{api}/institution/data-requests", headers=wrong_token, timeout=10).status_code == 401
    assert [r["answers"]["declared"] for r in of_case(api, NVA_WORKER, case_id).json()["items"]] == [True]


def test_two_answers_sent_at_once_make_one_answer(applications_api: str) -> None:
    """The request is answered by a guarded update: of simultaneous answers one wins, the others get 409."""
    from concurrent.futures import ThreadPoolExecutor

    api = applications_api
    case_id, _person = new_case(api)
    rid = ask(api, NVA_WORKER, case_id, kind="vsaa-benefits").json()["id"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = sorted(
            pool.map(lambda _: answer(api, VSAA_WORKER, rid, {"answers": BENEFITS}).status_code, range(4))
        )
    assert statuses.count(409) == 3 and len([s for s in statuses if s < 300]) == 1, statuses
    trail = case(api, NVA_WORKER, case_id).json()["timeline"]
    assert sum(event["kind"] == "data_answer" for event in trail) == 1
