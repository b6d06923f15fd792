"""Building blocks of the OpenAPI document shared by its feature modules: references, responses, parameters."""

from __future__ import annotations

from typing import Any


def schema_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def list_schema(name: str, paged: bool = False) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "items": {"type": "array", "items": schema_ref(name)},
        "total": {"type": "integer", "minimum": 0},
    }
    if paged:
        properties |= {
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
        }
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


CACHE_HEADERS = {
    "ETag": {"description": "Validator of the representation.", "schema": {"type": "string"}},
    "Cache-Control": {"description": "How long the response may be reused.", "schema": {"type": "string"}},
}


def problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": schema_ref("Problem")}}}


def ok_responses(schema: str, media: str = "application/json", description: str = "OK") -> dict[str, Any]:
    return {
        "200": {
            "description": description,
            "headers": CACHE_HEADERS,
            "content": {media: {"schema": schema_ref(schema)}},
        },
        "304": {"description": "Not modified (If-None-Match matched the ETag)."},
    }


def query_parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def path_parameter(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema_ref("Slug")}


IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}}
SERVICE_ID = path_parameter("service_id", "The service id (a readable slug).")
BAD_PARAMETER = problem_response("A parameter is malformed or out of range.")
NOT_FOUND = problem_response("No such resource.")
SERVER_ERROR = problem_response("The registry could not answer.")
