"""Rate limits (Flask-Limiter): how often one address or one person may sign in, post, search, check codes, upload.

Each limit is a Flask-Limiter "application limit" with its own scope, applied before every request of its kind,
whatever the route (so a new route is covered without a decorator):

| setting               | requests                                             | counted per                  |
|-----------------------|------------------------------------------------------|------------------------------|
| RATELIMIT_SIGN_IN     | the sign-in routes (auth.sign_in*)                   | IP address                   |
| RATELIMIT_POST        | every POST, PUT, DELETE but sign-in (forms, htmx)    | signed-in person, else IP    |
| RATELIMIT_POST_PER_IP | the same                                             | IP address (all behind it)   |
| RATELIMIT_SEARCH      | the catalogue and its embed (search and filters)     | IP address                   |
| RATELIMIT_VERIFY      | checking a verification code (verify.verify_code)    | IP address                   |
| RATELIMIT_UPLOAD      | a POST carrying a file                               | signed-in person, else IP    |

Values use Flask-Limiter's notation, several joined by ";" ("10/minute;100/hour"); an empty value switches that
limit off, RATELIMIT_ENABLED=False all of them. Counts are kept in memory (per process: each gunicorn worker counts
on its own) or, with REDIS_URL, in Redis, shared by every worker and instance. A Redis that cannot be reached
does not stop the portal: the counting falls back to memory.

A request over a limit gets the themed 429 page with Retry-After (seconds until the limit lets it through); an htmx
request gets a short message instead of a page (app/static/js/portal.js shows it in place), and never pushes a URL.
The client address is `request.remote_addr`: the TCP peer, or behind TRUSTED_PROXY_HOPS proxies the address they
vouch for (app.config.trust_proxies). People are counted by a keyed hash of their identity, never by their personal
code (Flask-Limiter logs the keys).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask_limiter import ApplicationLimit, Limiter, RateLimitExceeded

from app.auth.session import get_current_user
from app.rendering import render

EXTENSION = "portal_limiter"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SEARCH_ENDPOINTS = frozenset({"public.catalogue", "public.embed_catalogue"})
VERIFY_ENDPOINTS = frozenset({"verify.verify_code"})


def client_address() -> str:
    """Return the client's IP address (behind a load balancer, as TRUSTED_PROXY_HOPS has it: app.config)."""
    return request.remote_addr or "unknown"


def person_or_address() -> str:
    """Return a key for the signed-in person (a keyed hash, never the personal code), else for the address."""
    user = get_current_user()
    if user is None:
        return f"ip:{client_address()}"
    key = str(current_app.config["SECRET_KEY"]).encode()
    return "person:" + hmac.new(key, b"rate-limit:" + user.sub.encode(), hashlib.sha256).hexdigest()[:32]


def _is_sign_in() -> bool:
    return (request.endpoint or "").startswith("auth.sign_in")


def _is_write() -> bool:
    return request.method in WRITE_METHODS and not _is_sign_in()


def _has_file() -> bool:
    # The CSRF check has parsed the body already; a file input left empty sends a part without a file name.
    return request.method in WRITE_METHODS and any(upload.filename for upload in request.files.values())


def _setting(name: str) -> Callable[[], str]:
    return lambda: str(current_app.config.get(name) or "")


def _only(applies: Callable[[], bool]) -> Callable[[], bool]:
    return lambda: not applies()


LIMITS: tuple[tuple[str, str, Callable[[], str], Callable[[], bool]], ...] = (
    # (scope, setting, counted per, applies to)
    ("sign-in", "RATELIMIT_SIGN_IN", client_address, _is_sign_in),
    ("post", "RATELIMIT_POST", person_or_address, _is_write),
    ("post-ip", "RATELIMIT_POST_PER_IP", client_address, _is_write),
    ("search", "RATELIMIT_SEARCH", client_address, lambda: request.endpoint in SEARCH_ENDPOINTS),
    ("verify", "RATELIMIT_VERIFY", client_address, lambda: request.endpoint in VERIFY_ENDPOINTS),
    ("upload", "RATELIMIT_UPLOAD", person_or_address, _has_file),
)
LIMIT_SETTINGS: tuple[str, ...] = tuple(setting for _, setting, _, _ in LIMITS)


def init_limits(app: Flask, redis_url: str = "", storage_options: dict[str, Any] | None = None) -> Limiter:
    """Bind a limiter to `app` (after the delivery points and the session, whose before_request it needs)."""
    limiter = Limiter(
        client_address,
        application_limits=[
            ApplicationLimit(
                limit_provider=_setting(setting), key_function=key, scope=scope, exempt_when=_only(applies)
            )
            for scope, setting, key, applies in LIMITS
        ],
        storage_uri=redis_url or "memory://",
        storage_options=storage_options or {},
        strategy=app.config.get("RATELIMIT_STRATEGY", "fixed-window"),
        # A storage failure must not take the portal down: count in memory until it is back.
        in_memory_fallback_enabled=bool(redis_url),
        swallow_errors=True,
        headers_enabled=False,
    )
    limiter.init_app(app)
    app.extensions[EXTENSION] = limiter

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc: RateLimitExceeded) -> Response:
        return too_many_requests(retry_after_seconds(limiter))

    return limiter


def retry_after_seconds(limiter: Limiter) -> int:
    """Return the whole seconds until the limit this request broke lets a request through again (at least 1)."""
    breached = limiter.current_limit
    if breached is None:
        return 60
    try:
        return max(1, math.ceil(breached.window.reset_time - time.time()))
    except Exception:  # the storage failed between the check and now: a minute is a fair guess
        return 60


def too_many_requests(retry_after: int) -> Response:
    """Return the 429 answer: the themed page, or for htmx a short message that pushes no URL."""
    minutes = max(1, round(retry_after / 60))  # "1" says "a minute"; an hour's limit says 60, not 61
    if "point" not in g:
        response = Response("429\n", status=429, mimetype="text/plain")
    elif request.headers.get("HX-Request") == "true":
        response = render("partials/_rate_limited.html", status=429, retry_minutes=minutes)
        response.headers["HX-Push-Url"] = "false"
    else:
        response = render("errors/429.html", status=429, retry_minutes=minutes)
    response.headers["Retry-After"] = str(retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response
