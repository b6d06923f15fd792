"""The OpenAPI description of the staff side (cases, decisions) and of answering a request for information."""

from __future__ import annotations

from typing import Any

from registry.api import API_PREFIX
from registry.api.openapi_applications import NO_STORE, NOT_YOURS, RESOURCE_ID, TIMESTAMP, UNIDENTIFIED, json_body
from registry.api.openapi_applications import obj as _object
from registry.api.openapi_applications import private as _private
from registry.api.openapi_parts import BAD_PARAMETER, SERVER_ERROR, problem_response, query_parameter, schema_ref

_TEXT_OR_NULL = {"type": ["string", "null"]}
_NOT_STAFF = problem_response("Not an employee of an institution (or without the role this needs).")
_BODY_PROBLEMS = {
    "400": problem_response("The body is not JSON, or the Idempotency-Key is missing or malformed."),
    "413": problem_response("The body is too large."),
    "415": problem_response("The body is not application/json."),
}


def staff_schemas() -> dict[str, Any]:
    """Schemas of cases as employees see them."""
    step = {
        "type": "object",
        "properties": {
            "id": schema_ref("Slug"),
            "institution": schema_ref("Slug"),
            "title": schema_ref("Text"),
            "form": schema_ref("Slug"),
            "form_version": {"type": ["integer", "null"]},
            "state": {"type": "string", "enum": ["done", "current", "waiting"]},
        },
        "required": ["id", "institution", "title", "form"],
    }
    person = _object({"sub": {"type": "string"}, "name": {"type": "string"}})
    item = {
        "id": RESOURCE_ID,
        "reference": {"type": "string"},
        "service": schema_ref("Slug"),
        "status": schema_ref("ApplicationStatus"),
        "result": {"type": ["string", "null"], "enum": ["approved", "refused", None]},
        "step": {"oneOf": [step, {"type": "null"}]},
        "assigned_to": {"oneOf": [person, {"type": "null"}]},
        "submitted_at": TIMESTAMP,
        "due_at": {"type": ["string", "null"], "format": "date-time"},
        "overdue": {"type": "boolean"},
    }
    event = _object(
        {
            "at": TIMESTAMP,
            "kind": {
                "type": "string",
                "enum": [
                    "decision",
                    "information",
                    "claim",
                    "assign",
                    "release",
                    "view",
                    "data_request",
                    "data_answer",
                ],
            },
            "step": _TEXT_OR_NULL,
            "institution": _TEXT_OR_NULL,
            "actor": person,
            "outcome": {"type": ["string", "null"], "enum": ["approve", "refuse", "request_info", "return", None]},
            "form": _TEXT_OR_NULL,
            "form_version": {"type": ["integer", "null"]},
            "answers": {"type": ["object", "null"]},
            "text": _TEXT_OR_NULL,
        }
    )
    counts = _object({k: {"type": "integer"} for k in ("open", "overdue", "mine", "more_info_requested")})
    return {
        "CaseItem": _object(item, description="A case in a queue."),
        "CaseList": _object(
            {
                "items": {"type": "array", "items": schema_ref("CaseItem")},
                "total": {"type": "integer"},
                "page": {"type": "integer"},
                "per_page": {"type": "integer"},
                "counts": counts,
            }
        ),
        "CaseEvent": event | {"description": "An entry of the case's append-only audit trail."},
        "Case": _object(
            item
            | {
                "applicant_name": {"type": "string"},
                "principal": {"type": "string"},
                "acting_for": _TEXT_OR_NULL,
                "form": schema_ref("Slug"),
                "form_version": {"type": "integer"},
                "answers": {"type": "object"},
                "files": {"type": "array", "items": schema_ref("StoredFile")},
                "information_request": {"type": ["object", "null"]},
                "process": _object(
                    {"version": {"type": "integer"}, "steps": {"type": "array", "items": step}},
                ),
                "timeline": {"type": "array", "items": schema_ref("CaseEvent")},
                "payments": {"type": "array", "items": schema_ref("Payment")},
            },
            description="A case with the applicant's answers, its process, its audit trail and its fees.",
        ),
        "ColleagueList": _object({"items": {"type": "array", "items": person}}),
        "AssignRequest": _object({"to": {"type": "string", "description": "The colleague's personal code."}}),
        "DecisionRequest": _object(
            {
                "step": schema_ref("Slug"),
                "outcome": {"type": "string", "enum": ["approve", "refuse", "request_info", "return"]},
                "answers": {"type": "object", "description": "The step form's answers (approve only)."},
                "text": _TEXT_OR_NULL,
            },
            required=["step", "outcome"],
            description="A decision on the current step; refuse, request_info and return need `text`.",
        ),
        "DecisionRecorded": _object(
            event["properties"] | {"case": RESOURCE_ID}, description="The audit entry the decision made."
        ),
        "InformationAnswer": _object(
            {
                "text": {"type": "string", "minLength": 1, "maxLength": 5000},
                "files": {"type": "array", "items": RESOURCE_ID},
            },
            required=["text"],
            description="The applicant's answer to a request for more information, with uploaded files.",
        ),
    }


