"""GET /healthz for load balancers."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from app.access import public

bp = Blueprint("status", __name__)


@bp.get("/healthz")
@public
def healthz() -> Response:
    """Say the portal process is up (it holds no state; the registry has its own health check)."""
    response = jsonify(status="ok")
    response.headers["Cache-Control"] = "no-store"
    return response
