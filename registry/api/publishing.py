"""Publish services: an institution replaces its own service descriptions, or imports them from CPSV-AP."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response, request

from registry.api import API_PREFIX, api
from registry.api.auth import require_publisher
from registry.api.problems import ApiProblem, invalid_document
from registry.api.responses import etag_of, json_response
from registry.catalogue.rules import service_problems
from registry.catalogue.schema import Problem
from registry.cpsv.importer import parse_cpsv
from registry.db import db_session
from registry.models.reference import known_ids
from registry.models.services import DERIVED_FIELDS, get_service, item_of, save_service, service_detail

JSON_TYPES = ("application/json", "application/ld+json")


def _json_body() -> Any:
    """Return the parsed JSON body, or refuse with 415 (not JSON) or 400 (malformed)."""
    if request.mimetype not in JSON_TYPES and not request.mimetype.endswith("+json"):
        raise ApiProblem(415, "Send the document as application/json.")
    body = request.get_json(silent=True)
    if body is None:
        raise ApiProblem(400, "The request body is not valid JSON.")
    return body


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@api.put("/services/<slug:service_id>")
def put_service(service_id: str) -> Response:
    """Create or replace one of the publisher's own services."""
    publisher = require_publisher()
    document = _json_body()
    if not isinstance(document, dict):
        raise invalid_document([Problem("#", "the document must be a JSON object")])
    # What the registry derives (the forms) may come back from a GET unchanged; it is never taken from a publisher.
    document = {key: value for key, value in document.items() if key not in DERIVED_FIELDS}
    document = {**document, "id": document.get("id", service_id)}
    if document["id"] != service_id:
        raise invalid_document([Problem("#/id", f"must be {service_id!r}, the id in the URL")])
    session = db_session()
    existing = get_service(session, service_id)
    if existing is not None and existing.competent_authority != publisher:
        raise ApiProblem(403, f"The service '{service_id}' belongs to another institution.")
    if isinstance(document.get("competent_authority"), str) and document["competent_authority"] != publisher:
        raise ApiProblem(403, "You can publish only services whose competent authority is your institution.")
    problems = service_problems(document, known_ids(session))
    if problems:
        raise invalid_document(problems)
    if (
        existing is not None
        and request.if_match
        and not request.if_match.contains(etag_of(service_detail(session, existing)))
    ):
        raise ApiProblem(412, "The service has changed since you read it; fetch it again and reapply your change.")
    document["updated_at"] = _now()
    row = save_service(session, document)
    session.commit()
    status = 200 if existing is not None else 201
    return json_response(
        service_detail(session, row),
        status=status,
        public=False,
        headers={"Location": f"{API_PREFIX}/services/{service_id}"},
    )


@api.post("/import/cpsv-ap")
def import_cpsv() -> Response:
    """Import CPSV-AP 3.2 JSON-LD as draft services of the publisher: all of them, or none."""
    publisher = require_publisher()
    body = _json_body()
    services, problems = parse_cpsv(body, publisher)
    if problems:
        raise invalid_document(problems, "The CPSV-AP document could not be imported; nothing was changed.")
    session = db_session()
    known = known_ids(session)
    for index, service in enumerate(services):
        existing = get_service(session, service["id"])
        if existing is not None and existing.competent_authority != publisher:
            problems.append(Problem(f"#/services/{index}/id", f"{service['id']!r} belongs to another institution"))
        problems += [
            Problem(f"#/services/{index}{p.pointer.removeprefix('#')}", p.detail)
            for p in service_problems(service, known)
        ]
    if problems:
        raise invalid_document(problems, "The CPSV-AP document could not be imported; nothing was changed.")
    stamp = _now()
    try:
        for service in services:
            service["updated_at"] = stamp
            save_service(session, service)
        session.commit()
    except Exception:
        session.rollback()
        raise
    items = [item_of(s) for s in services]
    return json_response({"items": items, "total": len(items)}, status=201, public=False)
