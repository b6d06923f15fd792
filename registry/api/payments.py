"""Payments of state fees: the applicant's payments, sending them to the provider, and the provider's callback.

The applicant's side goes with the signed identity like every `/me` resource (another principal's application is a
404). The callback has no identity: the provider signs its raw body with the shared REGISTRY_PAYMENT_SECRET
(`X-Payment-Signature`, hex HMAC-SHA256); a callback older than five minutes is refused, the same callback again is
answered with the current state and changes nothing, a contradicting one after "paid" is a 409. Every refused
callback is logged (without the body: it is not ours to trust, and a replay could flood the log with it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from typing import Any

from flask import Response, current_app, request

from registry.api import api
from registry.api.applications import own_application
from registry.api.personal import private, resource_id, scrubbed
from registry.api.problems import ApiProblem
from registry.db import db_session
from registry.identity import require_identity
from registry.models.notifications import notify_payment
from registry.models.payments import (
    RESULTS,
    PaymentProblem,
    amount_text,
    apply_result,
    get_payment,
    list_payments,
    payment_document,
    payment_state,
    restart,
)
from registry.models.tables import Application

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Payment-Signature"
# A callback signed longer ago than this (or this far in the future) is refused: it cannot be replayed later.
MAX_CALLBACK_AGE_SECONDS = 5 * 60
_PAYMENT_ID = re.compile(r"[0-9a-f]{32}")
_TOKEN = re.compile(r"[A-Za-z0-9._:-]{1,100}")


@api.get("/me/applications/<application_id>/payments")
@scrubbed
def my_payments(application_id: str) -> Response:
    """List the payments of one of the principal's applications, oldest first."""
    application = own_application(require_identity(), application_id)
    return private({"items": [payment_document(p) for p in list_payments(db_session(), application)]})


@api.post("/me/applications/<application_id>/payments/<payment_id>/start")
@scrubbed
def start_payment(application_id: str, payment_id: str) -> Response:
    """Send a payment that is not paid yet to the provider: the provider's URL with a signed, expiring state."""
    application = own_application(require_identity(), application_id)
    session = db_session()
    payment = get_payment(session, application, resource_id(payment_id, "payment"))
    if payment is None:
        raise ApiProblem(404, "The application has no such payment.")
    if application.status == "withdrawn":
        raise ApiProblem(409, "The application is withdrawn; nothing is to be paid.")
    try:
        restart(session, payment)
    except PaymentProblem as problem:
        session.rollback()
        raise ApiProblem(problem.status, problem.detail) from None
    state = payment_state(session, current_app.config["PAYMENT_SECRET"], application, payment)
    session.commit()
    provider = current_app.config["PAYMENT_PROVIDER_URL"]
    return private({"redirect_url": f"{provider}?state={state}"})


def _refuse(status: int, reason: str, detail: str) -> ApiProblem:
    """Log a refused callback (a fixed reason, never the body) and return the problem to raise."""
    logger.warning("payment callback refused (%d): %s", status, reason)
    return ApiProblem(status, detail)


def _signed_body() -> dict[str, Any]:
    """Return the callback's body if its signature is right and it is fresh; refuse it otherwise."""
    raw = request.get_data(cache=True)
    given = request.headers.get(SIGNATURE_HEADER, "").strip().lower()
    expected = hmac.new(current_app.config["PAYMENT_SECRET"].encode(), raw, hashlib.sha256).hexdigest()
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise _refuse(401, "bad signature", f"The {SIGNATURE_HEADER} is missing or wrong.")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _refuse(400, "not JSON", "The callback body is not valid JSON.") from None
    fields = ("payment_id", "status", "provider_reference", "nonce", "timestamp")
    if not isinstance(body, dict) or set(body) != set(fields):
        raise _refuse(400, "wrong fields", f"The callback has exactly these fields: {', '.join(fields)}.")
    moment = body["timestamp"]
    if isinstance(moment, bool) or not isinstance(moment, int):
        raise _refuse(400, "bad timestamp", "The timestamp is whole seconds since 1970 (UTC).")
    if abs(time.time() - moment) > MAX_CALLBACK_AGE_SECONDS:
        raise _refuse(400, "stale timestamp", "The callback is too old (or from the future); sign a new one.")
    valid = (
        isinstance(body["payment_id"], str)
        and _PAYMENT_ID.fullmatch(body["payment_id"]) is not None
        and body["status"] in RESULTS
        and all(isinstance(body[k], str) and _TOKEN.fullmatch(body[k]) for k in ("provider_reference", "nonce"))
    )
    if not valid:
        raise _refuse(400, "invalid fields", "The callback's fields are not valid.")
    return body


@api.post("/payments/callback")
@scrubbed
def payment_callback() -> Response:
    """Apply the payment provider's signed result: paid, failed or cancelled (idempotent)."""
    body = _signed_body()
    session = db_session()
    try:
        payment, changed = apply_result(session, body["payment_id"], body["status"], body["provider_reference"])
    except PaymentProblem as problem:
        session.rollback()
        raise _refuse(problem.status, f"payment {body['payment_id']}: {problem.detail}", problem.detail) from None
    if changed:
        if payment.status == "paid":
            paid_for = session.get(Application, payment.application_id)
            if paid_for is not None:
                notify_payment(session, paid_for, amount_text(payment.amount_cents))
        session.commit()
    else:
        session.rollback()
        logger.info("payment callback for %s replayed; nothing changed", payment.id)
    application = session.get(Application, payment.application_id)
    status = application.status if application is not None else None
    return private(payment_document(payment) | {"application_status": status})
