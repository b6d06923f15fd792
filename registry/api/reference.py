"""Reference lists: institutions, municipalities and life events."""

from __future__ import annotations

from flask import Response

from registry.api import api
from registry.api.problems import ApiProblem
from registry.api.responses import json_response
from registry.db import db_session
from registry.models.reference import get_institution, list_institutions, list_life_events, list_municipalities


@api.get("/institutions")
def institutions() -> Response:
    """List every institution, by Latvian name."""
    items = list_institutions(db_session())
    return json_response({"items": items, "total": len(items)})


@api.get("/municipalities")
def municipalities() -> Response:
    """List the municipalities that publish services of their own."""
    items = list_municipalities(db_session())
    return json_response({"items": items, "total": len(items)})


@api.get("/life-events")
def life_events() -> Response:
    """List life and business events in their curated order."""
    items = list_life_events(db_session())
    return json_response({"items": items, "total": len(items)})


@api.get("/institutions/<slug:institution_id>")
def show_institution(institution_id: str) -> Response:
    """Return one institution."""
    document = get_institution(db_session(), institution_id)
    if document is None:
        raise ApiProblem(404, f"There is no institution '{institution_id}'.")
    return json_response(document)
