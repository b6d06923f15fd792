"""Ask the registry for catalogue data and wrap it; the only module of the models layer that uses the client."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, current_app, g

from app.delivery_points import DeliveryPoint
from app.models.catalogue import Institution, LifeEvent, Service, ServiceList
from app.registry_client.catalogue import CatalogueClient
from app.registry_client.errors import RegistryNotFound


@dataclass(frozen=True)
class CatalogueQuery:
    """What a person is looking for in the catalogue (already validated)."""

    q: str = ""
    audience: str | None = None
    level: int | None = None
    institution: str | None = None
    life_event: str | None = None
    page: int = 1

    def is_empty(self) -> bool:
        """Say whether no search or filter is set."""
        return not (self.q or self.audience or self.level or self.institution or self.life_event)


def _client() -> CatalogueClient:
    client: CatalogueClient = current_app.extensions["registry_client"]
    return client


def search_services(point: DeliveryPoint, query: CatalogueQuery, per_page: int) -> ServiceList:
    """Return one page of the point's catalogue: a municipal point sees nationwide services plus its own."""
    data = _client().list_services(
        q=query.q or None,
        audience=query.audience,
        level=query.level,
        institution=query.institution,
        municipality=point.municipality,
        life_event=query.life_event,
        page=query.page,
        per_page=per_page,
    )
    return ServiceList.from_json(data)


def get_service(point: DeliveryPoint, service_id: str) -> Service:
    """Return a service offered on `point`, or abort with 404 (unknown, withdrawn or another municipality's)."""
    try:
        service = Service.from_json(_client().get_service(service_id))
    except RegistryNotFound:
        abort(404)
    if not service.is_available_in(point.municipality):
        abort(404)
    return service


def featured_services(point: DeliveryPoint) -> tuple[Service, ...]:
    """Return the point's featured services that the registry still offers on it (missing ones are skipped)."""
    found = []
    for service_id in point.featured_services:
        try:
            service = Service.from_json(_client().get_service(service_id))
        except RegistryNotFound:
            continue
        if service.is_available_in(point.municipality):
            found.append(service)
    return tuple(found)


def services_by_id(service_ids: set[str]) -> dict[str, Service]:
    """Return the named services that still exist (each answer is cached by the client)."""
    found = {}
    for service_id in sorted(service_ids):
        try:
            found[service_id] = Service.from_json(_client().get_service(service_id))
        except RegistryNotFound:
            continue
    return found


def get_institution(institution_id: str) -> Institution:
    """Return an institution, or abort with 404."""
    try:
        return Institution.from_json(_client().get_institution(institution_id))
    except RegistryNotFound:
        abort(404)


def institutions() -> dict[str, Institution]:
    """Return every institution by id (once per request; the client caches across requests)."""
    if "institutions" not in g:
        g.institutions = {i["id"]: Institution.from_json(i) for i in _client().list_institutions()["items"]}
    result: dict[str, Institution] = g.institutions
    return result


def life_events() -> tuple[LifeEvent, ...]:
    """Return the life and business events in their curated order."""
    return tuple(LifeEvent.from_json(e) for e in _client().list_life_events()["items"])
