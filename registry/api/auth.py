"""Who is publishing: the institution behind the request's bearer token."""

from __future__ import annotations

from flask import request

from registry.api.problems import ApiProblem
from registry.db import db_session
from registry.models.publishers import institution_for_token

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="registry"'}


def bearer_token() -> str | None:
    """Return the bearer token of this request, if it sent one."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def optional_publisher() -> str | None:
    """Return the publishing institution if a valid token was sent; a bad token is still refused."""
    token = bearer_token()
    if token is None:
        return None
    institution = institution_for_token(db_session(), token)
    if institution is None:
        raise ApiProblem(401, "The publisher token is not valid.", headers=_CHALLENGE)
    return institution


def require_publisher() -> str:
    """Return the publishing institution, or refuse with 401."""
    institution = optional_publisher()
    if institution is None:
        raise ApiProblem(401, "Publishing needs a publisher token: Authorization: Bearer <token>.", headers=_CHALLENGE)
    return institution
