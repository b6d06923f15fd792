"""Signing in and out through the configured provider (app/auth/providers.py); mounted only when there is one.

Also the two JSON routes of app/static/js/session-timeout.js: how long the session still lasts, and keeping it alive.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.access import public, signed_in_api
from app.auth import provider, sign_in, sign_out
from app.auth.next_url import safe_next
from app.auth.providers import SignInFailed, SignInProvider
from app.auth.session import does_not_extend_session, keep_alive, time_left

bp = Blueprint("auth", __name__)

# Where to go after signing in, for providers that leave the site (the demo form also sends it as a field).
NEXT_KEY = "sign_in_next"


@bp.before_request
def _check_lang() -> None:
    # Not printed on paper, so no redirect to the Latvian page: an unknown language is simply not found.
    view_args = request.view_args or {}
    if "lang" in view_args and view_args["lang"] not in current_app.config["LANGUAGES"]:
        abort(404)


def _provider() -> SignInProvider:
    found = provider()
    if found is None:  # the blueprint is mounted only with a provider; this keeps a misconfiguration harmless
        abort(404)
    return found


def _after_sign_in(lang: str) -> str:
    """Return where a person goes after signing in when `next` is missing or unsafe: their applications."""
    if "applications.my_applications" in current_app.view_functions:
        return url_for("applications.my_applications", lang=lang)
    return f"/{lang}/my/applications"


def _no_store(response: Response | BaseResponse) -> Response | BaseResponse:
    # The page holds a CSRF token bound to this browser's session: no cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<lang>/sign-in", endpoint="sign_in")
@public
def sign_in_page(lang: str) -> Response | BaseResponse:
    """Start signing in: the provider's page, or a redirect to it; `next` says where to come back."""
    next_url = safe_next(request.args.get("next"), "")
    if next_url:
        session[NEXT_KEY] = next_url
    else:
        session.pop(NEXT_KEY, None)
    return _no_store(_provider().start(next_url))


@bp.post("/<lang>/sign-in")
@public
def sign_in_submit(lang: str) -> Response | BaseResponse:
    """Finish signing in with the provider's form (CSRF-checked), then go to `next`."""
    return _finish(lang)


@bp.get("/<lang>/sign-in/callback")
@public
def sign_in_callback(lang: str) -> Response | BaseResponse:
    """Finish signing in when an external provider sends the browser back, then go to `next`."""
    return _finish(lang)


def _finish(lang: str) -> Response | BaseResponse:
    try:
        identity = _provider().finish()
    except SignInFailed as failed:
        if failed.response is None:
            abort(400)
        return _no_store(failed.response)
    # Read before sign_in() clears the session; checked again, as anything from a browser must be.
    next_url = safe_next(request.form.get("next") or session.get(NEXT_KEY), _after_sign_in(lang))
    sign_in(identity)
    return redirect(next_url, 303)


@bp.post("/<lang>/sign-out", endpoint="sign_out")
@public
def sign_out_submit(lang: str) -> BaseResponse:
    """Sign out (CSRF-checked POST only) and go to the home page."""
    sign_out()
    return redirect(url_for("public.home", lang=lang), 303)


def _time_left_json() -> Response:
    left = time_left()
    if left is None:  # not reached: signed_in_api answered already
        abort(401)
    return jsonify(
        idle_seconds=left.idle_seconds,
        absolute_seconds=left.absolute_seconds,
        seconds=left.seconds,
        can_be_extended=left.can_be_extended,
    )


@bp.get("/auth/session", endpoint="session_status")
@signed_in_api
@does_not_extend_session
def session_status() -> Response:
    """Say how long the session still lasts (asking does not count as activity); 401 once it has ended."""
    return _time_left_json()


@bp.post("/auth/session/extend", endpoint="extend_session")
@signed_in_api
def extend_session() -> Response:
    """Keep the session alive ("Stay signed in", CSRF-checked); say how long it lasts now; 401 once it has ended."""
    keep_alive()  # the request has done it already (app.auth.session); said here so the route does what it says
    return _time_left_json()
