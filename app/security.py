"""Security headers on every response, error pages included, decided in one place; the CSRF failure page."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from flask_wtf.csrf import CSRFError

from app.access import SIGNED_IN, STAFF
from app.auth.session import get_current_user
from app.delivery_points import DeliveryPoint, current_point
from app.rendering import render

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
)


def content_security_policy(app: Flask) -> str:
    """Return the CSP of every page. With OpenID Connect sign-in, forms may also lead to the identity provider:
    a form posted after the session ended goes to sign-in, which redirects to the provider, and browsers check
    form-action along the whole redirect chain."""
    if app.config.get("SIGN_IN") != "oidc" or not app.config.get("OIDC_ISSUER"):
        return CSP
    issuer = urlsplit(app.config["OIDC_ISSUER"])
    return f"{CSP} {issuer.scheme}://{issuer.netloc}"


def _is_frameable() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    # Staff pages are never framed, whatever else a route says: a frame could trick an employee into deciding.
    return bool(getattr(view, "frameable", False)) and getattr(view, "access", None) != STAFF


def frame_ancestors() -> str:
    """Return the frame-ancestors source list: 'none', or 'self' plus the point's embed origins on embed routes."""
    if _is_frameable():
        try:
            origins = current_point.embed_origins
        except (AttributeError, RuntimeError):
            origins = ()
        return " ".join(["'self'", *origins])
    return "'none'"


def keep_personal_data_out_of_caches(response: Response) -> None:
    """Forbid storing responses that may show personal data; keep shared caches off the rest for signed-in people.

    Personal data: every response of a `signed_in` or `staff` route, and every HTML page while someone is signed in (the
    header shows their name). Other responses for a signed-in person (theme tokens) may carry the session cookie,
    so they become `private`: a browser may keep them, a shared proxy may not.
    """
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "access", None) in (SIGNED_IN, STAFF) or (get_current_user() and response.mimetype == "text/html"):
        response.headers["Cache-Control"] = "no-store"
    elif get_current_user():
        response.cache_control.public = False
        response.cache_control.private = True


def point_of_host() -> DeliveryPoint | None:
    """Return the delivery point of the Host header, for answers given before the point was resolved (or None)."""
    host = (request.host or "").rsplit(":", 1)[0].lower().rstrip(".")
    points: dict[str, DeliveryPoint] = current_app.extensions.get("delivery_points", {})
    return next((point for point in points.values() if host in point.hosts), None)


def csrf_failure_page(exc: CSRFError) -> Response:
    """Answer a form without a valid CSRF token with the delivery point's 400 page.

    Flask-WTF checks the token in a before_request hook that runs before the delivery point is resolved, so the
    generic error handler would only see an unknown point and answer in plain text.
    """
    if "point" not in g and (point := point_of_host()) is not None:
        g.point = point
    if "point" not in g:
        return Response("400\n", status=400, mimetype="text/plain")
    return render("errors/400.html", status=400)


def init_security_headers(app: Flask) -> None:
    """Add CSP, framing, sniffing, referrer and timing headers to every response; theme the CSRF failure page."""
    app.register_error_handler(CSRFError, csrf_failure_page)
    policy = content_security_policy(app)

    @app.before_request
    def _start_clock() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _headers(response: Response) -> Response:
        if "started" in g:
            # Server time, so operators and the benchmark can tell it from network time.
            response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - g.started) * 1000:.1f}"
        ancestors = frame_ancestors()
        # A download of a person's file keeps its stricter policy (sandbox: nothing in it runs, even if opened), and
        # is never framed either.
        download_policy = response.headers.get("Content-Security-Policy", "")
        if "sandbox" not in download_policy:
            response.headers["Content-Security-Policy"] = f"{policy}; frame-ancestors {ancestors}"
        elif "frame-ancestors" not in download_policy:
            response.headers["Content-Security-Policy"] = f"{download_policy}; frame-ancestors 'none'"
        if ancestors == "'none'":
            response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        response.vary.add("HX-Request")
        keep_personal_data_out_of_caches(response)
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        return response
