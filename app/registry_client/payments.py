"""Payments of state fees: the person's payments, sending one to the provider, and the demo provider's callback.

The person's requests carry their identity token like every personal request (never cached, never logged). The
callback is what the demonstration bank (app/views/payments.py) tells the registry as a payment provider would: a
JSON body signed with the secret the registry shares with its provider (`X-Payment-Signature`, hex HMAC-SHA256 of
the exact bytes sent), sent once (a provider repeats a callback by signing it again).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any, Final

from .base import _answer_json, current_request_id
from .catalogue import API
from .errors import RegistryError
from .personal import PersonalClient, resource_id

RESULTS: Final = ("paid", "failed", "cancelled")
SIGNATURE_HEADER: Final = "X-Payment-Signature"


def sign_callback(secret: str, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of `body` with `secret`, as the registry checks it."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def callback_body(payment_id: str, status: str, provider_reference: str, *, now: float | None = None) -> bytes:
    """Return the bytes of a callback: the result, a fresh nonce and the time it is signed at (whole seconds)."""
    if status not in RESULTS:
        raise ValueError(f"a payment result is one of {', '.join(RESULTS)}, not {status!r}")
    body = {
        "payment_id": resource_id(payment_id, "payment"),
        "status": status,
        "provider_reference": provider_reference,
        "nonce": secrets.token_hex(16),
        "timestamp": int(time.time() if now is None else now),
    }
    return json.dumps(body, separators=(",", ":")).encode()


class PaymentsClient(PersonalClient):
    """A person's payments (uncached, with their identity token) and the demonstration provider's callback."""

    def list_payments(self, identity_token: str, application_id: str) -> dict[str, Any]:
        """Return the payments of one of the person's applications: `{items}` (RegistryNotFound if not theirs)."""
        path = f"me/applications/{resource_id(application_id, 'application')}/payments"
        return self._document("GET", path, identity_token)

    def start_payment(self, identity_token: str, application_id: str, payment_id: str) -> dict[str, Any]:
        """Send a payment to the provider: `{redirect_url}` (RegistryConflict once it is paid); sent once."""
        path = (
            f"me/applications/{resource_id(application_id, 'application')}"
            f"/payments/{resource_id(payment_id, 'payment')}/start"
        )
        return self._document("POST", path, identity_token)

    def send_callback(self, secret: str, payment_id: str, status: str, provider_reference: str) -> dict[str, Any]:
        """Tell the registry a payment's result, signed with `secret`: the payment and its application's status."""
        body = callback_body(payment_id, status, provider_reference)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign_callback(secret, body),
            "X-Request-ID": current_request_id(),
        }
        path = API + "payments/callback"
        # The signature covers these exact bytes, so they are sent as they are (send_json would serialise again).
        # Sent once: the registry answers a repeat of the same result without change, but a lost answer is
        # better shown to the person than retried with a new nonce behind their back.
        response = self._send_uncached(
            "POST", path, self.base_url + path, {}, headers, body, retryable=False, keyed=False
        )
        data = _answer_json(response)
        if not isinstance(data, dict):
            raise RegistryError(f"expected a JSON object from POST {path}, got {type(data).__name__}")
        return data
