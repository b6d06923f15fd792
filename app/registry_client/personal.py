"""Personal requests to the registry: sent with the signed identity of the person (or employee), never cached.

Drafts, applications, files, messages and staff cases all travel this way: the identity token goes in
`X-Portal-Identity`, ids that cannot exist are refused before any request, and nothing personal is logged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from .base import RegistryClient
from .catalogue import API
from .errors import RegistryError, RegistryNotFound, RegistryUnauthorized

IDENTITY_HEADER: Final = "X-Portal-Identity"
# Ids of drafts, applications, files, messages and cases are random 32-hex strings (registry/api/personal.py).
_RESOURCE_ID = re.compile(r"[0-9a-f]{32}")
# A signed identity (itsdangerous, URL-safe) is visible ASCII; the registry refuses anything over 4096 characters.
_IDENTITY_TOKEN = re.compile(r"[\x21-\x7e]{1,4096}")


def resource_id(value: object, kind: str = "resource") -> str:
    """Return `value` if it is a registry resource id, else raise RegistryNotFound without asking the registry."""
    if isinstance(value, str) and _RESOURCE_ID.fullmatch(value):
        return value
    raise RegistryNotFound(f"{kind} ids are 32 lower-case hexadecimal digits")


def identity_headers(identity_token: object) -> dict[str, str]:
    """Return the header carrying the identity; a token that cannot be one is refused before any request."""
    if isinstance(identity_token, str) and _IDENTITY_TOKEN.fullmatch(identity_token):
        return {IDENTITY_HEADER: identity_token}
    # The token itself is never part of a message: it identifies a person.
    raise RegistryUnauthorized("the identity token is missing or malformed")


class PersonalClient(RegistryClient):
    """A registry client whose requests carry a person's identity: uncached, retried only when safe."""

    def __init__(self, base_url: str, **options: Any) -> None:
        """Configure the client for the registry root `base_url` (the API lives under /api/v1 of it)."""
        if base_url.rstrip("/").endswith("/api/v1"):
            # Otherwise every call would go to /api/v1/api/v1/... and every page would be a 404.
            raise ValueError(f"pass the registry's root URL, not its API root: {base_url!r}")
        super().__init__(base_url, **options)

    def _personal(
        self,
        method: str,
        path: str,
        identity_token: str,
        *,
        body: Any = None,
        params: Mapping[str, str | int | None] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Send one personal request under the API root with the identity; return the JSON answer (or None)."""
        headers = identity_headers(identity_token)
        _, data = self.send_json(
            method, API + path, body=body, params=params, headers=headers, idempotency_key=idempotency_key
        )
        return data

    def _document(self, method: str, path: str, identity_token: str, **options: Any) -> dict[str, Any]:
        """Like _personal, for answers that are JSON objects; anything else is a RegistryError."""
        data = self._personal(method, path, identity_token, **options)
        if not isinstance(data, dict):
            raise RegistryError(f"expected a JSON object from {method} {path}, got {type(data).__name__}")
        return data
