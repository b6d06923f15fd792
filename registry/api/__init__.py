"""The registry HTTP API under /api/v1 (see registry/openapi.json)."""

from __future__ import annotations

from flask import Blueprint

API_PREFIX = "/api/v1"

api = Blueprint("api", __name__, url_prefix=API_PREFIX)

# Route modules register themselves on `api` when imported.
from registry.api import (  # noqa: E402, F401
    applications,
    catalogue,
    data_requests,
    files,
    forms,
    messages,
    payments,
    publishing,
    reference,
    results,
    staff,
)
