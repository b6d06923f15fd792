"""The OpenAPI description of level 5: kinds of data request (public), and requests between institutions, for
employees and institution systems."""

from __future__ import annotations

from typing import Any

from registry.api import API_PREFIX
from registry.api.openapi_applications import NOT_YOURS, RESOURCE_ID, TIMESTAMP, UNIDENTIFIED, json_body
from registry.api.openapi_applications import obj as _object
from registry.api.openapi_applications import private as _private
from registry.api.openapi_parts import (
    BAD_PARAMETER,
    IF_NONE_MATCH,
    NOT_FOUND,
    SERVER_ERROR,
    list_schema,
    ok_responses,
    path_parameter,
    problem_response,
    query_parameter,
    schema_ref,
)

_NULLABLE_TEXT = {"type": ["string", "null"]}
_BODY_PROBLEMS = {
    "400": problem_response("The body is not JSON."),
    "413": problem_response("The body is too large."),
    "415": problem_response("The body is not application/json."),
}
_VERSION = {"type": "integer", "minimum": 1}
_KIND_FIELDS: dict[str, Any] = {
    "id": schema_ref("Slug"),
    "version": _VERSION | {"description": "The kind's version; its answer form has the same version."},
    "title": schema_ref("Text"),
    "description": {"oneOf": [schema_ref("Text"), {"type": "null"}]},
    "answered_by": schema_ref("Slug") | {"description": "The institution that answers requests of this kind."},
    "asked_by": {
        "oneOf": [{"type": "array", "items": schema_ref("Slug")}, {"type": "null"}],
        "description": "The institutions that may ask; null: every institution but the answering one.",
    },
    "about": {
        "type": "array",
        "items": {"enum": ["person", "company"]},
        "description": "Whom a request may be about: a case whose applicant is a person, or a company.",
    },
}


