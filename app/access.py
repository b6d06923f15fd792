"""Every route declares who may use it; a test fails on a route without a declaration."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, abort, current_app, jsonify, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.auth.session import EXPIRY_FIELD, get_current_user, signed_out_by_expiry, stash_form
from app.i18n import current_lang
from app.rendering import render

F = TypeVar("F", bound=Callable[..., object])

PUBLIC = "public"
SIGNED_IN = "signed_in"
STAFF = "staff"
# Where signing in lands when no `next` is given (app/views/auth.py): an employee's home is the work queue instead.
APPLICANTS_HOME = "applications.my_applications"
STAFF_HOME = "staff.queue"


def public(view: F) -> F:
    """Declare that anyone may use this route, signed in or not."""
    view.access = PUBLIC  # type: ignore[attr-defined]
    return view


def signed_in(view: F) -> F:
    """Declare that only a signed-in person may use this route; anyone else is sent to sign in, then back here.

    Put it below the route decorator (`@bp.get(...)` then `@signed_in`), so the route calls the checking wrapper.
    Responses of these routes are never stored by caches (app.security). A form posted after the session ran out
    is kept for the same page (see `_to_sign_in`); one posted by session-timeout.js at expiry is never acted upon.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> object:
        user = get_current_user()
        if user is None:
            return _to_sign_in(kwargs.get("lang"))
        if user.is_employee:
            # An employee never applies as one (the registry would refuse it with 403): say so, and where to work.
            return _not_for_employees(kwargs.get("lang"))
        return _checked_post(view, *args, **kwargs)

    wrapper.access = SIGNED_IN  # type: ignore[attr-defined]
    return cast(F, wrapper)


def staff(view: F) -> F:
    """Declare a page of the staff area: for an institution's employees only.

    Anonymous visitors are sent to sign in and back, as with `signed_in`; anyone else signed in gets the 403 page.
    Responses are never stored by caches and never framed (app.security); a form posted after the session ran out
    is kept for the same page, as with `signed_in`.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> object:
        user = get_current_user()
        if user is None:
            return _to_sign_in(kwargs.get("lang"))
        if not user.is_employee:
            abort(403)
        return _checked_post(view, *args, **kwargs)

    wrapper.access = STAFF  # type: ignore[attr-defined]
    return cast(F, wrapper)


def _not_for_employees(lang: str | None) -> BaseResponse:
    """Answer an employee on a page for applicants: their work queue instead of the applicant's home, else a 403."""
    if STAFF_HOME not in current_app.view_functions:
        abort(403)
    if request.endpoint == APPLICANTS_HOME and request.method in ("GET", "HEAD"):
        return redirect(url_for(STAFF_HOME, lang=lang or current_lang()))
    return render("pages/staff/not_for_employees.html", status=403)


def _checked_post(view: Callable[..., object], *args: Any, **kwargs: Any) -> object:
    """Call `view`, unless this is a form that session-timeout.js posted at expiry (kept for the page instead)."""
    if request.method == "POST" and request.form.get(EXPIRY_FIELD):
        # The script thought the session had ended, but another tab signed in meanwhile: the person never
        # pressed the button, so keep the answers and show the page again instead of saving or sending.
        if not _can_come_back():
            abort(400)
        stash_form(request.path, request.form)
        return redirect(request.path, 303)
    return view(*args, **kwargs)


def signed_in_api(view: F) -> F:
    """Declare a JSON route for signed-in people only; anyone else gets 401 with where to sign in, no redirect.

    The 401 body is `{"signed_in": false, "sign_in_url": "/lv/sign-in"}`, in the language of `?lang=`.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> object:
        if get_current_user() is None:
            lang = request.args.get("lang")
            if lang not in current_app.config["LANGUAGES"]:
                lang = current_lang()
            sign_in_url = url_for("auth.sign_in", lang=lang) if "auth.sign_in" in current_app.view_functions else None
            return jsonify(signed_in=False, sign_in_url=sign_in_url), 401
        return view(*args, **kwargs)

    wrapper.access = SIGNED_IN  # type: ignore[attr-defined]
    return cast(F, wrapper)


def _can_come_back() -> bool:
    """Say whether this request is a whole-page form post to an address that also shows the page (GET)."""
    rule = request.url_rule
    return (
        request.method == "POST"
        and request.headers.get("HX-Request") != "true"  # an htmx post may target a fragment, not a page
        and rule is not None
        and "GET" in (rule.methods or ())
    )


def _to_sign_in(lang: str | None) -> BaseResponse:
    """Send an anonymous visitor to the sign-in page, with the address to come back to."""
    if "auth.sign_in" not in current_app.view_functions:
        abort(404)  # no sign-in provider on this portal: pages for signed-in people do not exist
    # Only a GET can be repeated after signing in; another method comes back to the default page instead.
    back = request.full_path.rstrip("?") if request.method in ("GET", "HEAD") else None
    if back is None and _can_come_back() and signed_out_by_expiry():
        # The person was filling in this page when the session ran out: keep what they typed (unless too much)
        # for the same page after signing in again (app.auth.take_stashed_form), and come back to it.
        stash_form(request.path, request.form)
        return redirect(url_for("auth.sign_in", lang=lang or current_lang(), next=request.path), 303)
    target = url_for("auth.sign_in", lang=lang or current_lang(), next=back)
    if request.headers.get("HX-Request") == "true":
        # htmx would follow a redirect inside the XHR and swap the sign-in page into a fragment: load it whole.
        return Response(status=204, headers={"HX-Redirect": target})
    return redirect(target)


def frameable(view: F) -> F:
    """Declare that this route may be shown in an iframe of the delivery point's allowed origins."""
    view.frameable = True  # type: ignore[attr-defined]
    return view
