"""Payments: which fees the answers owe (applies_if), the signed callback and the signed provider state."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from itsdangerous import URLSafeTimedSerializer
from werkzeug.exceptions import HTTPException

from app import create_app
from app.config import TestConfig
from app.models import payments_api
from app.registry_client.payments import callback_body, sign_callback
from registry.catalogue.schema import schema_problems
from registry.models.payments import (
    STATE_SALT,
    amount_due,
    cents,
    charge_after_decision,
    due_costs,
    read_payment_state,
)

SEED = Path(__file__).resolve().parents[2] / "registry" / "seed" / "services" / "komersanta-registracija.yaml"


@pytest.fixture(scope="module")
def company() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    return document


@pytest.mark.parametrize(
    ("legal_form", "urgent", "expected"),
    [
        ("sia", False, 15000),
        ("small_capital_sia", False, 2000),
        ("sia", True, 45000),  # three times the fee
        ("small_capital_sia", True, 6000),
    ],
)
def test_the_fee_follows_the_answers(company: dict[str, Any], legal_form: str, urgent: bool, expected: int) -> None:
    due = amount_due(company, {"legal_form": legal_form, "urgent_processing": urgent}, "before_processing")
    assert due is not None
    assert due.amount_cents == expected and due.currency == "EUR"
    assert len(due_costs(company, {"legal_form": legal_form, "urgent_processing": urgent}, "before_processing")) == 1


def test_nothing_is_due_when_no_cost_applies(company: dict[str, Any]) -> None:
    assert amount_due(company, {"legal_form": "ik", "urgent_processing": False}, "before_processing") is None
    assert amount_due(company, {}, "before_processing") is None  # unanswered equals nothing
    assert amount_due(company, {"legal_form": "sia", "urgent_processing": False}, "after_decision") is None
    with pytest.raises(ValueError, match="when"):
        due_costs(company, {}, "whenever")


def test_costs_without_payment_data_are_never_charged_online() -> None:
    service = {"costs": [{"amount": 10, "currency": "EUR", "description": {"lv": "a", "en": "a"}}]}
    assert amount_due(service, {}, "before_processing") is None


def test_costs_that_apply_add_up_with_both_purposes() -> None:
    online = {"when": "after_decision", "online": True}
    service = {
        "costs": [
            {"amount": 12.5, "currency": "EUR", "description": {"lv": "Nodeva", "en": "Fee"}, "payment": online},
            {
                "amount": 0.1,
                "currency": "EUR",
                "description": {"lv": "Publikācija", "en": "Publication"},
                "payment": online,
                "applies_if": {
                    "any": [{"question": "count", "greater_than": 2}, {"not": {"question": "x", "equals": 1}}]
                },
            },
            {
                "amount": 99,
                "currency": "EUR",
                "description": {"lv": "Cits", "en": "Other"},
                "payment": {"when": "after_decision", "online": False},
            },
        ]
    }
    due = amount_due(service, {"count": 1, "x": 1}, "after_decision")
    assert due is not None and due.amount_cents == 1250 and due.purpose == {"lv": "Nodeva", "en": "Fee"}
    due = amount_due(service, {"count": 3, "x": 1}, "after_decision")
    assert due is not None and due.amount_cents == 1260
    assert due.purpose == {"lv": "Nodeva; Publikācija", "en": "Fee; Publication"}
    assert cents(0.1) + cents(0.2) == 30 and cents("19.995") == 2000


def test_the_catalogue_schema_accepts_payment_data_and_refuses_nonsense(company: dict[str, Any]) -> None:
    assert schema_problems("Service", company) == []
    broken = {**company, "costs": [{**company["costs"][0], "payment": {"when": "someday", "online": True}}]}
    assert [p.pointer for p in schema_problems("Service", broken)] == ["#/costs/0/payment/when"]
    broken = {**company, "costs": [{**company["costs"][0], "applies_if": {"question": "a", "like": "b"}}]}
    assert schema_problems("Service", broken)
    plain = {**company, "costs": [{"amount": 1, "currency": "EUR", "description": {"lv": "a", "en": "a"}}]}
    assert schema_problems("Service", plain) == []  # both new fields are optional


def test_a_callback_is_signed_over_its_exact_bytes() -> None:
    body = callback_body("a" * 32, "paid", "DEMO-1", now=1_800_000_000)
    fields = json.loads(body)
    assert fields["timestamp"] == 1_800_000_000 and len(fields["nonce"]) == 32
    assert set(fields) == {"payment_id", "status", "provider_reference", "nonce", "timestamp"}
    assert sign_callback("secret", body) == hmac.new(b"secret", body, hashlib.sha256).hexdigest()
    assert sign_callback("other", body) != sign_callback("secret", body)
    assert callback_body("a" * 32, "paid", "DEMO-1") != body  # a fresh nonce every time
    with pytest.raises(ValueError, match="result"):
        callback_body("a" * 32, "refunded", "DEMO-1")


def test_the_provider_state_is_signed_and_expires() -> None:
    secret = TestConfig.PAYMENT_SECRET
    state = URLSafeTimedSerializer(secret, salt=STATE_SALT).dumps({"payment_id": "p", "amount": "150.00"})
    assert read_payment_state(secret, state) == {"payment_id": "p", "amount": "150.00"}
    assert read_payment_state("another-secret", state) is None
    assert read_payment_state(secret, state + "x") is None
    assert read_payment_state(secret, state, max_age=-1) is None
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}})
    with app.test_request_context("/lv/"):
        found = payments_api.read_state(state)
        assert found is not None and found.payment_id == "p" and str(found.amount) == "150.00"
        forged = URLSafeTimedSerializer("not-the-secret", salt=STATE_SALT).dumps({"payment_id": "p"})
        assert payments_api.read_state(forged) is None


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,x", "//evil.example/pay", "/\\evil", "http://x/"]
)
def test_only_safe_provider_urls_are_followed(url: str) -> None:
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}})
    with app.test_request_context("/en/"), pytest.raises(HTTPException):
        payments_api.provider_url(url)


def test_the_demo_bank_and_https_providers_are_followed() -> None:
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}})
    with app.test_request_context("/en/my/applications"):
        app.preprocess_request()  # resolves the language of the path
        assert payments_api.provider_url("demo-bank/pay?state=abc") == "/en/demo-bank/pay?state=abc"
        assert payments_api.provider_url("https://bank.example/pay?s=1") == "https://bank.example/pay?s=1"


class _Session:
    """Just enough of a session to see what is added."""

    def __init__(self) -> None:
        self.added: list[Any] = []

    def add(self, row: Any) -> None:
        self.added.append(row)


def test_an_approval_charges_the_fees_due_after_the_decision() -> None:
    online = {"when": "after_decision", "online": True}
    fee = {"amount": 7.11, "currency": "EUR", "description": {"lv": "Izziņa", "en": "Certificate"}, "payment": online}
    application = SimpleNamespace(id="b" * 32, answers={}, service=SimpleNamespace(document={"costs": [fee]}))
    session = _Session()
    payment = charge_after_decision(session, application)  # type: ignore[arg-type]
    assert payment is not None and session.added == [payment]
    assert (payment.amount_cents, payment.status, payment.application_id) == (711, "pending", "b" * 32)
    nothing = SimpleNamespace(id="c" * 32, answers={}, service=SimpleNamespace(document={"costs": []}))
    assert charge_after_decision(_Session(), nothing) is None  # type: ignore[arg-type]
