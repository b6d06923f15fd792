"""The OpenAPI description of level 5: data requests between institutions, for employees and institution systems."""

from __future__ import annotations

from typing import Any

from registry.api import API_PREFIX
from registry.api.openapi_applications import NOT_YOURS, RESOURCE_ID, TIMESTAMP, UNIDENTIFIED, json_body
from registry.api.openapi_applications import obj as _object
from registry.api.openapi_applications import private as _private
from registry.api.openapi_parts import BAD_PARAMETER, SERVER_ERROR, problem_response, query_parameter, schema_ref

_NULLABLE_TEXT = {"type": ["string", "null"]}
_BODY_PROBLEMS = {
    "400": problem_response("The body is not JSON."),
    "413": problem_response("The body is too large."),
    "415": problem_response("The body is not application/json."),
}


def data_request_schemas() -> dict[str, Any]:
    """A data request as the asking and the asked institution see it."""
    return {
        "DataRequest": _object(
            {
                "id": RESOURCE_ID,
                "case": {"oneOf": [RESOURCE_ID, {"type": "null"}], "description": "Only for the asking institution."},
                "from_institution": schema_ref("Slug"),
                "to_institution": schema_ref("Slug"),
                "subject": {"type": "string", "description": "Whom it is about: a personal code or company number."},
                "text": {"type": "string"},
                "asked_by": {"type": "string"},
                "asked_at": TIMESTAMP,
                "status": {"type": "string", "enum": ["open", "answered"]},
                "answer": _NULLABLE_TEXT,
                "answered_by": _NULLABLE_TEXT,
                "answered_at": {"type": ["string", "null"], "format": "date-time"},
            },
            description="A question one institution asks another about a case's applicant, and the answer.",
        ),
        "DataRequestList": _object(
            {
                "items": {"type": "array", "items": schema_ref("DataRequest")},
                "total": {"type": "integer"},
                "page": {"type": "integer"},
                "per_page": {"type": "integer"},
            }
        ),
        "DataRequestQuestion": _object(
            {"to_institution": schema_ref("Slug"), "text": {"type": "string", "minLength": 1, "maxLength": 5000}},
        ),
        "DataRequestAnswer": _object({"text": {"type": "string", "minLength": 1, "maxLength": 5000}}),
    }


def data_request_paths() -> dict[str, Any]:
    """Employees (portal identity) and institution systems (institution token) ask and answer."""
    p = API_PREFIX
    employee = [{"portalIdentity": []}]
    system = [{"publisherToken": []}]
    request_id = {"name": "request_id", "in": "path", "required": True, "schema": RESOURCE_ID}
    case_id = {"name": "case_id", "in": "path", "required": True, "schema": RESOURCE_ID}
    filters = [
        query_parameter(
            "direction", "incoming (default) or outgoing.", {"type": "string", "enum": ["incoming", "outgoing"]}
        ),
        query_parameter("status", "open or answered.", {"type": "string", "enum": ["open", "answered"]}),
        query_parameter("page", "Page number, from 1.", {"type": "integer", "minimum": 1, "maximum": 10000}),
        query_parameter("per_page", "Items per page.", {"type": "integer", "minimum": 1, "maximum": 100}),
    ]
    not_staff = problem_response("Not an employee of an institution.")
    answered = {
        "200": _private("DataRequest", "Answered."),
        **_BODY_PROBLEMS,
        "404": NOT_YOURS,
        "409": problem_response("The request is answered already."),
        "422": problem_response("The answer is not valid."),
        "500": SERVER_ERROR,
    }
    listing = {"200": _private("DataRequestList"), "400": BAD_PARAMETER, "500": SERVER_ERROR}
    return {
        f"{p}/staff/cases/{{case_id}}/data-requests": {
            "post": {
                "operationId": "askInstitution",
                "summary": "Ask another institution about the case's applicant (level 5, no client involved).",
                "security": employee,
                "parameters": [case_id],
                "requestBody": json_body("DataRequestQuestion"),
                "responses": {"201": _private("DataRequest", "Asked.")}
                | _BODY_PROBLEMS
                | {
                    "401": UNIDENTIFIED,
                    "403": not_staff,
                    "404": NOT_YOURS,
                    "409": problem_response("The institution is not working on the case now."),
                    "422": problem_response("No such institution, or no question."),
                    "500": SERVER_ERROR,
                },
            }
        },
        f"{p}/staff/data-requests": {
            "get": {
                "operationId": "listDataRequests",
                "summary": "Requests the employee's institution was asked, or asked.",
                "security": employee,
                "parameters": filters,
                "responses": listing | {"401": UNIDENTIFIED, "403": not_staff},
            }
        },
        f"{p}/staff/data-requests/{{request_id}}": {
            "get": {
                "operationId": "getDataRequest",
                "summary": "A request the employee's institution asked or was asked.",
                "security": employee,
                "parameters": [request_id],
                "responses": {
                    "200": _private("DataRequest"),
                    "401": UNIDENTIFIED,
                    "403": not_staff,
                    "404": NOT_YOURS,
                    "500": SERVER_ERROR,
                },
            }
        },
        f"{p}/staff/data-requests/{{request_id}}/answer": {
            "post": {
                "operationId": "answerDataRequest",
                "summary": "Answer a request the employee's institution was asked.",
                "security": employee,
                "parameters": [request_id],
                "requestBody": json_body("DataRequestAnswer"),
                "responses": answered | {"401": UNIDENTIFIED, "403": problem_response("Not the asked institution.")},
            }
        },
        f"{p}/institution/data-requests": {
            "get": {
                "operationId": "listDataRequestsForSystem",
                "summary": "An institution's own system: the requests it was asked, or asked.",
                "security": system,
                "parameters": filters,
                "responses": listing | {"401": problem_response("No valid institution token.")},
            }
        },
        f"{p}/institution/data-requests/{{request_id}}/answer": {
            "post": {
                "operationId": "answerDataRequestFromSystem",
                "summary": "An institution's own system answers a request it was asked.",
                "security": system,
                "parameters": [request_id],
                "requestBody": json_body("DataRequestAnswer"),
                "responses": answered
                | {
                    "401": problem_response("No valid institution token."),
                    "403": problem_response("Not the asked institution."),
                },
            }
        },
    }
