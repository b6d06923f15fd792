"""The OpenAPI description of checking a result document by its verification code (public, nothing personal)."""

from __future__ import annotations

from typing import Any

from registry.api import API_PREFIX
from registry.api.openapi_applications import TIMESTAMP
from registry.api.openapi_applications import obj as _object
from registry.api.openapi_applications import private as _private
from registry.api.openapi_parts import SERVER_ERROR, problem_response, schema_ref

VERIFICATION_CODE = {
    "type": "string",
    "pattern": "^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$",
    "description": "12 random characters of Crockford's base32 in groups of four, e.g. `7K3M-9QXR-2ABC`.",
}
_NOT_KEPT = {
    "Cache-Control": {"description": "Always `no-store`: a code works like a password.", "schema": {"type": "string"}}
}
DECISION_RESULT = {"type": ["string", "null"], "enum": ["approved", "refused", None]}


def results_schemas() -> dict[str, Any]:
    """Schemas of a verified result document, and of the decision as its applicant reads it."""
    return {
        "VerifiedResult": _object(
            {
                "reference": {"type": "string", "description": "The application's reference, e.g. PT-2026-000123."},
                "service": schema_ref("Slug"),
                "result": DECISION_RESULT,
                "decided_at": {"type": ["string", "null"], "format": "date-time"},
                "institution": {"type": ["string", "null"], "description": "The institution that decided."},
            },
            description="The facts printed on a genuine result document; nothing about the applicant or their "
            "answers, nor the official who decided.",
        ),
        "ApplicationDecision": _object(
            {
                "outcome": {"type": "string", "enum": ["approve", "refuse"]},
                "text": {"type": ["string", "null"], "description": "The reasoning (required when refused)."},
                "institution": {"type": ["string", "null"]},
                "decided_by": {"type": "string", "description": "The name of the official who decided."},
                "at": TIMESTAMP,
            },
            description="The decision that decided an application, as its applicant is told it.",
        ),
    }


def results_paths() -> dict[str, Any]:
    """Checking a result document: no identity, never cached."""
    code = {
        "name": "code",
        "in": "path",
        "required": True,
        "description": "The verification code as printed; any case, dashes optional.",
        "schema": {"type": "string", "pattern": "^[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}$"},
    }
    return {
        f"{API_PREFIX}/verify/{{code}}": {
            "get": {
                "operationId": "verifyResult",
                "summary": "Whether a result document with this verification code exists, and its public facts.",
                "description": "Needs no identity (`security: []`). Like the personal answers it is `no-store` "
                "without an ETag: a code works like a password to these facts.",
                "security": [],
                "parameters": [code],
                "responses": {
                    "200": _private("VerifiedResult", "A genuine result document.") | {"headers": _NOT_KEPT},
                    "404": problem_response("No decision has this code (or it is not a code at all)."),
                    "500": SERVER_ERROR,
                },
            }
        }
    }
