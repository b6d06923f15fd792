"""The OpenAPI description of drafts and applications: personal data of the signed-in principal, never cached."""

from __future__ import annotations

from typing import Any

from registry.api import API_PREFIX
from registry.api.openapi_parts import (
    BAD_PARAMETER,
    SERVER_ERROR,
    list_schema,
    problem_response,
    query_parameter,
    schema_ref,
)

_TIMESTAMP = {"type": "string", "format": "date-time"}
_RESOURCE_ID = {"type": "string", "pattern": "^[0-9a-f]{32}$", "description": "A random 32-hex id."}
_ANSWERS = {"type": "object", "description": "Answers keyed by question id, as in the form's `answers_schema`."}


def _object(properties: dict[str, Any], required: list[str] | None = None, description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }
    return {"description": description, **schema} if description else schema


def _application_schemas() -> dict[str, Any]:
    """Schemas of drafts and applications (personal data of the signed-in principal)."""
    slug = schema_ref("Slug")
    version = {"type": "integer", "minimum": 1}
    draft_item = {
        "id": _RESOURCE_ID,
        "service": slug,
        "form": slug,
        "form_version": version,
        "current_page": {"type": ["string", "null"], "description": "The page id the person was last on."},
        "created_at": _TIMESTAMP,
        "updated_at": _TIMESTAMP,
    }
    status = {
        "type": "string",
        "enum": ["awaiting_payment", "submitted", "in_progress", "more_info_requested", "decided", "withdrawn"],
    }
    created = {
        "id": _RESOURCE_ID,
        "reference": {"type": "string", "pattern": "^PT-[0-9]{4}-[0-9]{6,}$", "description": "e.g. PT-2026-000123"},
        "service": slug,
        "form": slug,
        "form_version": version,
        "status": schema_ref("ApplicationStatus"),
        "submitted_at": _TIMESTAMP,
    }
    item = created | {"updated_at": _TIMESTAMP}
    return {
        "DraftItem": _object(draft_item, description="A draft as it appears in a list (without its answers)."),
        "Draft": _object(draft_item | {"answers": _ANSWERS}, description="Saved, not yet submitted answers."),
        "DraftList": list_schema("DraftItem", paged=True),
        "NewDraft": _object({"service": slug, "form": slug}, description="Start a draft of the newest form version."),
        "DraftUpdate": _object(
            {"answers": _ANSWERS, "current_page": {"type": ["string", "null"]}},
            required=["answers"],
            description="Answers are cleaned (unknown and hidden answers dropped) but not required to be complete.",
        ),
        "Submission": {
            "description": "Submit a draft, or answers given in full. No other field (a status, a decision) is "
            "accepted.",
            "oneOf": [
                _object({"draft_id": _RESOURCE_ID}),
                _object({"service": slug, "form": slug, "form_version": version, "answers": _ANSWERS}),
            ],
        },
        "ApplicationStatus": status,
        "ApplicationCreated": _object(created | {"answers": _ANSWERS}, description="A submitted application."),
        "ApplicationItem": _object(item, description="An application as it appears in a list."),
        "ApplicationList": list_schema("ApplicationItem", paged=True),
        "TimelineEvent": _object(
            {
                "at": _TIMESTAMP,
                "status": schema_ref("ApplicationStatus"),
                "actor": {"type": "string", "enum": ["applicant", "institution", "system"]},
                "note": {"oneOf": [schema_ref("Text"), {"type": "null"}]},
            }
        ),
        "Application": _object(
            item
            | {
                "applicant_name": {"type": "string"},
                "acting_for": {
                    "type": ["string", "null"],
                    "description": "The registration number of the company a representative applied for.",
                },
                "result": {"type": ["string", "null"], "enum": ["approved", "refused", None]},
                "information_request": {
                    "oneOf": [_object({"text": {"type": "string"}, "at": _TIMESTAMP}), {"type": "null"}],
                    "description": "What the institution asks while the status is `more_info_requested`.",
                },
                "decided_at": {"type": ["string", "null"], "format": "date-time"},
                "verification_code": {
                    "type": ["string", "null"],
                    "description": (
                        "The code printed on the result document (`GET /verify/{code}`), once decided; null while "
                        "`result_awaits_payment`."
                    ),
                },
                "result_awaits_payment": {
                    "type": "boolean",
                    "description": (
                        "Approved, but a fee due after the decision is unpaid: the result document (and its code) "
                        "is issued once the payment arrives."
                    ),
                },
                "decision": {"oneOf": [schema_ref("ApplicationDecision"), {"type": "null"}]},
                "answers": _ANSWERS,
                "timeline": {"type": "array", "items": schema_ref("TimelineEvent")},
            },
            description="One application with its answers and timeline, and once decided its decision.",
        ),
        "StoredFile": _object(
            {
                "id": _RESOURCE_ID,
                "name": {"type": "string", "minLength": 1, "maxLength": 120, "description": "Made safe to show."},
                "size": {"type": "integer", "minimum": 1, "description": "Bytes."},
                "content_type": {
                    "type": "string",
                    "enum": ["application/pdf", "image/jpeg", "image/png", "application/vnd.etsi.asic-e+zip"],
                    "description": "Found from the content, never from the name or the request.",
                },
                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "created_at": _TIMESTAMP,
                "application_id": {
                    "oneOf": [_RESOURCE_ID, {"type": "null"}],
                    "description": "The submitted application the file is part of, if any.",
                },
            },
            description="An uploaded file (answer it with `{file_id, name, size, content_type}`).",
        ),
    }


