"""Who is signed in: the identity claims in the Flask session, with server-side inactivity and lifetime limits.

The session holds one entry, `user`: the claims the identity provider vouched for (`sub`, `name`, `kind`, `company`,
`company_name`, `acr`) plus `signed_in_at` and `last_seen` (Unix seconds). The cookie is signed, so a browser cannot
change them; the timestamps are checked here, on the server, on every request:

- more than SESSION_IDLE_MINUTES since `last_seen`: signed out (the session is cleared);
- more than SESSION_MAX_HOURS since `signed_in_at`: signed out, however active the person was;
- otherwise `last_seen` becomes now.

Signing in clears the session first, so nothing from before (a CSRF token, a `next` address, anything a third party
planted) survives into the signed-in session; signing out clears it again. With sessions stored on the server
(REDIS_URL, app/auth/server_session.py) both also give the session a new id and delete the old one, so a copied or
fixated cookie stops working everywhere; signed cookies have no id to change.

Running out keeps two things: the CSRF token, so a form typed before the limit can still be posted, and a keyed hash
of who it was. A form posted to a signed-in page after that is *stashed* (`stash_form`, called by app.access): its
fields stay in the (signed) session for STASH_MAX_AGE_SECONDS, survive signing in again as the same person (only),
and are handed once to the same page by `take_stashed_form`, so nothing typed is lost. `time_left` tells pages and
app/static/js/session-timeout.js how long the session still lasts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from flask import Flask, current_app, g, request, session
from werkzeug.datastructures import MultiDict
from werkzeug.local import LocalProxy

from identity import Identity, InvalidIdentity, identity_from_claims, sign_identity

SESSION_KEY = "user"
# Set (without any identity) when a session ran out, so the sign-in page can say why the person is signed out.
EXPIRED_KEY = "signed_out_idle"
CLAIMS = ("sub", "name", "kind", "company", "company_name", "acr", "institution", "roles")
# A clock may step back a little between workers; a `last_seen` further in the future than this is not believed.
CLOCK_SKEW_SECONDS = 60
# Set with EXPIRED_KEY: a keyed hash of who was signed out, so only that person gets a stashed form back.
EXPIRED_PERSON_KEY = "signed_out_person"
# A form posted after the session ran out: {"path", "fields": [[name, value], ...], "at", "person"}.
STASH_KEY = "stashed_form"
# The stash lives in the session cookie, which also holds the identity and the CSRF token; base64 adds a third, and
# browsers drop cookies over 4 KB. A larger form is not stashed at all (half the answers would be worse than none:
# the person would not notice what is missing); its earlier pages are in the registry draft anyway.
STASH_MAX_BYTES = 2000
STASH_MAX_AGE_SECONDS = 30 * 60
# The hidden field session-timeout.js adds when it posts a form because the session ran out: never acted upon.
EXPIRY_FIELD = "session_expired"

F = TypeVar("F", bound=Callable[..., object])


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
        _end_expired_session(identity, "limit" if too_old and not idle else "idle")
        return None
    return identity


def _end_expired_session(identity: Identity, reason: str) -> None:
    """Clear a session that ran out, keeping its CSRF token and a hash of who it was (for `stash_form`)."""
    csrf_key = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    csrf_raw = session.get(csrf_key)
    session.clear()
    _renew_session_id()
    # Without the token, the form the person was filling in would fail the CSRF check (a 400 page, answers lost)
    # instead of reaching app.access, which keeps the answers. It grants nothing: signing in replaces it.
    if csrf_raw is not None:
        session[csrf_key] = csrf_raw
    session[EXPIRED_KEY] = reason  # "idle" or "limit": the sign-in page says which
    session[EXPIRED_PERSON_KEY] = _person_tag(identity.sub)


def _person_tag(sub: str) -> str:
    """Return a keyed hash of a personal code: it tells one person from another without storing the code."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, b"form-stash:" + sub.encode(), hashlib.sha256).hexdigest()[:32]


def get_current_user() -> Identity | None:
    """Return the signed-in person of this request, or None (read from the session once per request)."""
    if "auth_user" not in g:
        g.auth_user = _identity_in_session()
    return cast(Identity | None, g.auth_user)


# In templates and views: `if current_user:` (the proxy itself is never None; what it stands for may be).
current_user: Identity | None = cast(Identity | None, LocalProxy(get_current_user))


def sign_in(identity: Identity) -> None:
    """Start a new session for `identity`: everything from before signing in is dropped, but its own stashed form."""
    stash = session.get(STASH_KEY)
    session.clear()
    _renew_session_id()
    now = int(_now())
    session[SESSION_KEY] = {**identity.claims(), "signed_in_at": now, "last_seen": now}
    g.auth_user = identity
    # Deliberately carried over: the answers this same person typed when the session ran out (see stash_form).
    if _stash_is_fresh(stash) and stash["person"] == _person_tag(identity.sub):
        session[STASH_KEY] = stash


def sign_out() -> None:
    """End the session: the identity, the CSRF token and everything else in it."""
    session.clear()
    _renew_session_id()
    g.auth_user = None


