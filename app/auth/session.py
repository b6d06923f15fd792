"""Who is signed in: the identity claims in the Flask session, with server-side inactivity and lifetime limits.

The session holds one entry, `user`: the claims the identity provider vouched for (`sub`, `name`, `kind`, `company`,
`company_name`, `acr`) plus `signed_in_at` and `last_seen` (Unix seconds). The cookie is signed, so a browser cannot
change them; the timestamps are checked here, on the server, on every request:

- more than SESSION_IDLE_MINUTES since `last_seen`: signed out (the session is cleared);
- more than SESSION_MAX_HOURS since `signed_in_at`: signed out, however active the person was;
- otherwise `last_seen` becomes now.

Signing in clears the session first, so nothing from before (a CSRF token, a `next` address, anything a third party
planted) survives into the signed-in session; signing out clears it again.
"""

from __future__ import annotations

import time
from typing import Any, cast

from flask import Flask, current_app, g, request, session
from werkzeug.local import LocalProxy

from identity import Identity, InvalidIdentity, identity_from_claims, sign_identity

SESSION_KEY = "user"
# Set (without any identity) when a session ran out, so the sign-in page can say why the person is signed out.
EXPIRED_KEY = "signed_out_idle"
CLAIMS = ("sub", "name", "kind", "company", "company_name", "acr")
# A clock may step back a little between workers; a `last_seen` further in the future than this is not believed.
CLOCK_SKEW_SECONDS = 60


def _now() -> float:
    return time.time()


def _identity_in_session() -> Identity | None:
    """Return the identity in the session if it is well formed and still fresh; clear the session otherwise."""
    data = session.get(SESSION_KEY)
    if data is None:
        return None
    try:
        identity = identity_from_claims({key: data[key] for key in CLAIMS if key in data})
        last_seen, signed_in_at = float(data["last_seen"]), float(data["signed_in_at"])
    except (InvalidIdentity, KeyError, TypeError, ValueError):
        # Only a session signed with our SECRET_KEY gets here, e.g. one written by an older release: start over.
        session.clear()
        return None
    now = _now()
    idle = now - last_seen > current_app.config["SESSION_IDLE_MINUTES"] * 60
    too_old = now - signed_in_at > current_app.config["SESSION_MAX_HOURS"] * 3600
    if idle or too_old or last_seen > now + CLOCK_SKEW_SECONDS:
        session.clear()
        session[EXPIRED_KEY] = True
        return None
    return identity


def get_current_user() -> Identity | None:
    """Return the signed-in person of this request, or None (read from the session once per request)."""
    if "auth_user" not in g:
        g.auth_user = _identity_in_session()
    return cast(Identity | None, g.auth_user)


# In templates and views: `if current_user:` (the proxy itself is never None; what it stands for may be).
current_user: Identity | None = cast(Identity | None, LocalProxy(get_current_user))


def sign_in(identity: Identity) -> None:
    """Start a new session for `identity`: everything from before signing in is dropped."""
    session.clear()
    now = int(_now())
    session[SESSION_KEY] = {**identity.claims(), "signed_in_at": now, "last_seen": now}
    g.auth_user = identity


def sign_out() -> None:
    """End the session: the identity, the CSRF token and everything else in it."""
    session.clear()
    g.auth_user = None


def take_expired_notice() -> bool:
    """Say (once) whether the person was signed out because the session ran out."""
    return bool(session.pop(EXPIRED_KEY, False))


def identity_token() -> str:
    """Return a short-lived signed token of the signed-in person for the registry's X-Portal-Identity header."""
    user = get_current_user()
    if user is None:
        # A programming error: registry calls for a person sit behind @signed_in.
        raise LookupError("nobody is signed in")
    return sign_identity(current_app.config["IDENTITY_SECRET"], user)


def _touch() -> None:
    """Check the session of this request and mark the person as seen now."""
    if request.endpoint == "static":
        # Static files are fetched by pages that just did this; a cookie on them would only help caches misbehave.
        return
    if get_current_user() is not None:
        data: dict[str, Any] = dict(session[SESSION_KEY])
        data["last_seen"] = int(_now())
        session[SESSION_KEY] = data  # a new dict: Flask notices assignment, not changes inside a nested value


def init_session(app: Flask) -> None:
    """Enforce the time limits and refresh `last_seen` before every request; expose `current_user` to templates."""
    app.before_request(_touch)
    app.jinja_env.globals["current_user"] = current_user
