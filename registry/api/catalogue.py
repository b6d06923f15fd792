"""Read the catalogue: list and search services, one service, and the CPSV-AP JSON-LD exports."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from registry.api import api
from registry.api.auth import optional_publisher
from registry.api.params import choice_param, int_param, text_param
from registry.api.problems import ApiProblem
from registry.api.responses import base_url, json_response
from registry.catalogue.schema import catalogue_schema
from registry.cpsv.export import catalogue_jsonld, service_jsonld
from registry.db import db_session
from registry.models.reference import ids_of, list_institutions, list_life_events
from registry.models.service_search import ServiceQuery, find_services
from registry.models.services import get_service, published_documents, service_detail
from registry.models.tables import Service

AUDIENCES = tuple(catalogue_schema()["$defs"]["Audience"]["enum"])
MAX_PAGE = 10_000
MAX_PER_PAGE = 100
JSONLD = "application/ld+json"


def _reference_param(name: str, kind: str) -> str | None:
    """Return a parameter that must name a known institution, municipality or life event."""
    if name not in request.args:
        return None
    return choice_param(name, ids_of(db_session(), kind))


@api.get("/services")
def list_services() -> Response:
    """List published services, filtered and searched, one page at a time."""
    query = ServiceQuery(
        q=text_param("q"),
        audience=choice_param("audience", AUDIENCES),
        level=int_param("level", None, 1, 5),
        institution=_reference_param("institution", "institutions"),
        municipality=_reference_param("municipality", "municipalities"),
        life_event=_reference_param("life_event", "life_events"),
        page=int_param("page", 1, 1, MAX_PAGE) or 1,
        per_page=int_param("per_page", 20, 1, MAX_PER_PAGE) or 20,
    )
    result = find_services(db_session(), query)
    return json_response({"items": result.items, "total": result.total, "page": query.page, "per_page": query.per_page})


def visible_service_row(service_id: str) -> tuple[Service, bool]:
    """Return a stored service and whether it is public; drafts only for their own publisher, else 404 or 410."""
    row = get_service(db_session(), service_id)
    if row is None:
        raise ApiProblem(404, f"There is no service '{service_id}'.")
    if row.status == "published":
        return row, True
    if row.status == "withdrawn":
        raise ApiProblem(410, f"The service '{service_id}' has been withdrawn and is no longer offered.")
    if optional_publisher() == row.competent_authority:
        return row, False
    raise ApiProblem(404, f"There is no service '{service_id}'.")


def _visible_service(service_id: str) -> tuple[dict[str, Any], bool]:
    row, public = visible_service_row(service_id)
    return row.document, public


@api.get("/services/<slug:service_id>")
def show_service(service_id: str) -> Response:
    """Return the full description of one service, with the forms people fill in for it."""
    row, public = visible_service_row(service_id)
    return json_response(service_detail(db_session(), row), public=public)


def _jsonld_references() -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Return institutions and life events by id: the JSON-LD export names them."""
    session = db_session()
    return {i["id"]: i for i in list_institutions(session)}, {e["id"]: e for e in list_life_events(session)}


@api.get("/services/<slug:service_id>.jsonld")
def show_service_jsonld(service_id: str) -> Response:
    """Return one service as CPSV-AP 3.2 JSON-LD."""
    document, public = _visible_service(service_id)
    institutions, life_events = _jsonld_references()
    return json_response(
        service_jsonld(document, institutions, base_url(), life_events), mimetype=JSONLD, public=public
    )


@api.get("/catalogue.jsonld")
def show_catalogue_jsonld() -> Response:
    """Return every published service as one CPSV-AP 3.2 JSON-LD document."""
    institutions, life_events = _jsonld_references()
    documents = published_documents(db_session())
    return json_response(catalogue_jsonld(documents, institutions, base_url(), life_events), mimetype=JSONLD)
