"""Who is asking: the signed identity the portal forwards in the `X-Portal-Identity` header."""

from __future__ import annotations

from flask import current_app, g, request

from identity import Identity, InvalidIdentity, read_identity
from registry.api.problems import ApiProblem

IDENTITY_HEADER = "X-Portal-Identity"
# RFC 9110 wants a challenge on every 401; this names the scheme so clients can tell it from the publisher's Bearer.
_CHALLENGE = {"WWW-Authenticate": f'PortalIdentity realm="registry", header="{IDENTITY_HEADER}"'}


def current_identity() -> Identity | None:
    """Return the identity this request carries, None without the header; a bad or expired token is refused."""
    if "identity" in g:
        cached: Identity | None = g.identity
        return cached
    token = request.headers.get(IDENTITY_HEADER)
    found = None
    if token is not None:
        try:
            found = read_identity(current_app.config["IDENTITY_SECRET"], token.strip())
        except InvalidIdentity as exc:
            # The reason (expired, tampered) helps the portal; the token itself is never echoed or logged.
            raise ApiProblem(401, f"The identity is not valid: {exc}.", headers=_CHALLENGE) from None
    g.identity = found
    return found


def _signed_in() -> Identity:
    found = current_identity()
    if found is None:
        raise ApiProblem(401, f"This needs a signed-in person: send the {IDENTITY_HEADER} header.", headers=_CHALLENGE)
    return found


def require_identity() -> Identity:
    """Return the signed-in applicant (a person or a company representative): 401 without one, 403 for staff."""
    found = _signed_in()
    if found.is_employee:
        raise ApiProblem(403, "An employee works on cases under /staff and does not apply as an employee.")
    return found


def require_employee(role: str | None = None) -> Identity:
    """Return the signed-in employee (with `role`, if given): 401 without an identity, 403 for anyone else."""
    found = _signed_in()
    if not found.is_employee or found.institution is None:
        raise ApiProblem(403, "Only an institution's employees work on cases.")
    if role is not None and role not in found.roles:
        raise ApiProblem(403, f"This needs the role {role}.")
    return found
