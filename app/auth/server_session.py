"""Sessions kept in Redis, for several portal instances: the cookie carries only a random session id.

With REDIS_URL set (app/shared_state.py), this replaces Flask's signed-cookie sessions. What is stored is the same
dictionary (serialised with Flask's tagged JSON, never pickle), so app/auth/session.py works unchanged on top of it;
what changes is that the server can end a session:

- `renew_id()` (called by app.auth.session on signing in, signing out and when a session runs out) deletes the
  stored session and gives the browser a new id at the end of the request: an id seen before signing in (a fixated
  one) is worth nothing after it, and a cookie copied before signing out is worth nothing after that, on every
  instance at once.
- A session stored by another instance in the meantime is never written back (SET XX): a request that was under
  way while the person signed out elsewhere cannot bring the ended session back.
- Redis forgets a session SESSION_MAX_HOURS after it was last written; the idle and absolute limits of
  app.auth.session still apply within that.

The cookie has the same name and flags as Flask's own (SESSION_COOKIE_*: `__Host-`, Secure, HttpOnly, SameSite,
Partitioned). Redis keys are `<prefix>session:<sha256 of the id>`, so reading Redis does not yield usable ids. If
Redis cannot be reached, a request gets an empty session that is not saved (public pages keep working).
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from typing import Any

import redis
from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SessionInterface, session_json_serializer

logger = logging.getLogger(__name__)

_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)


class ServerSession(SecureCookieSession):
    """The session dictionary, with the id it is stored under (None until it is first saved)."""

    def __init__(self, initial: Any = None, sid: str | None = None, *, store_failed: bool = False) -> None:
        """Wrap `initial`, stored under `sid`; `store_failed` marks a session that Redis could not give."""
        super().__init__(initial)
        self.sid = sid
        self.ended: str | None = None  # an id given up by renew_id(): deleted from Redis when the session is saved
        self.store_failed = store_failed

    def renew_id(self) -> None:
        """Forget the current id: its stored session is deleted and the browser gets a new one on saving."""
        if self.sid is not None and self.ended is None:
            self.ended = self.sid
        self.sid = None
        self.modified = True


class RedisSessionInterface(SessionInterface):
    """Flask session interface over redis-py."""

    serializer = session_json_serializer

    def __init__(self, connection: redis.Redis, prefix: str, lifetime_seconds: int) -> None:
        """Store sessions in `connection` under `prefix`, each for `lifetime_seconds` after its last write."""
        self.connection = connection
        self.prefix = prefix
        self.lifetime_seconds = max(1, int(lifetime_seconds))

    def _key(self, sid: str) -> str:
        return f"{self.prefix}session:{hashlib.sha256(sid.encode()).hexdigest()}"

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        """Load the session named by the cookie; a missing, malformed or unknown id gives a new empty session."""
        sid = request.cookies.get(self.get_cookie_name(app), "")
        if not _SESSION_ID.fullmatch(sid):
            return ServerSession()
        try:
            stored = self.connection.get(self._key(sid))
        except redis.RedisError as error:
            logger.error("session store unavailable: %s", error)
            return ServerSession(store_failed=True)
        if stored is None:
            return ServerSession()  # ended, expired or never ours: the cookie is replaced when something is saved
        try:
            data = self.serializer.loads(stored.decode() if isinstance(stored, bytes) else stored)
        except ValueError:
            logger.warning("unreadable session dropped")
            return ServerSession()
        return ServerSession(data if isinstance(data, dict) else None, sid)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        """Write the session if it changed, delete what `renew_id` gave up, and set or delete the cookie."""
        if not isinstance(session, ServerSession):
            raise TypeError("RedisSessionInterface saves only the sessions it opened")
        name = self.get_cookie_name(app)
        cookie = {
            "domain": self.get_cookie_domain(app),
            "path": self.get_cookie_path(app),
            "secure": self.get_cookie_secure(app),
            "partitioned": self.get_cookie_partitioned(app),
            "samesite": self.get_cookie_samesite(app),
            "httponly": self.get_cookie_httponly(app),
        }
        if session.accessed:
            response.vary.add("Cookie")
        if session.store_failed:
            return
        try:
            if session.ended is not None:
                self.connection.delete(self._key(session.ended))
            if not session:
                if session.modified and session.sid is not None:
                    self.connection.delete(self._key(session.sid))  # cleared: nothing left to keep
                if session.modified:
                    response.delete_cookie(name, **cookie)
                    response.vary.add("Cookie")
                return
            if not session.modified and not self.should_set_cookie(app, session):
                return
            stored = self.serializer.dumps(dict(session)).encode()
            if session.sid is not None:
                # XX: only while it exists. Signed out elsewhere meanwhile: the session stays ended.
                if not self.connection.set(self._key(session.sid), stored, ex=self.lifetime_seconds, xx=True):
                    response.delete_cookie(name, **cookie)
                    response.vary.add("Cookie")
                    return
            else:
                session.sid = secrets.token_urlsafe(32)
                self.connection.set(self._key(session.sid), stored, ex=self.lifetime_seconds, nx=True)
        except redis.RedisError as error:
            logger.error("session not saved, session store unavailable: %s", error)
            return
        response.set_cookie(name, session.sid, expires=self.get_expiration_time(app, session), **cookie)
        response.vary.add("Cookie")
