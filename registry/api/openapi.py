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
from registry.api.openapi_applications import _application_paths, _application_schemas
from registry.api.openapi_data_requests import data_request_paths, data_request_schemas
from registry.api.openapi_messages import messages_paths, messages_schemas
from registry.api.openapi_parts import (
    BAD_PARAMETER,
    IF_NONE_MATCH,
    NOT_FOUND,
    SERVER_ERROR,
    SERVICE_ID,
    list_schema,
    ok_responses,
    path_parameter,
    problem_response,
    query_parameter,
    schema_ref,
)
from registry.api.openapi_payments import payments_paths, payments_schemas
from registry.api.openapi_results import results_paths, results_schemas
from registry.api.openapi_staff import staff_paths, staff_schemas
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
    schemas["ServiceForm"] = {
        "description": "A form people fill in for the service, at `/services/{service_id}/forms/{form}`.",
        "type": "object",
        "properties": {
            "form": {"$ref": "#/components/schemas/Slug"},
            "version": {"type": "integer", "minimum": 1, "description": "The newest version."},
        },
        "required": ["form", "version"],
        "additionalProperties": False,
    }
    schemas["ServiceDetail"] = {
        **service,
        "description": "A service as the registry returns it: the published description plus what the registry "
        "derives from what it stores.",
        "properties": service["properties"]
        | {
            "forms": {
                "type": "array",
                "readOnly": True,
                "description": "The service's forms (e.g. `application`: apply online through a delivery point), "
                "each with its newest version; empty when it has none. Set by the registry: a PUT ignores it.",
                "items": schema_ref("ServiceForm"),
            }
        },
        "required": [*service["required"], "forms"],
    }
    schemas["ServiceList"] = list_schema("ServiceItem", paged=True)
    schemas["InstitutionList"] = list_schema("Institution")
    schemas["MunicipalityList"] = list_schema("Municipality")
    schemas["LifeEventList"] = list_schema("LifeEvent")
    schemas["ImportResult"] = list_schema("ServiceItem")
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
    return (
        schemas
        | _application_schemas()
        | staff_schemas()
        | data_request_schemas()
        | messages_schemas()
        | results_schemas()
        | payments_schemas()
    )


