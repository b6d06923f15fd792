"""GET /healthz: for load balancers and start-up scripts."""

from __future__ import annotations

from flask import Blueprint, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from registry.api.problems import problem_response
from registry.db import db_session
from registry.models.services import count_services

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz() -> Response:
    """Say whether the registry can reach its database."""
    try:
        session = db_session()
        session.execute(text("SELECT 1"))
        services = count_services(session)
    except SQLAlchemyError:
        return problem_response(503, "The registry database is not reachable.")
    response = Response(f'{{"status":"ok","services":{services}}}', mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    response.add_etag()
    return response
