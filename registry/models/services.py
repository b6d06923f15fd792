"""Services: store a description and everything derived from it, and read it back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.models.forms import newest_form_versions
from registry.models.tables import (
    Service,
    ServiceAudience,
    ServiceDocument,
    ServiceInstitution,
    ServiceLifeEvent,
    ServiceSearch,
)
from registry.search.documents import search_fields
from registry.search.text import fold

# The fields every list item carries: enough for a result card without fetching the whole description.
ITEM_FIELDS = (
    "id",
    "title",
    "summary",
    "level",
    "audiences",
    "competent_authority",
    "participating_institutions",
    "spatial",
    "life_events",
    "processing_time",
    "status",
    "updated_at",
)

# Members of the service detail that the registry derives from what it stores; a publisher never sets them.
DERIVED_FIELDS = ("forms",)


def item_of(document: dict[str, Any]) -> dict[str, Any]:
    """Return the list representation of a service document, plus whether it is free of charge."""
    item = {key: document[key] for key in ITEM_FIELDS if key in document}
    costs = document.get("costs")
    if costs is not None:
        item["free"] = all(cost["amount"] == 0 for cost in costs)
    return item


def _parse_time(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def get_service(session: Session, service_id: str) -> Service | None:
    """Return the stored service with `service_id`, whatever its status, or None."""
    return session.scalar(select(Service).where(Service.id == service_id))


def service_detail(session: Session, row: Service) -> dict[str, Any]:
    """Return the detail representation of a service: its document plus the forms people fill in for it.

    Listing the forms here lets a client decide whether to offer an online application from the detail it already
    has; a new form version changes the detail, and so its ETag.
    """
    return {**row.document, "forms": newest_form_versions(session, row)}


def save_service(session: Session, document: dict[str, Any]) -> Service:
    """Insert or replace a service and everything derived from it (filters, search text)."""
    row = get_service(session, document["id"]) or Service(id=document["id"])
    row.status = document["status"]
    row.level = document["level"]
    row.spatial = document["spatial"]
    row.competent_authority = document["competent_authority"]
    row.sort_key = fold(document["title"].get("lv") or next(iter(document["title"].values())))[:300]
    row.updated_at = _parse_time(document.get("updated_at"))
    if row.stored is None:
        row.stored = ServiceDocument(document=document, item=item_of(document))
    else:
        row.stored.document, row.stored.item = document, item_of(document)
    row.audiences = [ServiceAudience(audience=a) for a in document["audiences"]]
    row.life_events = [ServiceLifeEvent(life_event_id=e) for e in document.get("life_events", [])]
    participants = [i for i in document.get("participating_institutions", []) if i != document["competent_authority"]]
    row.institutions = [ServiceInstitution(institution_id=document["competent_authority"], role="competent")] + [
        ServiceInstitution(institution_id=i, role="participating") for i in participants
    ]
    # Only published services are searchable, so an unfiltered search can be answered by the index alone.
    fields = search_fields(document)
    if row.status != "published":
        row.search = None
    elif row.search is None:
        row.search = ServiceSearch(**fields)
    else:
        for key, value in fields.items():
            setattr(row.search, key, value)
    session.add(row)
    return row


def published_documents(session: Session) -> list[dict[str, Any]]:
    """Return every published service document, by Latvian title."""
    stmt = (
        select(ServiceDocument.document)
        .join(Service, Service.pk == ServiceDocument.service_pk)
        .where(Service.status == "published")
        .order_by(Service.sort_key, Service.id)
    )
    return list(session.scalars(stmt))


def count_services(session: Session) -> int:
    """Return how many services are stored, whatever their status."""
    return session.scalar(select(func.count(Service.pk))) or 0
