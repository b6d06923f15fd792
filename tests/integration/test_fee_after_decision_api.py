"""A fee due after the decision (the Riga permit to trade in public places): the decision is known at once, the
result document (its verification code) only once the fee is paid; a refusal costs nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from tests.fixtures.applications import form_of as application_form
from tests.fixtures.applications import fresh_person, valid_answers, who
from tests.integration.test_cases_api import decide, employee, mine
from tests.integration.test_payments_api import callback

pytestmark = pytest.mark.integration

SERVICE = "tirdzniecibas-atlauja-publiskas-vietas-riga"
FEES = {"one_day": "5.00", "up_to_month": "40.00", "season": "150.00"}
RIGA = employee("riga-municipality", "case_worker", "decision_maker", sub="050580-12344", name="Rita Kalēja")


def step_answers(api: str, step: str) -> dict[str, Any]:
    from datetime import date

    from forms.examples import example_answers
    from forms.loader import load_definition

    body = requests.get(f"{api}/services/{SERVICE}/forms/{step}", timeout=10).json()
    answers = example_answers(load_definition(body["definition"]), today=date.today(), yes=True)
    return {k: v for k, v in answers.items() if k != "declaration"}


def apply(api: str) -> tuple[str, dict[str, Any], str]:
    """A fresh person asks for a permit; return the application id, the person and the fee their answers owe."""
    person = fresh_person()
    version, definition = application_form(api, SERVICE)
    answers = valid_answers(definition, person, api)
    body = {"service": SERVICE, "form": "application", "form_version": version, "answers": answers}
    headers = who(person, **{"Idempotency-Key": uuid.uuid4().hex})
    response = requests.post(f"{api}/applications", json=body, headers=headers, timeout=20)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "submitted"  # nothing is due before processing
    return response.json()["id"], person, FEES[answers["trading_period"]]


def through_the_check(api: str, case_id: str) -> None:
    body = {"step": "trading-check", "outcome": "approve", "answers": step_answers(api, "trading-check")}
    assert decide(api, RIGA, case_id, body).status_code == 201


def payments(api: str, person: dict[str, Any], case_id: str) -> list[dict[str, Any]]:
    response = requests.get(f"{api}/me/applications/{case_id}/payments", headers=who(person), timeout=10)
    assert response.status_code == 200
    return list(response.json()["items"])


def messages(api: str, person: dict[str, Any], case_id: str) -> list[dict[str, Any]]:
    inbox = requests.get(f"{api}/me/messages", params={"per_page": "100"}, headers=who(person), timeout=10).json()
    return [m for m in inbox["items"] if m["application_id"] == case_id]


def test_the_result_document_is_issued_once_the_fee_after_the_decision_is_paid(applications_api: str) -> None:
    api = applications_api
    case_id, person, fee = apply(api)
    assert payments(api, person, case_id) == []  # nothing is owed before the decision
    through_the_check(api, case_id)
    body = {"step": "permit-decision", "outcome": "approve", "answers": step_answers(api, "permit-decision")}
    assert decide(api, RIGA, case_id, body).status_code == 201

    held = mine(api, person, case_id)
    assert held["status"] == "decided" and held["result"] == "approved" and held["decided_at"]
    assert held["decision"]["outcome"] == "approve"
    assert held["verification_code"] is None and held["result_awaits_payment"] is True
    (payment,) = payments(api, person, case_id)
    assert payment["status"] == "pending" and payment["amount"] == fee
    (told,) = [m for m in messages(api, person, case_id) if m["kind"] == "decision"]
    assert f"samaksājiet {fee} EUR" in told["body"]["lv"] and f"pay EUR {fee}" in told["body"]["en"]
    # Staff see the fee on the case too.
    opened = requests.get(f"{api}/staff/cases/{case_id}", headers=who(RIGA), timeout=10).json()
    assert [p["status"] for p in opened["payments"]] == ["pending"]

    failed = callback(api, payment["id"], "failed", reference="DEMO-F")
    assert failed.status_code == 200
    assert mine(api, person, case_id)["verification_code"] is None  # a failed payment issues nothing

    paid = callback(api, payment["id"], "paid", reference="DEMO-P")
    assert paid.status_code == 200 and paid.json()["application_status"] == "decided"
    issued = mine(api, person, case_id)
    assert issued["result_awaits_payment"] is False and issued["verification_code"]
    checked = requests.get(f"{api}/verify/{issued['verification_code']}", timeout=10)
    assert checked.status_code == 200 and checked.json()["reference"] == issued["reference"]
    told = [m for m in messages(api, person, case_id) if m["kind"] == "payment"]
    assert len(told) == 1 and "Rezultāta dokuments" in told[0]["body"]["lv"]

    # A replayed callback issues no second code and says nothing again.
    assert callback(api, payment["id"], "paid", reference="DEMO-P").status_code == 200
    assert mine(api, person, case_id)["verification_code"] == issued["verification_code"]
    assert len([m for m in messages(api, person, case_id) if m["kind"] == "payment"]) == 1


def test_a_refusal_charges_nothing_and_its_result_is_issued_at_once(applications_api: str) -> None:
    api = applications_api
    case_id, person, _fee = apply(api)
    through_the_check(api, case_id)
    refused = {"step": "permit-decision", "outcome": "refuse", "text": "Vieta nav paredzēta tirdzniecībai."}
    assert decide(api, RIGA, case_id, refused).status_code == 201
    decided = mine(api, person, case_id)
    assert decided["result"] == "refused" and decided["verification_code"]
    assert decided["result_awaits_payment"] is False
    assert payments(api, person, case_id) == []
