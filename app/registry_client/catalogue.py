"""Catalogue reads: services, institutions, life events and municipalities, one line each."""

from __future__ import annotations

import re
from typing import Any, Final

from .base import RegistryClient
from .errors import RegistryNotFound

# The registry's Slug (openapi.json): ids from URLs are checked against it before they become part of a path.
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_SLUG_LENGTH = range(2, 81)
API: Final = "api/v1/"


def slug(value: object, kind: str = "resource") -> str:
    """Return `value` if it is a valid registry id, else raise RegistryNotFound without asking the registry."""
    if isinstance(value, str) and len(value) in _SLUG_LENGTH and _SLUG.fullmatch(value):
        return value
    raise RegistryNotFound(f"{kind} ids are lower-case words joined by hyphens")


class CatalogueClient(RegistryClient):
    """Public catalogue reads; each is cached as the registry's Cache-Control says (60 s, then ETag revalidation)."""

    def __init__(self, base_url: str, **options: Any) -> None:
        """Configure the client for the registry root `base_url` (the API lives under /api/v1 of it)."""
        if base_url.rstrip("/").endswith("/api/v1"):
            # Otherwise every call would go to /api/v1/api/v1/... and every page would be a 404.
            raise ValueError(f"pass the registry's root URL, not its API root: {base_url!r}")
        super().__init__(base_url, **options)

    def list_services(
        self,
        *,
        q: str | None = None,
        audience: str | None = None,
        level: int | None = None,
        institution: str | None = None,
        municipality: str | None = None,
        life_event: str | None = None,
        page: int = 1,
        per_page: int = 20,
    ) -> dict[str, Any]:
        """Return one page of published services matching the filters: items, total, page, per_page."""
        return self.get_object(
            f"{API}services",
            {
                "q": q,
                "audience": audience,
                "level": level,
                "institution": institution,
                "municipality": municipality,
                "life_event": life_event,
                "page": page,
                "per_page": per_page,
            },
        )

    def get_service(self, service_id: str) -> dict[str, Any]:
        """Return the full description of one published service."""
        return self.get_object(f"{API}services/{slug(service_id, 'service')}")

    def list_institutions(self) -> dict[str, Any]:
        """Return every institution: items, total."""
        return self.get_object(f"{API}institutions")

    def get_institution(self, institution_id: str) -> dict[str, Any]:
        """Return one institution."""
        return self.get_object(f"{API}institutions/{slug(institution_id, 'institution')}")

    def list_life_events(self) -> dict[str, Any]:
        """Return every life event and business situation: items, total."""
        return self.get_object(f"{API}life-events")

    def list_municipalities(self) -> dict[str, Any]:
        """Return every municipality: items, total."""
        return self.get_object(f"{API}municipalities")