_NO_STORE = {"Cache-Control": {"description": "Always `no-store`: personal data.", "schema": {"type": "string"}}}
_UNIDENTIFIED = problem_response("No X-Portal-Identity, or one that is invalid or expired.")
_NOT_YOURS = problem_response("No such resource of the signed-in principal (somebody else's is not revealed).")


def _private(schema: str, description: str = "OK", headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "headers": _NO_STORE | (headers or {}),
        "content": {"application/json": {"schema": schema_ref(schema)}},
    }


def _json_body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema_ref(schema)}}}


def _application_paths() -> dict[str, Any]:
    """Drafts and applications: every operation needs the signed identity and answers `no-store`."""
    p = API_PREFIX
    identity = [{"portalIdentity": []}]
    location = {"Location": {"description": "Where the new resource is.", "schema": {"type": "string"}}}
    page = query_parameter(
        "page", "Page number, from 1.", {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1}
    )
    per_page = query_parameter(
        "per_page", "Items per page.", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
    )
    draft_id = {"name": "draft_id", "in": "path", "required": True, "schema": _RESOURCE_ID}
    application_id = {"name": "application_id", "in": "path", "required": True, "schema": _RESOURCE_ID}
    file_id = {"name": "file_id", "in": "path", "required": True, "schema": _RESOURCE_ID}
    body_problems = {
        "400": problem_response("The body is not JSON."),
        "413": problem_response("The body is too large."),
        "415": problem_response("The body is not application/json."),
    }
    return {
        f"{p}/me/drafts": {
            "get": {
                "operationId": "listMyDrafts",
                "summary": "The principal's drafts, most recently saved first.",
                "security": identity,
                "parameters": [page, per_page],
                "responses": {
                    "200": _private("DraftList"),
                    "400": BAD_PARAMETER,
                    "401": _UNIDENTIFIED,
                    "500": SERVER_ERROR,
                },
            },
            "post": {
                "operationId": "startDraft",
                "summary": "Start a draft of the newest version of a service form.",
                "security": identity,
                "requestBody": _json_body("NewDraft"),
                "responses": {"201": _private("Draft", "Started.", location)}
                | body_problems
                | {
                    "401": _UNIDENTIFIED,
                    "403": problem_response("The service is not offered to this kind of applicant (audience)."),
                    "404": problem_response("No such published service, or it has no such form."),
                    "422": problem_response("The body is not valid; `errors` lists each problem."),
                    "500": SERVER_ERROR,
                },
            },
        },
        f"{p}/me/drafts/{{draft_id}}": {
            "get": {
                "operationId": "getMyDraft",
                "summary": "One of the principal's drafts with its answers.",
                "security": identity,
                "parameters": [draft_id],
                "responses": {"200": _private("Draft"), "401": _UNIDENTIFIED, "404": _NOT_YOURS, "500": SERVER_ERROR},
            },
            "put": {
                "operationId": "saveMyDraft",
                "summary": "Save a draft's answers (cleaned, not required to be complete) and current page.",
                "security": identity,
                "parameters": [draft_id],
                "requestBody": _json_body("DraftUpdate"),
                "responses": {"200": _private("Draft", "Saved.")}
                | body_problems
                | {
                    "401": _UNIDENTIFIED,
                    "404": _NOT_YOURS,
                    "422": problem_response("The body is not valid; `errors` lists each problem."),
                    "500": SERVER_ERROR,
                },
            },
            "delete": {
                "operationId": "deleteMyDraft",
                "summary": "Delete one of the principal's drafts.",
                "security": identity,
                "parameters": [draft_id],
                "responses": {
                    "204": {"description": "Deleted.", "headers": _NO_STORE},
                    "401": _UNIDENTIFIED,
                    "404": _NOT_YOURS,
                    "500": SERVER_ERROR,
                },
            },
        },
        f"{p}/applications": {
            "post": {
                "operationId": "submitApplication",
                "summary": "Submit an application (from a draft, or answers in full); retries are safe with the same "
                "Idempotency-Key.",
                "description": "The answers are cleaned, normalised and validated with the form definition and its "
                "JSON Schema. Idempotency (IETF httpapi draft), scoped to the principal: a replay with the same key "
                "and body returns the stored response; the same key with another body is 422; a duplicate while "
                "the first is still processed is 409. Only a successful submission is remembered.",
                "security": identity,
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": True,
                        "description": "A unique key per submission (1 to 200 visible ASCII characters).",
                        "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[ -~]+$"},
                    }
                ],
                "requestBody": _json_body("Submission"),
                "responses": {
                    "201": _private(
                        "ApplicationCreated",
                        "Submitted (or the stored response of an earlier request with this key).",
                        location,
                    )
                }
                | body_problems
                | {
                    "400": problem_response("The body is not JSON, or the Idempotency-Key is missing or malformed."),
                    "401": _UNIDENTIFIED,
                    "403": problem_response("The service is not offered to this kind of applicant (audience)."),
                    "404": problem_response("No such draft, published service or form version."),
                    "409": problem_response("A request with this Idempotency-Key is still being processed."),
                    "422": problem_response(
                        "The answers or the body are not valid (`errors` by JSON Pointer), or the key was used "
                        "with another body."
                    ),
                    "500": SERVER_ERROR,
                },
            }
        },
        f"{p}/me/applications": {
            "get": {
                "operationId": "listMyApplications",
                "summary": "The principal's applications, newest first, with their status.",
                "security": identity,
                "parameters": [page, per_page],
                "responses": {
                    "200": _private("ApplicationList"),
                    "400": BAD_PARAMETER,
                    "401": _UNIDENTIFIED,
                    "500": SERVER_ERROR,
                },
            }
        },
        f"{p}/me/applications/{{application_id}}": {
            "get": {
                "operationId": "getMyApplication",
                "summary": "One of the principal's applications with its answers and timeline.",
                "security": identity,
                "parameters": [application_id],
                "responses": {
                    "200": _private("Application"),
                    "401": _UNIDENTIFIED,
                    "404": _NOT_YOURS,
                    "500": SERVER_ERROR,
                },
            }
        },
        f"{p}/me/files": {
            "post": {
                "operationId": "uploadFile",
                "summary": "Upload a file for a file question; its type is found from its content.",
                "description": "The body is the file itself. PDF, JPEG, PNG and ASiC-E (.edoc, .asice) are "
                "accepted when the name's extension matches the content. Which types and sizes a question "
                "accepts is checked when the application is submitted. Every file is scanned for viruses before "
                "it is stored (REGISTRY_ANTIVIRUS), fail-closed: `file.infected` (422) when the scanner finds "
                "something, `file.scan_unavailable` (503) while it cannot give a verdict; nothing is stored then.",
                "security": identity,
                "parameters": [
                    query_parameter("name", "The file's name, with its extension.", {"type": "string", "minLength": 1})
                    | {"required": True}
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
                },
                "responses": {
                    "201": _private("StoredFile", "Stored.", location),
                    "401": _UNIDENTIFIED,
                    "413": problem_response("The file is larger than the registry's limit."),
                    "415": problem_response("The body is not application/octet-stream."),
                    "422": problem_response(
                        "No usable name, an empty file, content unlike its name, or a virus found (file.infected)."
                    ),
                    "500": SERVER_ERROR,
                    "503": problem_response("The virus scanner gave no verdict (file.scan_unavailable): try later."),
                },
            }
        },
        f"{p}/me/files/{{file_id}}": {
            "get": {
                "operationId": "downloadMyFile",
                "summary": "One of the principal's files, as an attachment (never rendered, never sniffed).",
                "security": identity,
                "parameters": [file_id],
                "responses": {
                    "200": {
                        "description": "The file.",
                        "headers": _NO_STORE
                        | {"Content-Disposition": {"description": "attachment", "schema": {"type": "string"}}},
                        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
                    },
                    "401": _UNIDENTIFIED,
                    "404": _NOT_YOURS,
                    "500": SERVER_ERROR,
                },
            },
            "delete": {
                "operationId": "deleteMyFile",
                "summary": "Delete an upload that is not part of a submitted application.",
                "security": identity,
                "parameters": [file_id],
                "responses": {
                    "204": {"description": "Deleted.", "headers": _NO_STORE},
                    "401": _UNIDENTIFIED,
                    "404": _NOT_YOURS,
                    "409": problem_response("The file is part of a submitted application."),
                    "500": SERVER_ERROR,
                },
            },
        },
        f"{p}/me/applications/{{application_id}}/withdraw": {
            "post": {
                "operationId": "withdrawMyApplication",
                "summary": "Withdraw an application that is submitted, in progress or waiting for more information.",
                "security": identity,
                "parameters": [application_id],
                "responses": {
                    "200": _private("Application", "Withdrawn."),
                    "401": _UNIDENTIFIED,
                    "404": _NOT_YOURS,
                    "409": problem_response("The application is decided or withdrawn already."),
                    "500": SERVER_ERROR,
                },
            }
        },
    }


# Shared with openapi_staff.py.
RESOURCE_ID = _RESOURCE_ID
TIMESTAMP = _TIMESTAMP
NO_STORE = _NO_STORE
UNIDENTIFIED = _UNIDENTIFIED
NOT_YOURS = _NOT_YOURS
obj = _object
private = _private
json_body = _json_body
