"""Error pages: themed and translated for a known delivery point, plain for an unknown host; never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, Response, g
from werkzeug.exceptions import HTTPException, InternalServerError

from app.registry_client.errors import RegistryError, RegistryForbidden
from app.rendering import render
from app.security import point_of_host

log = logging.getLogger(__name__)
THEMED = {400, 403, 404, 405, 413, 429, 500, 503}


def _page(status: int) -> Response:
    if "point" not in g and (point := point_of_host()) is not None:
        # An error before the point was resolved: a body over MAX_CONTENT_LENGTH fails in the CSRF check already.
        g.point = point
    if "point" not in g:
        # Unknown host: nothing to theme with, and nothing to tell a stranger.
        return Response(f"{status}\n", status=status, mimetype="text/plain")
    template = f"errors/{status if status in THEMED else 500}.html"
    return render(template, status=status)


def register_error_handlers(app: Flask) -> None:
    """Render HTTP errors and registry failures as pages of the delivery point."""

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        return _page(exc.code or 500)

    @app.errorhandler(RegistryForbidden)
    def _forbidden(exc: RegistryForbidden) -> Response:
        # The registry's own decision about this person (e.g. a service for private persons only): not an outage.
        return _page(403)

    @app.errorhandler(RegistryError)
    def _registry(exc: RegistryError) -> Response:
        log.warning("registry unavailable: %s", exc)
        response = _page(503)
        response.headers["Retry-After"] = "60"
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error", exc_info=exc)
        try:
            return _page(500)
        except Exception:  # the error page itself failed: say the least
            log.exception("error page failed")
            return Response(InternalServerError.description, status=500, mimetype="text/plain")
