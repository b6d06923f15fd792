"""The OpenAPI 3.1 description of the registry, built from the same JSON Schema the code validates with.

`make openapi` writes it to registry/openapi.json; a test fails when the committed file and the code drift apart.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, request

from registry.api import API_PREFIX
from registry.catalogue.schema import catalogue_schema
from registry.models.services import ITEM_FIELDS

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi.json"

openapi_blueprint = Blueprint("openapi", __name__)


@openapi_blueprint.get(f"{API_PREFIX}/openapi.json")
def openapi_document() -> Response:
    """Serve the committed OpenAPI document."""
    response = Response(OPENAPI_PATH.read_bytes(), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.add_etag()
    return response.make_conditional(request)


def _components_refs(node: Any) -> Any:
    """Rewrite `#/$defs/X` references to `#/components/schemas/X`."""
    if isinstance(node, dict):
        return {
            key: (value.replace("#/$defs/", "#/components/schemas/") if key == "$ref" else _components_refs(value))
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_components_refs(v) for v in node]
    return node


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _list_of(name: str, paged: bool = False) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "items": {"type": "array", "items": _ref(name)},
        "total": {"type": "integer", "minimum": 0},
    }
    if paged:
        properties |= {
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
        }
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def _schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = _components_refs(copy.deepcopy(catalogue_schema()["$defs"]))
    service = schemas["Service"]
    schemas["ServiceItem"] = {
        "description": "A service as it appears in a list.",
        "type": "object",
        "properties": {k: service["properties"][k] for k in ITEM_FIELDS}
        | {"free": {"type": "boolean", "description": "Every cost of the service is 0."}},
        "required": ["id", "title", "summary", "level", "audiences", "competent_authority", "spatial", "status"],
        "additionalProperties": False,
    }
    schemas["ServiceList"] = _list_of("ServiceItem", paged=True)
    schemas["InstitutionList"] = _list_of("Institution")
    schemas["MunicipalityList"] = _list_of("Municipality")
    schemas["LifeEventList"] = _list_of("LifeEvent")
    schemas["ImportResult"] = _list_of("ServiceItem")
    schemas["FormDocument"] = {
        "description": "One version of a service form: its definition (docs/forms.md) and its answers' JSON Schema.",
        "type": "object",
        "properties": {
            "service": {"$ref": "#/components/schemas/Slug"},
            "form": {"$ref": "#/components/schemas/Slug"},
            "version": {"type": "integer", "minimum": 1},
            "definition": {"type": "object"},
            "answers_schema": {"type": "object"},
        },
        "required": ["service", "form", "version", "definition", "answers_schema"],
        "additionalProperties": False,
    }
    schemas["JsonLd"] = {"description": "A CPSV-AP 3.2 JSON-LD document with an inline @context.", "type": "object"}
    schemas["Health"] = {
        "type": "object",
        "properties": {"status": {"const": "ok"}, "services": {"type": "integer", "minimum": 0}},
        "required": ["status", "services"],
    }
    schemas["Problem"] = {
        "description": "An error (RFC 9457). `errors` lists field-level details by JSON Pointer or parameter name.",
        "type": "object",
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "pointer": {"type": "string"},
                        "parameter": {"type": "string"},
                        "detail": {"type": "string"},
                    },
                    "required": ["detail"],
                },
            },
        },
        "required": ["type", "title", "status", "detail"],
    }
    return schemas | _application_schemas()


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
    slug = _ref("Slug")
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
        "enum": ["submitted", "in_progress", "more_info_requested", "decided", "withdrawn"],
    }
    created = {
        "id": _RESOURCE_ID,
        "reference": {"type": "string", "pattern": "^PT-[0-9]{4}-[0-9]{6,}$", "description": "e.g. PT-2026-000123"},
        "service": slug,
        "form": slug,
        "form_version": version,
        "status": _ref("ApplicationStatus"),
        "submitted_at": _TIMESTAMP,
    }
    item = created | {"updated_at": _TIMESTAMP}
    return {
        "DraftItem": _object(draft_item, description="A draft as it appears in a list (without its answers)."),
        "Draft": _object(draft_item | {"answers": _ANSWERS}, description="Saved, not yet submitted answers."),
        "DraftList": _list_of("DraftItem", paged=True),
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
        "ApplicationList": _list_of("ApplicationItem", paged=True),
        "TimelineEvent": _object(
            {
                "at": _TIMESTAMP,
                "status": _ref("ApplicationStatus"),
                "actor": {"type": "string", "enum": ["applicant", "system"]},
                "note": {"oneOf": [_ref("Text"), {"type": "null"}]},
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
                "answers": _ANSWERS,
                "timeline": {"type": "array", "items": _ref("TimelineEvent")},
            },
            description="One application with its answers and timeline.",
        ),
    }


_CACHE_HEADERS = {
    "ETag": {"description": "Validator of the representation.", "schema": {"type": "string"}},
    "Cache-Control": {"description": "How long the response may be reused.", "schema": {"type": "string"}},
}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": _ref("Problem")}}}


def _ok(schema: str, media: str = "application/json", description: str = "OK") -> dict[str, Any]:
    return {
        "200": {"description": description, "headers": _CACHE_HEADERS, "content": {media: {"schema": _ref(schema)}}},
        "304": {"description": "Not modified (If-None-Match matched the ETag)."},
    }


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def _path(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": _ref("Slug")}


_IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}}
_SERVICE_ID = _path("service_id", "The service id (a readable slug).")
_BAD = _problem("A parameter is malformed or out of range.")
_MISSING = _problem("No such resource.")
_SERVER = _problem("The registry could not answer.")


def _paths() -> dict[str, Any]:
    p = API_PREFIX
    slug = {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 80}
    list_params = [
        _query(
            "q",
            "Words to search for; case, diacritics and endings do not matter; each word matches as a prefix.",
            {"type": "string", "maxLength": 500},
        ),
        _query("audience", "Who the service is for.", _ref("Audience")),
        _query("level", "E-service maturity level.", {"type": "integer", "minimum": 1, "maximum": 5}),
        _query("institution", "An institution taking part (competent or participating).", slug),
        _query("municipality", "Nationwide services plus this municipality's own.", slug),
        _query("life_event", "A life or business event.", slug),
        _query("page", "Page number, from 1.", {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1}),
        _query("per_page", "Items per page.", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
        _IF_NONE_MATCH,
    ]
    bearer = [{"publisherToken": []}]
    return {
        f"{p}/services": {
            "get": {
                "operationId": "listServices",
                "summary": "List and search published services.",
                "parameters": list_params,
                "responses": _ok("ServiceList") | {"400": _BAD, "500": _SERVER},
            }
        },
        f"{p}/services/{{service_id}}": {
            "get": {
                "operationId": "getService",
                "summary": "The full description of a service (drafts only for their own publisher).",
                "parameters": [_SERVICE_ID, _IF_NONE_MATCH],
                "responses": _ok("Service")
                | {
                    "401": _problem("A publisher token was sent but is not valid."),
                    "404": _MISSING,
                    "410": _problem("The service was withdrawn."),
                    "500": _SERVER,
                },
            },
            "put": {
                "operationId": "putService",
                "summary": "Create or replace one of the publishing institution's services.",
                "security": bearer,
                "parameters": [
                    _SERVICE_ID,
                    {
                        "name": "If-Match",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string"},
                        "description": "Replace only if the stored service still has this ETag.",
                    },
                ],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Service")}}},
                "responses": {
                    "200": {"description": "Replaced.", "content": {"application/json": {"schema": _ref("Service")}}},
                    "201": {"description": "Created.", "content": {"application/json": {"schema": _ref("Service")}}},
                    "400": _problem("The body is not JSON."),
                    "401": _problem("No valid publisher token."),
                    "403": _problem("The service belongs to another institution."),
                    "404": _MISSING,
                    "412": _problem("If-Match did not match."),
                    "413": _problem("The body is too large."),
                    "415": _problem("The body is not application/json."),
                    "422": _problem("The document is not valid; `errors` lists each problem."),
                    "500": _SERVER,
                },
            },
        },
        f"{p}/services/{{service_id}}.jsonld": {
            "get": {
                "operationId": "getServiceJsonLd",
                "summary": "A service as CPSV-AP 3.2 JSON-LD.",
                "parameters": [_SERVICE_ID, _IF_NONE_MATCH],
                "responses": _ok("JsonLd", "application/ld+json")
                | {
                    "401": _problem("A publisher token was sent but is not valid."),
                    "404": _MISSING,
                    "410": _problem("The service was withdrawn."),
                    "500": _SERVER,
                },
            }
        },
        f"{p}/services/{{service_id}}/forms/{{form}}": {
            "get": {
                "operationId": "getServiceForm",
                "summary": "The newest version of a service form (definition and answers schema).",
                "parameters": [_SERVICE_ID, _path("form", "The form, e.g. application."), _IF_NONE_MATCH],
                "responses": _ok("FormDocument")
                | {
                    "401": _problem("A publisher token was sent but is not valid."),
                    "404": _MISSING,
                    "410": _problem("The service was withdrawn."),
                    "500": _SERVER,
                },
            }
        },
        f"{p}/services/{{service_id}}/forms/{{form}}/versions/{{version}}": {
            "get": {
                "operationId": "getServiceFormVersion",
                "summary": "One version of a service form; drafts keep the version they were started with.",
                "parameters": [
                    _SERVICE_ID,
                    _path("form", "The form, e.g. application."),
                    {"name": "version", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}},
                    _IF_NONE_MATCH,
                ],
                "responses": _ok("FormDocument")
                | {
                    "401": _problem("A publisher token was sent but is not valid."),
                    "404": _MISSING,
                    "410": _problem("The service was withdrawn."),
                    "500": _SERVER,
                },
            }
        },
        f"{p}/catalogue.jsonld": {
            "get": {
                "operationId": "getCatalogueJsonLd",
                "summary": "Every published service as one CPSV-AP 3.2 JSON-LD document.",
                "parameters": [_IF_NONE_MATCH],
                "responses": _ok("JsonLd", "application/ld+json") | {"500": _SERVER},
            }
        },
        f"{p}/institutions": {
            "get": {
                "operationId": "listInstitutions",
                "summary": "Every institution.",
                "parameters": [_IF_NONE_MATCH],
                "responses": _ok("InstitutionList") | {"500": _SERVER},
            }
        },
        f"{p}/institutions/{{institution_id}}": {
            "get": {
                "operationId": "getInstitution",
                "summary": "One institution.",
                "parameters": [_path("institution_id", "The institution id."), _IF_NONE_MATCH],
                "responses": _ok("Institution") | {"404": _MISSING, "500": _SERVER},
            }
        },
        f"{p}/municipalities": {
            "get": {
                "operationId": "listMunicipalities",
                "summary": "Municipalities that publish services of their own.",
                "parameters": [_IF_NONE_MATCH],
                "responses": _ok("MunicipalityList") | {"500": _SERVER},
            }
        },
        f"{p}/life-events": {
            "get": {
                "operationId": "listLifeEvents",
                "summary": "Life and business events that group services.",
                "parameters": [_IF_NONE_MATCH],
                "responses": _ok("LifeEventList") | {"500": _SERVER},
            }
        },
        f"{p}/import/cpsv-ap": {
            "post": {
                "operationId": "importCpsvAp",
                "summary": "Import CPSV-AP 3.2 JSON-LD as drafts of the publishing institution (all or nothing).",
                "security": bearer,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/ld+json": {"schema": _ref("JsonLd")},
                        "application/json": {"schema": _ref("JsonLd")},
                    },
                },
                "responses": {
                    "201": {
                        "description": "Imported.",
                        "content": {"application/json": {"schema": _ref("ImportResult")}},
                    },
                    "400": _problem("The body is not JSON."),
                    "401": _problem("No valid publisher token."),
                    "413": _problem("The body is too large."),
                    "415": _problem("The body is not JSON-LD."),
                    "422": _problem("The document could not be imported; `errors` lists each problem."),
                    "500": _SERVER,
                },
            }
        },
        f"{p}/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document.",
                "responses": {
                    "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
                },
            }
        },
        "/healthz": {
            "get": {
                "operationId": "health",
                "summary": "Whether the registry can reach its database.",
                "responses": {
                    "200": {"description": "Healthy.", "content": {"application/json": {"schema": _ref("Health")}}},
                    "503": _problem("The database is not reachable."),
                },
            }
        },
    } | _application_paths()


_NO_STORE = {"Cache-Control": {"description": "Always `no-store`: personal data.", "schema": {"type": "string"}}}
_UNIDENTIFIED = _problem("No X-Portal-Identity, or one that is invalid or expired.")
_NOT_YOURS = _problem("No such resource of the signed-in principal (somebody else's is not revealed).")


def _private(schema: str, description: str = "OK", headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "headers": _NO_STORE | (headers or {}),
        "content": {"application/json": {"schema": _ref(schema)}},
    }


def _json_body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(schema)}}}


def _application_paths() -> dict[str, Any]:
    """Drafts and applications: every operation needs the signed identity and answers `no-store`."""
    p = API_PREFIX
    identity = [{"portalIdentity": []}]
    location = {"Location": {"description": "Where the new resource is.", "schema": {"type": "string"}}}
    page = _query("page", "Page number, from 1.", {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1})
    per_page = _query("per_page", "Items per page.", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20})
    draft_id = {"name": "draft_id", "in": "path", "required": True, "schema": _RESOURCE_ID}
    application_id = {"name": "application_id", "in": "path", "required": True, "schema": _RESOURCE_ID}
    body_problems = {
        "400": _problem("The body is not JSON."),
        "413": _problem("The body is too large."),
        "415": _problem("The body is not application/json."),
    }
    return {
        f"{p}/me/drafts": {
            "get": {
                "operationId": "listMyDrafts",
                "summary": "The principal's drafts, most recently saved first.",
                "security": identity,
                "parameters": [page, per_page],
                "responses": {"200": _private("DraftList"), "400": _BAD, "401": _UNIDENTIFIED, "500": _SERVER},
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
                    "403": _problem("The service is not offered to this kind of applicant (audience)."),
                    "404": _problem("No such published service, or it has no such form."),
                    "422": _problem("The body is not valid; `errors` lists each problem."),
                    "500": _SERVER,
                },
            },
        },
        f"{p}/me/drafts/{{draft_id}}": {
            "get": {
                "operationId": "getMyDraft",
                "summary": "One of the principal's drafts with its answers.",
                "security": identity,
                "parameters": [draft_id],
                "responses": {"200": _private("Draft"), "401": _UNIDENTIFIED, "404": _NOT_YOURS, "500": _SERVER},
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
                    "422": _problem("The body is not valid; `errors` lists each problem."),
                    "500": _SERVER,
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
                    "500": _SERVER,
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
                    "400": _problem("The body is not JSON, or the Idempotency-Key is missing or malformed."),
                    "401": _UNIDENTIFIED,
                    "403": _problem("The service is not offered to this kind of applicant (audience)."),
                    "404": _problem("No such draft, published service or form version."),
                    "409": _problem("A request with this Idempotency-Key is still being processed."),
                    "422": _problem(
                        "The answers or the body are not valid (`errors` by JSON Pointer), or the key was used "
                        "with another body."
                    ),
                    "500": _SERVER,
                },
            }
        },
        f"{p}/me/applications": {
            "get": {
                "operationId": "listMyApplications",
                "summary": "The principal's applications, newest first, with their status.",
                "security": identity,
                "parameters": [page, per_page],
                "responses": {"200": _private("ApplicationList"), "400": _BAD, "401": _UNIDENTIFIED, "500": _SERVER},
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
                    "500": _SERVER,
                },
            }
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
                    "409": _problem("The application is decided or withdrawn already."),
                    "500": _SERVER,
                },
            }
        },
    }


def build_openapi() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of the registry API."""
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Latvian public service registry",
            "version": "1.0.0",
            "description": "The shared catalogue of Latvian public services read by every delivery point. "
            "Multilingual text is an object keyed by language code. Errors are application/problem+json (RFC 9457). "
            "Every public GET carries an ETag and answers If-None-Match with 304. Drafts and applications belong to "
            "the principal in the signed X-Portal-Identity header and are never cached (no-store).",
            "license": {"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
        },
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "publisherToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token issued to one institution (`flask --app registry create-token <id>`).",
                },
                "portalIdentity": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Portal-Identity",
                    "description": "The signed-in person as the portal forwards it: an itsdangerous URL-safe timed "
                    "token (salt `lv-eservices-identity`, at most 300 s old) made with the secret shared with the "
                    "registry (`identity.sign_identity`).",
                },
            },
        },
    }


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(build_openapi(), ensure_ascii=False, indent=2))
