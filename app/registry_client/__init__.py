"""The only code of the portal that speaks HTTP to the registry: timeouts, retries, caching, one error type."""

from .applications import ApplicationsClient
from .base import RegistryClient, current_request_id, request_id, reset_stale, served_stale
from .breaker import CircuitBreaker, RegistryCircuitOpen
from .catalogue import CatalogueClient, slug
from .errors import (
    RegistryConflict,
    RegistryError,
    RegistryForbidden,
    RegistryNotFound,
    RegistryUnauthorized,
    RegistryValidationError,
)

__all__ = [
    "ApplicationsClient",
    "CatalogueClient",
    "CircuitBreaker",
    "RegistryCircuitOpen",
    "RegistryClient",
    "RegistryConflict",
    "RegistryError",
    "RegistryForbidden",
    "RegistryNotFound",
    "RegistryUnauthorized",
    "RegistryValidationError",
    "current_request_id",
    "request_id",
    "reset_stale",
    "served_stale",
    "slug",
]
