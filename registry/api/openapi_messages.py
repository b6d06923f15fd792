"""The OpenAPI description of the applicant's inbox: messages about their applications, and marking them read."""

from __future__ import annotations

from typing import Any

from registry.api import API_PREFIX
from registry.api.openapi_applications import NO_STORE, NOT_YOURS, RESOURCE_ID, TIMESTAMP, UNIDENTIFIED
from registry.api.openapi_applications import obj as _object
from registry.api.openapi_applications import private as _private
from registry.api.openapi_parts import BAD_PARAMETER, SERVER_ERROR, problem_response, query_parameter, schema_ref

_NOT_APPLICANT = problem_response("An employee has no inbox of an applicant.")


def messages_schemas() -> dict[str, Any]:
    """Schemas of the inbox."""
    message = {
        "id": RESOURCE_ID,
        "application_id": {"oneOf": [RESOURCE_ID, {"type": "null"}]},
        "at": TIMESTAMP,
        "kind": {"type": "string", "enum": ["decision", "information_request", "step", "payment"]},
        "subject": schema_ref("Text"),
        "body": schema_ref("Text"),
        "read": {"type": "boolean"},
    }
    return {
        "Message": _object(message, description="A message to the applicant about one of their applications."),
        "MessageList": _object(
            {
                "items": {"type": "array", "items": schema_ref("Message")},
                "total": {"type": "integer"},
                "unread": {"type": "integer", "description": "How many of all the principal's messages are unread."},
                "page": {"type": "integer"},
                "per_page": {"type": "integer"},
            }
        ),
    }


def messages_paths() -> dict[str, Any]:
    """The inbox operations."""
    p = API_PREFIX
    identity = [{"portalIdentity": []}]
    return {
        f"{p}/me/messages": {
            "get": {
                "operationId": "listMessages",
                "summary": "The principal's messages, newest first, with the number of unread ones.",
                "security": identity,
                "parameters": [
                    query_parameter(
                        "page", "Page number, from 1.", {"type": "integer", "minimum": 1, "maximum": 10000}
                    ),
                    query_parameter("per_page", "Items per page.", {"type": "integer", "minimum": 1, "maximum": 100}),
                ],
                "responses": {
                    "200": _private("MessageList"),
                    "400": BAD_PARAMETER,
                    "401": UNIDENTIFIED,
                    "403": _NOT_APPLICANT,
                    "500": SERVER_ERROR,
                },
            }
        },
        f"{p}/me/messages/{{message_id}}/read": {
            "post": {
                "operationId": "markMessageRead",
                "summary": "Mark one of the principal's messages read (again is harmless).",
                "security": identity,
                "parameters": [{"name": "message_id", "in": "path", "required": True, "schema": RESOURCE_ID}],
                "responses": {
                    "204": {"description": "Marked read.", "headers": NO_STORE},
                    "401": UNIDENTIFIED,
                    "403": _NOT_APPLICANT,
                    "404": NOT_YOURS,
                    "500": SERVER_ERROR,
                },
            }
        },
    }
