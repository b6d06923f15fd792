"""JSON responses with validators and caching headers, so clients can revalidate cheaply."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Response, current_app, request


def _serialise(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def etag_of(payload: Any) -> str:
    """Return the ETag a JSON response of `payload` carries (for If-Match on writes)."""
    return _digest(_serialise(payload))


def json_response(
    payload: Any,
    *,
    status: int = 200,
    mimetype: str = "application/json",
    public: bool = True,
    headers: dict[str, str] | None = None,
) -> Response:
    """Serialise `payload` with a strong ETag; answer a matching If-None-Match with 304.

    Public catalogue data may be cached and served stale if the registry fails (stale-if-error); anything shown only
    to an authenticated publisher is `private, no-cache`.
    """
    body = _serialise(payload)
    response = Response(body, status=status, mimetype=mimetype)
    response.set_etag(_digest(body))
    if public:
        config = current_app.config
        response.headers["Cache-Control"] = (
            f"public, max-age={config['CACHE_MAX_AGE']}, stale-while-revalidate={config['CACHE_MAX_AGE']}, "
            f"stale-if-error={config['CACHE_STALE_IF_ERROR']}"
        )
    else:
        response.headers["Cache-Control"] = "private, no-cache"
    if headers:
        response.headers.update(headers)
    if request.method in ("GET", "HEAD") and status == 200:
        response.make_conditional(request)
    return response


def base_url() -> str:
    """Return the public base URL of the registry (configured, or the one this request used)."""
    return str(current_app.config["PUBLIC_BASE_URL"] or request.host_url).rstrip("/")
