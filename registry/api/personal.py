"""What every personal endpoint shares (drafts, applications, files): JSON in and out, ids, paging, no leaks.

Responses carry personal data and are never cached (`Cache-Control: no-store`). Database errors are re-raised
without their parameters, so personal codes never reach the error log.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, request
from sqlalchemy.exc import SQLAlchemyError

from registry.api.params import int_param
from registry.api.problems import ApiProblem

RESOURCE_ID = re.compile(r"[0-9a-f]{32}")
MAX_PER_PAGE = 100


class StorageError(Exception):
    """A database failure, described without the values it was given."""


def scrubbed(view: Callable[..., Response]) -> Callable[..., Response]:
    """Keep personal codes out of the error log: SQLAlchemy's messages list the bound parameters (principals)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except SQLAlchemyError as exc:
            statement = getattr(exc, "statement", None) or ""
            # `from None`: the traceback then shows only this error, so the parameters never reach the log.
            raise StorageError(f"{type(exc).__name__} in {view.__name__}: {statement}") from None

    return wrapper


def private(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Return JSON that no cache may keep: it is somebody's personal data."""
    if status == 204:
        response = Response(status=204)
    else:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        response = Response(body, status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(headers or {})
    return response


def pointer(*parts: Any) -> str:
    """Return a JSON Pointer fragment (RFC 6901) to `parts` of the request document."""
    return "#" + "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def json_object() -> dict[str, Any]:
    """Return the JSON object in the body, or refuse: 415 not JSON, 400 malformed, 422 not an object."""
    if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
        raise ApiProblem(415, "Send the body as application/json.")
    body = request.get_json(silent=True)
    if body is None:
        raise ApiProblem(400, "The request body is not valid JSON.")
    if not isinstance(body, dict):
        raise ApiProblem(422, "The body must be a JSON object.", errors=[{"pointer": "#", "detail": "type"}])
    return body


def check_fields(body: dict[str, Any], required: dict[str, type | tuple[type, ...]], optional: dict[str, Any]) -> None:
    """Refuse a body with unknown fields (status, decision...), missing fields or fields of the wrong type."""
    errors = [{"pointer": pointer(key), "detail": "not_allowed"} for key in body if key not in {**required, **optional}]
    errors += [{"pointer": pointer(key), "detail": "required"} for key in required if key not in body]
    for key, kind in {**required, **optional}.items():
        value = body.get(key)
        # bool is an int in Python; a version or a page id is never true or false.
        if key in body and (not isinstance(value, kind) or (isinstance(value, bool) and bool not in _types(kind))):
            errors.append({"pointer": pointer(key), "detail": "type"})
    if errors:
        raise ApiProblem(422, "The request body is not valid.", errors=errors)


def _types(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def resource_id(value: str, what: str) -> str:
    """A malformed id cannot exist: answer it exactly like somebody else's (404)."""
    if RESOURCE_ID.fullmatch(value) is None:
        raise ApiProblem(404, f"There is no such {what}.")
    return value


def paging() -> tuple[int, int]:
    page = int_param("page", 1, 1, 10_000) or 1
    per_page = int_param("per_page", 20, 1, MAX_PER_PAGE) or 20
    return page, per_page