def _renew_session_id() -> None:
    """Ask a server-side session store for a new session id (the old one ends on every instance)."""
    renew = getattr(session, "renew_id", None)
    if callable(renew):
        renew()


def take_expired_notice() -> str | None:
    """Say (once) why the person was signed out, if the session ran out: "idle" or "limit" (the absolute limit)."""
    reason = session.pop(EXPIRED_KEY, None)
    return reason if reason in ("idle", "limit") else None


def has_stashed_form() -> bool:
    """Say whether answers typed when the session ran out are waiting for the person (see stash_form)."""
    return _stash_is_fresh(session.get(STASH_KEY))


@dataclass(frozen=True)
class TimeLeft:
    """How many seconds the session still lasts without a request (idle) and at most (absolute)."""

    idle_seconds: int
    absolute_seconds: int

    @property
    def seconds(self) -> int:
        """Return the seconds until the session ends if nothing happens."""
        return min(self.idle_seconds, self.absolute_seconds)

    @property
    def can_be_extended(self) -> bool:
        """Say whether a request would push the end back (not once the absolute limit comes first)."""
        return self.idle_seconds < self.absolute_seconds


def time_left() -> TimeLeft | None:
    """Return how long the signed-in person's session still lasts, or None when nobody is signed in."""
    if get_current_user() is None:
        return None
    data = session[SESSION_KEY]
    now = _now()
    # Rounded down: the page may warn a second early, never late.
    idle = float(data["last_seen"]) + current_app.config["SESSION_IDLE_MINUTES"] * 60 - now
    absolute = float(data["signed_in_at"]) + current_app.config["SESSION_MAX_HOURS"] * 3600 - now
    return TimeLeft(max(0, int(idle)), max(0, int(absolute)))


def keep_alive() -> None:
    """Mark the signed-in person as seen now (the idle limit starts again); nothing when nobody is signed in."""
    if get_current_user() is not None:
        data: dict[str, Any] = dict(session[SESSION_KEY])
        data["last_seen"] = int(_now())
        session[SESSION_KEY] = data  # a new dict: Flask notices assignment, not changes inside a nested value


def does_not_extend_session(view: F) -> F:
    """Declare that requests to this route check the session but do not count as activity (the timeout script)."""
    view.does_not_extend_session = True  # type: ignore[attr-defined]
    return view


def signed_out_by_expiry() -> bool:
    """Say whether this browser's session ran out (rather than nobody ever signing in) since the last sign-in."""
    return isinstance(session.get(EXPIRED_PERSON_KEY), str)


def stash_form(path: str, form: MultiDict[str, str]) -> bool:
    """Keep the fields of a form posted to `path` after the session ran out; say whether they were kept.

    Only for the person whose session ran out here (or, if a script posts while still signed in, that person);
    never the CSRF token or files; nothing at all above STASH_MAX_BYTES. A later stash replaces an earlier one.
    """
    user = get_current_user()
    person = _person_tag(user.sub) if user is not None else session.get(EXPIRED_PERSON_KEY)
    session.pop(STASH_KEY, None)
    if not isinstance(person, str):
        return False
    skip = {current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), EXPIRY_FIELD}
    fields = [[name, value] for name, value in form.items(multi=True) if name not in skip and isinstance(value, str)]
    if len(json.dumps(fields, separators=(",", ":")).encode()) > STASH_MAX_BYTES:
        return False
    session[STASH_KEY] = {"path": path, "fields": fields, "at": int(_now()), "person": person}
    return True


def take_stashed_form(path: str) -> MultiDict[str, str] | None:
    """Return (once) the form fields stashed for `path` by the signed-in person, or None.

    A stash for another path stays for that path; one that is too old or belongs to someone else is dropped.
    """
    stash = session.get(STASH_KEY)
    if not isinstance(stash, dict) or stash.get("path") != path:
        return None
    session.pop(STASH_KEY)
    user = get_current_user()
    if user is None or not _stash_is_fresh(stash) or stash["person"] != _person_tag(user.sub):
        return None
    return MultiDict([(str(name), str(value)) for name, value in stash["fields"]])


def _stash_is_fresh(stash: object) -> bool:
    """Say whether `stash` is a well-formed stash younger than STASH_MAX_AGE_SECONDS."""
    if not isinstance(stash, dict) or not isinstance(stash.get("person"), str):
        return False
    fields, at = stash.get("fields"), stash.get("at")
    if not isinstance(fields, list) or not all(isinstance(f, list) and len(f) == 2 for f in fields):
        return False
    return isinstance(at, int | float) and 0 <= _now() - at <= STASH_MAX_AGE_SECONDS


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
    if STASH_KEY in session and not _stash_is_fresh(session[STASH_KEY]):
        session.pop(STASH_KEY)  # answers typed long ago are not kept in the cookie for ever
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "does_not_extend_session", False):
        get_current_user()  # the limits still apply; only `last_seen` stays as it was
        return
    keep_alive()


def init_session(app: Flask) -> None:
    """Enforce the time limits and refresh `last_seen` before every request; expose `current_user` to templates."""
    app.before_request(_touch)
    app.jinja_env.globals["current_user"] = current_user
    app.jinja_env.globals["session_time_left"] = time_left