def _paths() -> dict[str, Any]:
    p = API_PREFIX
    slug = {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 80}
    list_params = [
        query_parameter(
            "q",
            "Words to search for; case, diacritics and endings do not matter; each word matches as a prefix.",
            {"type": "string", "maxLength": 500},
        ),
        query_parameter("audience", "Who the service is for.", schema_ref("Audience")),
        query_parameter("level", "E-service maturity level.", {"type": "integer", "minimum": 1, "maximum": 5}),
        query_parameter("institution", "An institution taking part (competent or participating).", slug),
        query_parameter("municipality", "Nationwide services plus this municipality's own.", slug),
        query_parameter("life_event", "A life or business event.", slug),
        query_parameter(
            "page", "Page number, from 1.", {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1}
        ),
        query_parameter(
            "per_page", "Items per page.", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
        ),
        IF_NONE_MATCH,
    ]
    bearer = [{"publisherToken": []}]
    return (
        {
            f"{p}/services": {
                "get": {
                    "operationId": "listServices",
                    "summary": "List and search published services.",
                    "parameters": list_params,
                    "responses": ok_responses("ServiceList") | {"400": BAD_PARAMETER, "500": SERVER_ERROR},
                }
            },
            f"{p}/services/{{service_id}}": {
                "get": {
                    "operationId": "getService",
                    "summary": "The full description of a service and its forms (drafts only for their own publisher).",
                    "parameters": [SERVICE_ID, IF_NONE_MATCH],
                    "responses": ok_responses("ServiceDetail")
                    | {
                        "401": problem_response("A publisher token was sent but is not valid."),
                        "404": NOT_FOUND,
                        "410": problem_response("The service was withdrawn."),
                        "500": SERVER_ERROR,
                    },
                },
                "put": {
                    "operationId": "putService",
                    "summary": "Create or replace one of the publishing institution's services.",
                    "security": bearer,
                    "parameters": [
                        SERVICE_ID,
                        {
                            "name": "If-Match",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string"},
                            "description": "Replace only if the stored service still has this ETag.",
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": schema_ref("Service")}},
                    },
                    "responses": {
                        "200": {
                            "description": "Replaced.",
                            "content": {"application/json": {"schema": schema_ref("ServiceDetail")}},
                        },
                        "201": {
                            "description": "Created.",
                            "content": {"application/json": {"schema": schema_ref("ServiceDetail")}},
                        },
                        "400": problem_response("The body is not JSON."),
                        "401": problem_response("No valid publisher token."),
                        "403": problem_response("The service belongs to another institution."),
                        "404": NOT_FOUND,
                        "412": problem_response("If-Match did not match."),
                        "413": problem_response("The body is too large."),
                        "415": problem_response("The body is not application/json."),
                        "422": problem_response("The document is not valid; `errors` lists each problem."),
                        "500": SERVER_ERROR,
                    },
                },
            },
            f"{p}/services/{{service_id}}.jsonld": {
                "get": {
                    "operationId": "getServiceJsonLd",
                    "summary": "A service as CPSV-AP 3.2 JSON-LD.",
                    "parameters": [SERVICE_ID, IF_NONE_MATCH],
                    "responses": ok_responses("JsonLd", "application/ld+json")
                    | {
                        "401": problem_response("A publisher token was sent but is not valid."),
                        "404": NOT_FOUND,
                        "410": problem_response("The service was withdrawn."),
                        "500": SERVER_ERROR,
                    },
                }
            },
            f"{p}/services/{{service_id}}/forms/{{form}}": {
                "get": {
                    "operationId": "getServiceForm",
                    "summary": "The newest version of a service form (definition and answers schema).",
                    "parameters": [SERVICE_ID, path_parameter("form", "The form, e.g. application."), IF_NONE_MATCH],
                    "responses": ok_responses("FormDocument")
                    | {
                        "401": problem_response("A publisher token was sent but is not valid."),
                        "404": NOT_FOUND,
                        "410": problem_response("The service was withdrawn."),
                        "500": SERVER_ERROR,
                    },
                }
            },
            f"{p}/services/{{service_id}}/forms/{{form}}/versions/{{version}}": {
                "get": {
                    "operationId": "getServiceFormVersion",
                    "summary": "One version of a service form; drafts keep the version they were started with.",
                    "parameters": [
                        SERVICE_ID,
                        path_parameter("form", "The form, e.g. application."),
                        {
                            "name": "version",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1},
                        },
                        IF_NONE_MATCH,
                    ],
                    "responses": ok_responses("FormDocument")
                    | {
                        "401": problem_response("A publisher token was sent but is not valid."),
                        "404": NOT_FOUND,
                        "410": problem_response("The service was withdrawn."),
                        "500": SERVER_ERROR,
                    },
                }
            },
            f"{p}/catalogue.jsonld": {
                "get": {
                    "operationId": "getCatalogueJsonLd",
                    "summary": "Every published service as one CPSV-AP 3.2 JSON-LD document.",
                    "parameters": [IF_NONE_MATCH],
                    "responses": ok_responses("JsonLd", "application/ld+json") | {"500": SERVER_ERROR},
                }
            },
            f"{p}/institutions": {
                "get": {
                    "operationId": "listInstitutions",
                    "summary": "Every institution.",
                    "parameters": [IF_NONE_MATCH],
                    "responses": ok_responses("InstitutionList") | {"500": SERVER_ERROR},
                }
            },
            f"{p}/institutions/{{institution_id}}": {
                "get": {
                    "operationId": "getInstitution",
                    "summary": "One institution.",
                    "parameters": [path_parameter("institution_id", "The institution id."), IF_NONE_MATCH],
                    "responses": ok_responses("Institution") | {"404": NOT_FOUND, "500": SERVER_ERROR},
                }
            },
            f"{p}/municipalities": {
                "get": {
                    "operationId": "listMunicipalities",
                    "summary": "Municipalities that publish services of their own.",
                    "parameters": [IF_NONE_MATCH],
                    "responses": ok_responses("MunicipalityList") | {"500": SERVER_ERROR},
                }
            },
            f"{p}/life-events": {
                "get": {
                    "operationId": "listLifeEvents",
                    "summary": "Life and business events that group services.",
                    "parameters": [IF_NONE_MATCH],
                    "responses": ok_responses("LifeEventList") | {"500": SERVER_ERROR},
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
                            "application/ld+json": {"schema": schema_ref("JsonLd")},
                            "application/json": {"schema": schema_ref("JsonLd")},
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "Imported.",
                            "content": {"application/json": {"schema": schema_ref("ImportResult")}},
                        },
                        "400": problem_response("The body is not JSON."),
                        "401": problem_response("No valid publisher token."),
                        "413": problem_response("The body is too large."),
                        "415": problem_response("The body is not JSON-LD."),
                        "422": problem_response("The document could not be imported; `errors` lists each problem."),
                        "500": SERVER_ERROR,
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
                        "200": {
                            "description": "Healthy.",
                            "content": {"application/json": {"schema": schema_ref("Health")}},
                        },
                        "503": problem_response("The database is not reachable."),
                    },
                }
            },
        }
        | _application_paths()
        | staff_paths()
        | data_request_paths()
        | messages_paths()
        | results_paths()
        | payments_paths()
    )


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
