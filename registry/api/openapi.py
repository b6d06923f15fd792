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
    return schemas


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
            "Every GET carries an ETag and answers If-None-Match with 304.",
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
                }
            },
        },
    }


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(build_openapi(), ensure_ascii=False, indent=2))
