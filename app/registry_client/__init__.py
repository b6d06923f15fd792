"""The only code of the portal that speaks HTTP to the registry: timeouts, retries, caching, one error type."""

from .base import RegistryClient, current_request_id, request_id, reset_stale, served_stale
from .catalogue import CatalogueClient, slug
from .errors import RegistryError, RegistryNotFound

__all__ = [
    "CatalogueClient",
    "RegistryClient",
    "RegistryError",
    "RegistryNotFound",
    "current_request_id",
    "request_id",
    "reset_stale",
    "served_stale",
    "slug",
]