def data_request_schemas() -> dict[str, Any]:
    """Kinds of request with their answer forms; a data request as the asking and the asked institution see it."""
    return {
        "DataRequestKindItem": _object(_KIND_FIELDS, description="A kind of data request, in its newest version."),
        "DataRequestKindList": list_schema("DataRequestKindItem"),
        "DataRequestKind": _object(
            _KIND_FIELDS
            | {
                "answer_form": {
                    "type": "object",
                    "description": "The answer form: a form definition (docs/forms.md) whose `service` is the kind's "
                    "id, `form` is `answer` and `version` the kind's version.",
                },
                "answers_schema": {"type": "object", "description": "JSON Schema 2020-12 of the answers."},
            },
            description="One version of a kind of data request, with its answer form.",
        ),
        "DataRequest": _object(
            {
                "id": RESOURCE_ID,
                "case": {"oneOf": [RESOURCE_ID, {"type": "null"}], "description": "Only for the asking institution."},
                "kind": {"oneOf": [schema_ref("Slug"), {"type": "null"}], "description": "null: a free-text question."},
                "form_version": {
                    "oneOf": [_VERSION, {"type": "null"}],
                    "description": "The kind's version the request was asked with: its answer form is answered.",
                },
                "from_institution": schema_ref("Slug"),
                "to_institution": schema_ref("Slug"),
                "subject": {"type": "string", "description": "Whom it is about: a personal code or company number."},
                "text": {"type": "string", "description": "The question, or the note sent with a kind (may be empty)."},
                "asked_by": {"type": "string"},
                "asked_at": TIMESTAMP,
                "status": {"type": "string", "enum": ["open", "answered"]},
                "answer": _NULLABLE_TEXT | {"description": "The answer to a free-text question."},
                "answers": {
                    "type": ["object", "null"],
                    "description": "The answers to the kind's answer form, keyed by question id.",
                },
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
        "CaseDataRequestList": list_schema("DataRequest"),
        "DataRequestQuestion": _object(
            {
                "kind": {
                    "oneOf": [schema_ref("Slug"), {"type": "null"}],
                    "description": "A kind of request: it says whom to ask. Without one, a free-text question.",
                },
                "to_institution": schema_ref("Slug")
                | {"description": "Whom to ask: required without a kind; with one, it must be the kind's."},
                "text": {
                    "type": "string",
                    "maxLength": 5000,
                    "description": "The question (required without a kind), or an optional note with a kind.",
                },
            },
            required=[],
        ),
        "DataRequestAnswer": _object(
            {
                "answers": {
                    "type": "object",
                    "description": "For a request of a kind: the answers to its answer form, in the version the "
                    "request was asked with (valid by its `answers_schema`; unknown fields are refused).",
                },
                "text": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 5000,
                    "description": "For a free-text question: the answer.",
                },
            },
            required=[],
        ),
    }


def _kind_paths() -> dict[str, Any]:
    p = API_PREFIX
    kind_id = path_parameter("kind_id", "The kind of data request.")
    version = {"name": "version", "in": "path", "required": True, "schema": _VERSION}
    missing = {"404": NOT_FOUND, "500": SERVER_ERROR}
    return {
        f"{p}/data-request-kinds": {
            "get": {
                "operationId": "listDataRequestKinds",
                "summary": "Every kind of data request one institution may ask another (level 5), newest versions.",
                "parameters": [IF_NONE_MATCH],
                "responses": ok_responses("DataRequestKindList") | {"500": SERVER_ERROR},
            }
        },
        f"{p}/data-request-kinds/{{kind_id}}": {
            "get": {
                "operationId": "getDataRequestKind",
                "summary": "The newest version of a kind of data request, with its answer form.",
                "parameters": [kind_id, IF_NONE_MATCH],
                "responses": ok_responses("DataRequestKind") | missing,
            }
        },
        f"{p}/data-request-kinds/{{kind_id}}/versions/{{version}}": {
            "get": {
                "operationId": "getDataRequestKindVersion",
                "summary": "One version of a kind: a request is answered in the version it was asked with.",
                "parameters": [kind_id, version, IF_NONE_MATCH],
                "responses": ok_responses("DataRequestKind") | missing,
            }
        },
    }


def data_request_paths() -> dict[str, Any]:
    """The kinds (public); employees (portal identity) and institution systems (institution token) ask and answer."""
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
    no_token = problem_response("No valid institution token.")
    answered = {
        "200": _private("DataRequest", "Answered."),
        **_BODY_PROBLEMS,
        "404": NOT_YOURS,
        "409": problem_response("The request is answered already."),
        "422": problem_response(
            "The answer is not valid: answers that do not fit the kind's answer form (unknown or hidden fields, "
            "invalid values; `errors` points at each), answers to a free-text question, or text to a kind."
        ),
        "500": SERVER_ERROR,
    }
    listing = {"200": _private("DataRequestList"), "400": BAD_PARAMETER, "500": SERVER_ERROR}
    one = {"200": _private("DataRequest"), "404": NOT_YOURS, "500": SERVER_ERROR}
    return _kind_paths() | {
        f"{p}/staff/cases/{{case_id}}/data-requests": {
            "post": {
                "operationId": "askInstitution",
                "summary": "Ask another institution about the case's applicant (level 5, no client involved): "
                "a kind of request, or a free-text question.",
                "security": employee,
                "parameters": [case_id],
                "requestBody": json_body("DataRequestQuestion"),
                "responses": {"201": _private("DataRequest", "Asked.")}
                | _BODY_PROBLEMS
                | {
                    "401": UNIDENTIFIED,
                    "403": problem_response("Not an employee, or the institution may not ask this kind."),
                    "404": NOT_YOURS,
                    "409": problem_response("The institution is not working on the case now."),
                    "422": problem_response(
                        "An unknown kind, a kind the institution answers itself or not about this applicant, "
                        "no such institution, or no question."
                    ),
                    "500": SERVER_ERROR,
                },
            },
            "get": {
                "operationId": "listCaseDataRequests",
                "summary": "Every request asked from the case and its answer, for those who may see the case.",
                "security": employee,
                "parameters": [case_id],
                "responses": {
                    "200": _private("CaseDataRequestList"),
                    "401": UNIDENTIFIED,
                    "403": not_staff,
                    "404": NOT_YOURS,
                    "500": SERVER_ERROR,
                },
            },
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
                "responses": one | {"401": UNIDENTIFIED, "403": not_staff},
            }
        },
        f"{p}/staff/data-requests/{{request_id}}/answer": {
            "post": {
                "operationId": "answerDataRequest",
                "summary": "Answer a request the employee's institution was asked: a kind's with its answer form "
                "(`answers`), a free-text question with `text`.",
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
                "responses": listing | {"401": no_token},
            }
        },
        f"{p}/institution/data-requests/{{request_id}}": {
            "get": {
                "operationId": "getDataRequestForSystem",
                "summary": "An institution's own system: one request it asked or was asked.",
                "security": system,
                "parameters": [request_id],
                "responses": one | {"401": no_token},
            }
        },
        f"{p}/institution/data-requests/{{request_id}}/answer": {
            "post": {
                "operationId": "answerDataRequestFromSystem",
                "summary": "An institution's own system answers a request it was asked (as an employee would).",
                "security": system,
                "parameters": [request_id],
                "requestBody": json_body("DataRequestAnswer"),
                "responses": answered | {"401": no_token, "403": problem_response("Not the asked institution.")},
            }
        },
    }
