"""Payments of state fees through the registry, and the demonstration bank that plays the payment provider.

The registry decides what is due and when (docs/processing.md, Payments); the portal shows it, sends the person to
the provider's page the registry names, and, as the demonstration bank (DEMO_PAYMENTS, never in production), reads
the signed state it is opened with and reports the result to the registry with a signed callback.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urljoin, urlsplit

from flask import abort, current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.auth.session import identity_token
from app.i18n import current_lang
from app.registry_client.errors import RegistryNotFound
from app.registry_client.payments import RESULTS, PaymentsClient

# The registry signs the provider's state with this salt (registry/models/payments.py) and the shared secret.
STATE_SALT = "payment-state"
STATE_MAX_AGE_SECONDS = 15 * 60
PAYABLE = ("pending", "failed", "cancelled")


def _client() -> PaymentsClient:
    client: PaymentsClient = current_app.extensions["payments_client"]
    return client


def _text(value: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _amount(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)


@dataclass(frozen=True)
class Payment:
    """A state fee of an application and where its payment stands."""

    id: str
    amount: Decimal
    currency: str
    purpose: dict[str, str]
    status: str  # pending | paid | failed | cancelled
    provider: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Payment:
        """Wrap one payment of the registry's answer."""
        return cls(
            id=str(data.get("id", "")),
            amount=_amount(data.get("amount")),
            currency=str(data.get("currency") or "EUR"),
            purpose=_text(data.get("purpose")),
            status=str(data.get("status", "")),
            provider=str(data.get("provider", "")),
        )

    @property
    def is_payable(self) -> bool:
        """Whether the person can (still) pay it: not started, failed or cancelled."""
        return self.status in PAYABLE


def for_application(application_id: str) -> list[Payment]:
    """Return the payments of one of the person's applications, oldest first (404 if it is not theirs)."""
    try:
        data = _client().list_payments(identity_token(), application_id)
    except RegistryNotFound:
        abort(404)
    items = data.get("items")
    return [Payment.from_json(item) for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def provider_url(redirect_url: str) -> str:
    """Return where to send the person: the registry's provider URL, a relative one under the portal's language.

    Only an https URL or a path of this portal: never `javascript:`, `data:` or a protocol-relative `//host`.
    """
    parts = urlsplit(redirect_url)
    if parts.scheme == "https" and parts.netloc:
        return redirect_url
    if parts.scheme or parts.netloc or redirect_url.startswith(("/", "\\")) or "\\" in redirect_url:
        abort(502)
    return urljoin(f"/{current_lang()}/", redirect_url)


def start(application_id: str, payment_id: str) -> str:
    """Send a payment to the provider; return the URL to redirect the person to (404 if it is not theirs)."""
    try:
        answer = _client().start_payment(identity_token(), application_id, payment_id)
    except RegistryNotFound:
        abort(404)
    return provider_url(str(answer.get("redirect_url", "")))


# --- the demonstration bank ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoPayment:
    """What the demonstration bank is asked to pay, from the registry's signed state."""

    payment_id: str
    application_id: str
    reference: str
    amount: Decimal
    currency: str
    purpose: dict[str, str]
    payee: dict[str, str]


def read_state(state: str) -> DemoPayment | None:
    """Return the payment a state signed by the registry names, or None if it is forged, broken or expired."""
    serializer = URLSafeTimedSerializer(current_app.config["PAYMENT_SECRET"], salt=STATE_SALT)
    try:
        data = serializer.loads(state, max_age=STATE_MAX_AGE_SECONDS)
    except BadSignature:  # SignatureExpired is one too
        return None
    if not isinstance(data, dict):
        return None
    return DemoPayment(
        payment_id=str(data.get("payment_id", "")),
        application_id=str(data.get("application_id", "")),
        reference=str(data.get("reference", "")),
        amount=_amount(data.get("amount")),
        currency=str(data.get("currency") or "EUR"),
        purpose=_text(data.get("purpose")),
        payee=_text(data.get("payee")),
    )


def report(payment: DemoPayment, result: str) -> str:
    """Tell the registry the demonstration bank's result (paid, failed, cancelled); return the payment's status."""
    if result not in RESULTS:
        abort(400)
    reference = f"DEMO-{secrets.token_hex(6).upper()}"
    answer = _client().send_callback(current_app.config["PAYMENT_SECRET"], payment.payment_id, result, reference)
    return str(answer.get("status", ""))
