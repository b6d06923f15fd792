"""Level 5 against a real registry: an institution asks another about a case's applicant, without the client;
employees and institution systems (institution tokens) answer; the answer joins the case's audit trail."""

from __future__ import annotations

import pytest
import requests

from tests.fixtures.applications import who
from tests.fixtures.registry_server import RegistryProcess
from tests.integration.test_cases_api import NVA_WORKER, PMLP_WORKER, VSAA_WORKER, case, employee, new_case

pytestmark = pytest.mark.integration

RIGA_WORKER = employee("riga-municipality", "case_worker", sub="161175-19997", name="Rita Rīga")


def ask(
    api: str, who_: dict[str, object], case_id: str, to: str, text: str = "Vai persona saņem pabalstu?"
) -> requests.Response:
    body = {"to_institution": to, "text": text}
    return requests.post(f"{api}/staff/cases/{case_id}/data-requests", json=body, headers=who(who_), timeout=10)


def incoming(api: str, who_: dict[str, object], **params: str) -> list[dict[str, object]]:
    response = requests.get(f"{api}/staff/data-requests", params=params, headers=who(who_), timeout=10)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_an_institution_asks_another_and_the_answer_joins_the_case(applications_api: str) -> None:
    api = applications_api
    case_id, person = new_case(api)  # at NVA's step
    asked = ask(api, NVA_WORKER, case_id, "vsaa")
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert request["case"] == case_id and request["status"] == "open" and request["subject"] == person["sub"]

    # VSAA sees the question and whom it is about, but not the case itself.
    seen = [r for r in incoming(api, VSAA_WORKER) if r["id"] == request["id"]]
    assert seen and seen[0]["case"] is None and seen[0]["text"] == "Vai persona saņem pabalstu?"
    assert case(api, VSAA_WORKER, case_id).status_code == 404
    assert not [r for r in incoming(api, PMLP_WORKER) if r["id"] == request["id"]]
    other = requests.get(f"{api}/staff/data-requests/{request['id']}", headers=who(PMLP_WORKER), timeout=10)
    assert other.status_code == 404

    # The asking institution cannot answer its own question; the asked one answers once.
    own = requests.post(
        f"{api}/staff/data-requests/{request['id']}/answer", json={"text": "Jā"}, headers=who(NVA_WORKER), timeout=10
    )
    assert own.status_code == 403
    answered = requests.post(
        f"{api}/staff/data-requests/{request['id']}/answer",
        json={"text": "Nē, pabalstu nesaņem."},
        headers=who(VSAA_WORKER),
        timeout=10,
    )
    assert answered.status_code == 200 and answered.json()["status"] == "answered"
    again = requests.post(
        f"{api}/staff/data-requests/{request['id']}/answer", json={"text": "Jā"}, headers=who(VSAA_WORKER), timeout=10
    )
    assert again.status_code == 409

    timeline = case(api, NVA_WORKER, case_id).json()["timeline"]
    kinds = [(e["kind"], e["institution"]) for e in timeline if e["kind"].startswith("data_")]
    assert kinds == [("data_request", "nva"), ("data_answer", "vsaa")]
    assert timeline[-2]["text"] == "Nē, pabalstu nesaņem." or any(
        e["text"] == "Nē, pabalstu nesaņem." for e in timeline
    )
    outgoing = incoming(api, NVA_WORKER, direction="outgoing")
    assert any(r["id"] == request["id"] and r["answer"] == "Nē, pabalstu nesaņem." for r in outgoing)
    # The applicant is not involved: their application shows nothing of it.
    mine = requests.get(f"{api}/me/applications/{case_id}", headers=who(person), timeout=10).json()
    assert "pabalstu" not in str(mine)


def test_only_the_institution_working_on_an_open_case_asks(applications_api: str) -> None:
    api = applications_api
    case_id, _ = new_case(api)
    assert ask(api, VSAA_WORKER, case_id, "pmlp").status_code == 404  # not VSAA's case (yet)
    assert ask(api, NVA_WORKER, case_id, "nva").status_code == 422  # not itself
    assert ask(api, NVA_WORKER, case_id, "no-such-institution").status_code == 422
    assert ask(api, NVA_WORKER, case_id, "vsaa", text="   ").status_code == 422
    assert ask(api, RIGA_WORKER, case_id, "vsaa").status_code == 404


def test_an_institution_system_answers_with_its_token(
    applications_api: str, applications_registry: RegistryProcess
) -> None:
    api = applications_api
    case_id, _ = new_case(api)
    request_id = ask(api, NVA_WORKER, case_id, "vsaa").json()["id"]
    token = applications_registry.cli("create-token", "vsaa", "--label", "VSAA sistēma").strip()
    bearer = {"Authorization": f"Bearer {token}"}
    listed = requests.get(f"{api}/institution/data-requests", params={"status": "open"}, headers=bearer, timeout=10)
    assert listed.status_code == 200 and request_id in [r["id"] for r in listed.json()["items"]]
    answered = requests.post(
        f"{api}/institution/data-requests/{request_id}/answer",
        json={"text": "Saņem kopš 2026-10-01."},
        headers=bearer,
        timeout=10,
    )
    assert answered.status_code == 200 and answered.json()["answered_by"].startswith("vsaa")
    assert requests.get(f"{api}/institution/data-requests", timeout=10).status_code == 401
    wrong = {"Authorization": "Bearer not-a-token"}
    assert requests.get(f"{api}/institution/data-requests", headers=wrong, timeout=10).status_code == 401