def staff_paths() -> dict[str, Any]:
    """The staff operations, and the applicant's answer to a request for information."""
    p = API_PREFIX
    identity = [{"portalIdentity": []}]
    case_id = {"name": "case_id", "in": "path", "required": True, "schema": RESOURCE_ID}
    file_id = {"name": "file_id", "in": "path", "required": True, "schema": RESOURCE_ID}
    acted = {
        "200": _private("CaseItem"),
        "401": UNIDENTIFIED,
        "403": _NOT_STAFF,
        "404": NOT_YOURS,
        "409": problem_response("Someone else has the case, or it cannot be worked on now."),
        "500": SERVER_ERROR,
    }
    return {
        f"{p}/staff/cases": {
            "get": {
                "operationId": "listCases",
                "summary": "The employee's queue, or every case their institution worked on, with the queue's counts.",
                "security": identity,
                "parameters": [
                    query_parameter(
                        "scope", "queue (default) or involved.", {"type": "string", "enum": ["queue", "involved"]}
                    ),
                    query_parameter("service", "Only cases of this service.", schema_ref("Slug")),
                    query_parameter("status", "Only cases in this status.", schema_ref("ApplicationStatus")),
                    query_parameter("overdue", "Only overdue cases.", {"type": "string", "enum": ["true", "false"]}),
                    query_parameter("assigned", "Only the employee's own cases.", {"type": "string", "enum": ["me"]}),
                    query_parameter(
                        "page", "Page number, from 1.", {"type": "integer", "minimum": 1, "maximum": 10000}
                    ),
                    query_parameter("per_page", "Items per page.", {"type": "integer", "minimum": 1, "maximum": 100}),
                ],
                "responses": {
                    "200": _private("CaseList"),
                    "400": BAD_PARAMETER,
                    "401": UNIDENTIFIED,
                    "403": _NOT_STAFF,
                    "500": SERVER_ERROR,
                },
            }
        },
        f"{p}/staff/cases/{{case_id}}": {
            "get": {
                "operationId": "getCase",
                "summary": "A case of the employee's institution (now or earlier); opening it is audited.",
                "security": identity,
                "parameters": [case_id],
                "responses": {
                    "200": _private("Case"),
                    "401": UNIDENTIFIED,
                    "403": _NOT_STAFF,
                    "404": NOT_YOURS,
                    "500": SERVER_ERROR,
                },
            }
        },
        f"{p}/staff/cases/{{case_id}}/files/{{file_id}}": {
            "get": {
                "operationId": "downloadCaseFile",
                "summary": "An attachment of the case, as an attachment (never rendered, never sniffed).",
                "security": identity,
                "parameters": [case_id, file_id],
                "responses": {
                    "200": {
                        "description": "The file.",
                        "headers": NO_STORE,
                        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
                    },
                    "401": UNIDENTIFIED,
                    "403": _NOT_STAFF,
                    "404": NOT_YOURS,
                    "500": SERVER_ERROR,
                },
            }
        },
        f"{p}/staff/cases/{{case_id}}/claim": {
            "post": {
                "operationId": "claimCase",
                "summary": "Take the case.",
                "security": identity,
                "parameters": [case_id],
                "responses": acted,
            }
        },
        f"{p}/staff/colleagues": {
            "get": {
                "operationId": "listColleagues",
                "summary": "Employees of the institution known from its cases (and the employee), to give a case to.",
                "security": identity,
                "responses": {
                    "200": _private("ColleagueList"),
                    "401": UNIDENTIFIED,
                    "403": _NOT_STAFF,
                    "500": SERVER_ERROR,
                },
            }
        },
        f"{p}/staff/cases/{{case_id}}/assign": {
            "post": {
                "operationId": "assignCase",
                "summary": "Give the case to a colleague of the same institution.",
                "security": identity,
                "parameters": [case_id],
                "requestBody": json_body("AssignRequest"),
                "responses": acted
                | _BODY_PROBLEMS
                | {"422": problem_response("Not a colleague of the institution, or the body is not valid.")},
            }
        },
        f"{p}/staff/cases/{{case_id}}/release": {
            "post": {
                "operationId": "releaseCase",
                "summary": "Give the case back to the queue.",
                "security": identity,
                "parameters": [case_id],
                "responses": acted,
            }
        },
        f"{p}/staff/cases/{{case_id}}/decisions": {
            "post": {
                "operationId": "decideCase",
                "summary": "Decide the current step; retries are safe with the same Idempotency-Key.",
                "security": identity,
                "parameters": [
                    case_id,
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[ -~]+$"},
                    },
                ],
                "requestBody": json_body("DecisionRequest"),
                "responses": {"201": _private("DecisionRecorded", "Recorded (or the replay of an earlier one).")}
                | _BODY_PROBLEMS
                | {
                    "401": UNIDENTIFIED,
                    "403": problem_response("Another institution's step, or a role that may not take this outcome."),
                    "404": NOT_YOURS,
                    "409": problem_response("Not the current step, the case is waiting or closed, or in flight."),
                    "422": problem_response("The body, the step form or the text is not valid; `errors` says why."),
                    "500": SERVER_ERROR,
                },
            }
        },
        f"{p}/me/applications/{{application_id}}/information": {
            "post": {
                "operationId": "answerInformationRequest",
                "summary": "Answer the institution's request for more information (the case returns to its step).",
                "security": identity,
                "parameters": [{"name": "application_id", "in": "path", "required": True, "schema": RESOURCE_ID}],
                "requestBody": json_body("InformationAnswer"),
                "responses": {"200": _private("Application", "Answered.")}
                | _BODY_PROBLEMS
                | {
                    "401": UNIDENTIFIED,
                    "403": problem_response("An employee does not apply."),
                    "404": NOT_YOURS,
                    "409": problem_response("No more information is requested for this application."),
                    "422": problem_response("The answer is not valid."),
                    "500": SERVER_ERROR,
                },
            }
        },
    }
