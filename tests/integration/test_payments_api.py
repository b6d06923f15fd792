"""Payments of state fees against a real registry: held out of the queue until paid, and the provider's callback
(signed, fresh, idempotent, never contradicted after "paid")."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import pytest
import requests

from registry.config import Config
from tests.fixtures.applications import (
    BUSINESS_SERVICE,
    REP,
    REP_OTHER_COMPANY,
    REP_SAME_COMPANY,
    form_of,
    submit,
    valid_answers,
    who,
)

pytestmark = pytest.mark.integration

# The test registries run with the registry's development default (tests/fixtures/registry_server.py).
SECRET = Config.PAYMENT_SECRET
UR_WORKER = {
    "sub": "010190-12349",
    "name": "Uldis Reinis",
    "kind": "employee",
    "acr": "high",
    "company": None,
    "company_name": None,
    "institution": "ur",
    "roles": ["case_worker", "decision_maker"],
}


def apply(api: str, **changes: Any) -> str:
    """The company representative applies to register a company; return the application id."""
    version, definition = form_of(api, BUSINESS_SERVICE)
    answers = valid_answers(definition, REP, api) | changes
    body = {"service": BUSINESS_SERVICE, "form": "application", "form_version": version, "answers": answers}
    response = submit(api, REP, body)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "awaiting_payment"
    return str(response.json()["id"])


def payments(api: str, application_id: str, claims: dict[str, Any] = REP) -> requests.Response:
    return requests.get(f"{api}/me/applications/{application_id}/payments", headers=who(claims), timeout=10)


def queue_ids(api: str) -> list[str]:
    response = requests.get(f"{api}/staff/cases", params={"per_page": "100"}, headers=who(UR_WORKER), timeout=10)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def callback(
    api: str,
    payment_id: str,
    status: str = "paid",
    *,
    reference: str = "DEMO-1",
    at: int | None = None,
    secret: str = SECRET,
    raw: bytes | None = None,
) -> requests.Response:
    body = (
        raw
        or json.dumps(
            {
                "payment_id": payment_id,
                "status": status,
                "provider_reference": reference,
                "nonce": uuid.uuid4().hex,
                "timestamp": int(time.time()) if at is None else at,
            }
        ).encode()
    )
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Payment-Signature": signature}
    return requests.post(f"{api}/payments/callback", data=body, headers=headers, timeout=10)


def status_of(api: str, application_id: str) -> str:
    response = requests.get(f"{api}/me/applications/{application_id}", headers=who(REP), timeout=10)
    assert response.status_code == 200
    return str(response.json()["status"])


def test_a_fee_due_before_processing_holds_the_case_until_paid(applications_api: str) -> None:
    api = applications_api
    application_id = apply(api)
    listed = payments(api, application_id)
    assert listed.status_code == 200 and listed.headers["Cache-Control"] == "no-store"
    (payment,) = listed.json()["items"]
    assert payment["amount"] == "150.00" and payment["currency"] == "EUR" and payment["status"] == "pending"
    assert payment["purpose"]["lv"] == "Valsts nodeva: SIA" and payment["provider"] == "demo"
    assert application_id not in queue_ids(api)
    assert requests.get(f"{api}/staff/cases/{application_id}", headers=who(UR_WORKER), timeout=10).status_code == 404

    started = requests.post(
        f"{api}/me/applications/{application_id}/payments/{payment['id']}/start", headers=who(REP), timeout=10
    )
    assert started.status_code == 200, started.text
    assert started.json()["redirect_url"].startswith("demo-bank/pay?state=")

    paid = callback(api, payment["id"])
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid" and paid.json()["application_status"] == "submitted"
    assert status_of(api, application_id) == "submitted"
    assert application_id in queue_ids(api)
    opened = requests.get(f"{api}/staff/cases/{application_id}", headers=who(UR_WORKER), timeout=10).json()
    assert opened["step"]["id"] == "notary-decision" and opened["due_at"] is not None
    assert [p["status"] for p in opened["payments"]] == ["paid"]

    # A replay changes nothing; a contradicting result after "paid" is refused; a paid fee is not started again.
    again = callback(api, payment["id"])
    assert again.status_code == 200 and again.json()["status"] == "paid"
    assert callback(api, payment["id"], "failed").status_code == 409
    assert callback(api, payment["id"], "paid", reference="DEMO-2").status_code == 409
    restarted = requests.post(
        f"{api}/me/applications/{application_id}/payments/{payment['id']}/start", headers=who(REP), timeout=10
    )
    assert restarted.status_code == 409
    assert payments(api, application_id).json()["items"][0]["provider_reference"] == "DEMO-1"
    # The applicant is told once that the fee arrived (the replayed callback said nothing again).
    inbox = requests.get(f"{api}/me/messages", params={"per_page": "100"}, headers=who(REP), timeout=10).json()
    told = [m for m in inbox["items"] if m["application_id"] == application_id and m["kind"] == "payment"]
    assert len(told) == 1 and "150.00 EUR" in told[0]["body"]["lv"] and "saņemts" in told[0]["subject"]["lv"]


def test_the_amount_follows_the_answers(applications_api: str) -> None:
    api = applications_api
    small = apply(api, legal_form="small_capital_sia", urgent_processing=True)
    (payment,) = payments(api, small).json()["items"]
    assert payment["amount"] == "60.00"
    assert "1 darba dienā" in payment["purpose"]["lv"]


def test_forged_stale_and_malformed_callbacks_are_refused(applications_api: str) -> None:
    api = applications_api
    application_id = apply(api)
    payment_id = payments(api, application_id).json()["items"][0]["id"]
    assert callback(api, payment_id, secret="not-the-secret").status_code == 401
    unsigned = requests.post(f"{api}/payments/callback", json={"payment_id": payment_id}, timeout=10)
    assert unsigned.status_code == 401
    assert callback(api, payment_id, at=int(time.time()) - 6 * 60).status_code == 400
    assert callback(api, payment_id, at=int(time.time()) + 6 * 60).status_code == 400
    assert callback(api, payment_id, raw=b"{not json").status_code == 400
    assert callback(api, payment_id, "refunded").status_code == 400
    assert callback(api, uuid.uuid4().hex).status_code == 404
    assert status_of(api, application_id) == "awaiting_payment"
    assert application_id not in queue_ids(api)


def test_a_failed_or_cancelled_payment_can_be_tried_again(applications_api: str) -> None:
    api = applications_api
    application_id = apply(api)
    payment_id = payments(api, application_id).json()["items"][0]["id"]
    cancelled = callback(api, payment_id, "cancelled", reference="DEMO-C")
    assert cancelled.status_code == 200 and cancelled.json()["application_status"] == "awaiting_payment"
    assert callback(api, payment_id, "cancelled", reference="DEMO-C").status_code == 200  # a replay
    start = f"{api}/me/applications/{application_id}/payments/{payment_id}/start"
    assert requests.post(start, headers=who(REP), timeout=10).status_code == 200
    assert payments(api, application_id).json()["items"][0]["status"] == "pending"
    assert callback(api, payment_id, "paid", reference="DEMO-P").status_code == 200
    assert status_of(api, application_id) == "submitted"


def test_payments_are_only_the_principals(applications_api: str) -> None:
    api = applications_api
    application_id = apply(api)
    payment_id = payments(api, application_id).json()["items"][0]["id"]
    assert payments(api, application_id, REP_SAME_COMPANY).status_code == 200  # the same company's
    assert payments(api, application_id, REP_OTHER_COMPANY).status_code == 404
    start = f"{api}/me/applications/{application_id}/payments/{payment_id}/start"
    assert requests.post(start, headers=who(REP_OTHER_COMPANY), timeout=10).status_code == 404
    assert requests.post(start, timeout=10).status_code == 401
    other_payment = f"{api}/me/applications/{application_id}/payments/{uuid.uuid4().hex}/start"
    assert requests.post(other_payment, headers=who(REP), timeout=10).status_code == 404


def test_a_waiting_application_can_be_withdrawn(applications_api: str) -> None:
    api = applications_api
    application_id = apply(api)
    withdrawn = requests.post(f"{api}/me/applications/{application_id}/withdraw", headers=who(REP), timeout=10)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    payment_id = payments(api, application_id).json()["items"][0]["id"]
    start = f"{api}/me/applications/{application_id}/payments/{payment_id}/start"
    assert requests.post(start, headers=who(REP), timeout=10).status_code == 409
