"""Security headers on every response, error pages included, decided in one place."""

from __future__ import annotations

import time

from flask import Flask, Response, current_app, g, request

from app.delivery_points import current_point

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
)


def _is_frameable() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "frameable", False))


def frame_ancestors() -> str:
    """Return the frame-ancestors source list: 'none', or 'self' plus the point's embed origins on embed routes."""
    if _is_frameable():
        try:
            origins = current_point.embed_origins
        except (AttributeError, RuntimeError):
            origins = ()
        return " ".join(["'self'", *origins])
    return "'none'"


def init_security_headers(app: Flask) -> None:
    """Add CSP, framing, sniffing, referrer and timing headers to every response."""

    @app.before_request
    def _start_clock() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _headers(response: Response) -> Response:
        if "started" in g:
            # Server time, so operators and the benchmark can tell it from network time.
            response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - g.started) * 1000:.1f}"
        ancestors = frame_ancestors()
        response.headers["Content-Security-Policy"] = f"{CSP}; frame-ancestors {ancestors}"
        if ancestors == "'none'":
            response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        response.vary.add("HX-Request")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        return response
