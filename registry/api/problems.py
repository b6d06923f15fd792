"""Errors as `application/problem+json` (RFC 9457): one exception type and the handlers that render it."""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from registry.catalogue.schema import Problem

log = logging.getLogger(__name__)


class ApiProblem(Exception):
    """A request the API refuses; rendered as a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


def invalid_parameter(name: str, detail: str) -> ApiProblem:
    """Return a 400 problem naming the query parameter that was wrong."""
    return ApiProblem(
        400, f"Query parameter '{name}' is invalid: {detail}", errors=[{"parameter": name, "detail": detail}]
    )


def invalid_document(problems: list[Problem], detail: str = "The document is not valid.") -> ApiProblem:
    """Return a 422 problem listing every field-level problem by JSON Pointer."""
    return ApiProblem(422, detail, errors=[p.as_json() for p in problems])


def problem_response(status: int, detail: str, errors: list[dict[str, str]] | None = None) -> Response:
    """Render a problem document with the given status."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/problem+json")
    response.headers["Cache-Control"] = "no-store"
    return response


def register_error_handlers(app: Flask) -> None:
    """Turn every error, expected or not, into a problem document; never a stack trace."""

    @app.errorhandler(ApiProblem)
    def _api_problem(exc: ApiProblem) -> Response:
        response = problem_response(exc.status, exc.detail, exc.errors)
        response.headers.update(exc.headers)
        return response

    @app.errorhandler(HTTPException)
    def _http_exception(exc: HTTPException) -> Response:
        status = exc.code or 500
        response = problem_response(status, exc.description or HTTPStatus(status).phrase)
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return problem_response(500, "The registry could not answer this request. Please try again later.")
