"""Every route declares who may use it; a test fails on a route without a declaration."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, abort, current_app, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.auth.session import get_current_user
from app.i18n import current_lang

F = TypeVar("F", bound=Callable[..., object])

PUBLIC = "public"
SIGNED_IN = "signed_in"


def public(view: F) -> F:
    """Declare that anyone may use this route, signed in or not."""
    view.access = PUBLIC  # type: ignore[attr-defined]
    return view


def signed_in(view: F) -> F:
    """Declare that only a signed-in person may use this route; anyone else is sent to sign in, then back here.

    Put it below the route decorator (`@bp.get(...)` then `@signed_in`), so the route calls the checking wrapper.
    Responses of these routes are never stored by caches (app.security).
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> object:
        if get_current_user() is None:
            return _to_sign_in(kwargs.get("lang"))
        return view(*args, **kwargs)

    wrapper.access = SIGNED_IN  # type: ignore[attr-defined]
    return cast(F, wrapper)


def _to_sign_in(lang: str | None) -> BaseResponse:
    """Send an anonymous visitor to the sign-in page, with the address to come back to."""
    if "auth.sign_in" not in current_app.view_functions:
        abort(404)  # no sign-in provider on this portal: pages for signed-in people do not exist
    # Only a GET can be repeated after signing in; another method comes back to the default page instead.
    back = request.full_path.rstrip("?") if request.method in ("GET", "HEAD") else None
    target = url_for("auth.sign_in", lang=lang or current_lang(), next=back)
    if request.headers.get("HX-Request") == "true":
        # htmx would follow a redirect inside the XHR and swap the sign-in page into a fragment: load it whole.
        return Response(status=204, headers={"HX-Redirect": target})
    return redirect(target)


def frameable(view: F) -> F:
    """Declare that this route may be shown in an iframe of the delivery point's allowed origins."""
    view.frameable = True  # type: ignore[attr-defined]
    return view
