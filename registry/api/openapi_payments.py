"""The OpenAPI description of payments of state fees: the applicant's payments and the provider's callback."""

from __future__ import annotations

from typing import Any

from registry.api import API_PREFIX
from registry.api.openapi_applications import NO_STORE, NOT_YOURS, RESOURCE_ID, TIMESTAMP, UNIDENTIFIED
from registry.api.openapi_applications import obj as _object
from registry.api.openapi_applications import private as _private
from registry.api.openapi_parts import SERVER_ERROR, problem_response, schema_ref

_AMOUNT = {"type": "string", "pattern": "^(0|[1-9][0-9]*)\\.[0-9]{2}$", "description": 'Euro, e.g. `"150.00"`.'}
_STATUS = {"type": "string", "enum": ["pending", "paid", "failed", "cancelled"]}
_RESULT = {"type": "string", "enum": ["paid", "failed", "cancelled"]}
_TOKEN = {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,100}$"}


def payments_schemas() -> dict[str, Any]:
    """Schemas of payments."""
    payment = {
        "id": RESOURCE_ID,
        "amount": _AMOUNT,
        "currency": {"type": "string", "enum": ["EUR"]},
        "purpose": schema_ref("Text"),
        "status": _STATUS,
        "provider": {"type": "string", "description": "Who takes the payment (`demo`: the portal's demo bank)."},
        "provider_reference": {"type": ["string", "null"]},
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    }
    return {
        "Payment": _object(payment, description="A state fee of an application and where its payment stands."),
        "PaymentList": _object({"items": {"type": "array", "items": schema_ref("Payment")}}),
        "PaymentStart": _object(
            {"redirect_url": {"type": "string", "description": "The provider's page, with a signed state (15 min)."}}
        ),
        "PaymentCallback": _object(
            {
                "payment_id": RESOURCE_ID,
                "status": _RESULT,
                "provider_reference": _TOKEN,
                "nonce": _TOKEN,
                "timestamp": {"type": "integer", "description": "Seconds since 1970 (UTC); at most 5 minutes off."},
            },
            description="The provider's result, signed (X-Payment-Signature) over the raw body.",
        ),
        "PaymentResult": _object(
            payment | {"application_status": {"oneOf": [schema_ref("ApplicationStatus"), {"type": "null"}]}},
            description="The payment after the callback, and the status of its application.",
        ),
    }


def payments_paths() -> dict[str, Any]:
    """The applicant's payments and the provider's callback."""
    p = API_PREFIX
    identity = [{"portalIdentity": []}]
    application_id = {"name": "application_id", "in": "path", "required": True, "schema": RESOURCE_ID}
    payment_id = {"name": "payment_id", "in": "path", "required": True, "schema": RESOURCE_ID}
    return {
        f"{p}/me/applications/{{application_id}}/payments": {
            "get": {
                "operationId": "listMyApplicationPayments",
                "summary": "The payments of one of the principal's applications, oldest first.",
                "security": identity,
                "parameters": [application_id],
                "responses": {
                    "200": _private("PaymentList"),
                    "401": UNIDENTIFIED,
                    "404": NOT_YOURS,
                    "500": SERVER_ERROR,
                },
            }
        },
        f"{p}/me/applications/{{application_id}}/payments/{{payment_id}}/start": {
            "post": {
                "operationId": "startMyApplicationPayment",
                "summary": "Send a payment that is not paid yet to the provider: its URL with a signed state.",
                "security": identity,
                "parameters": [application_id, payment_id],
                "responses": {
                    "200": _private("PaymentStart"),
                    "401": UNIDENTIFIED,
                    "404": NOT_YOURS,
                    "409": problem_response("The payment is paid already, or the application is withdrawn."),
                    "500": SERVER_ERROR,
                },
            }
        },
        f"{p}/payments/callback": {
            "post": {
                "operationId": "paymentCallback",
                "summary": "The payment provider's result (idempotent: the same callback again changes nothing).",
                "parameters": [
                    {
                        "name": "X-Payment-Signature",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                        "description": "Hex HMAC-SHA256 of the raw body with the secret shared with the provider.",
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": schema_ref("PaymentCallback")}},
                },
                "responses": {
                    "200": {
                        "description": "Applied, or already applied (a replay).",
                        "headers": NO_STORE,
                        "content": {"application/json": {"schema": schema_ref("PaymentResult")}},
                    },
                    "400": problem_response("Not valid, or older than 5 minutes."),
                    "401": problem_response("The signature is missing or wrong."),
                    "404": problem_response("No such payment."),
                    "409": problem_response("The payment is paid already; the result contradicts it."),
                    "413": problem_response("The body is too large."),
                    "500": SERVER_ERROR,
                },
            }
        },
    }
