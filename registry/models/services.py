"""Services: store a description, read it back, and find services by filters and words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, exists, func, literal_column, or_, select, table, text
from sqlalchemy.orm import Session

from registry.models.tables import (
    Service,
    ServiceAudience,
    ServiceDocument,
    ServiceInstitution,
    ServiceLifeEvent,
    ServiceSearch,
)
from registry.search.documents import BODY_WEIGHT, KEYWORDS_WEIGHT, TITLE_WEIGHT, search_fields
from registry.search.text import fold, match_expression

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

_fts = table("service_fts", literal_column("rowid"))


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


@dataclass(frozen=True)
class ServiceQuery:
    """What a person asked the catalogue for; every field is already validated."""

    q: str = ""
    audience: str | None = None
    level: int | None = None
    institution: str | None = None
    municipality: str | None = None
    life_event: str | None = None
    page: int = 1
    per_page: int = 20


@dataclass(frozen=True)
class ServicePage:
    """One page of results and how many there are in all."""

    items: list[dict[str, Any]]
    total: int


def _filtered(query: ServiceQuery) -> Select[Any]:
    stmt = select(Service.pk).where(Service.status == "published")
    if query.level is not None:
        stmt = stmt.where(Service.level == query.level)
    if query.municipality is not None:
        stmt = stmt.where(Service.spatial.in_(["LV", query.municipality]))
    if query.audience is not None:
        stmt = stmt.where(
            exists().where(ServiceAudience.service_pk == Service.pk, ServiceAudience.audience == query.audience)
        )
    if query.life_event is not None:
        stmt = stmt.where(
            exists().where(
                ServiceLifeEvent.service_pk == Service.pk, ServiceLifeEvent.life_event_id == query.life_event
            )
        )
    if query.institution is not None:
        stmt = stmt.where(
            or_(
                Service.competent_authority == query.institution,
                exists().where(
                    ServiceInstitution.service_pk == Service.pk, ServiceInstitution.institution_id == query.institution
                ),
            )
        )
    return stmt


def _has_filters(query: ServiceQuery) -> bool:
    return any(
        value is not None
        for value in (query.audience, query.level, query.institution, query.municipality, query.life_event)
    )


def find_services(session: Session, query: ServiceQuery) -> ServicePage:
    """Return published services matching `query`: by relevance when words are given, else by Latvian title."""
    match = match_expression(query.q) if query.q else None
    if query.q and match is None:
        return ServicePage(items=[], total=0)
    stmt: Select[Any]
    if match is None:
        stmt = _filtered(query).order_by(Service.sort_key, Service.id)
    else:
        rowid = literal_column("service_fts.rowid")
        matches = text("service_fts MATCH :match").bindparams(match=match)
        rank = text(f"bm25(service_fts, {TITLE_WEIGHT}, {KEYWORDS_WEIGHT}, {BODY_WEIGHT})")
        if _has_filters(query):
            stmt = _filtered(query).join(_fts, rowid == Service.pk).where(matches).order_by(rank, Service.pk)
        else:
            # Only published services are indexed: the index alone answers, without touching the services table.
            stmt = select(rowid).select_from(_fts).where(matches).order_by(rank, rowid)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    offset = (query.page - 1) * query.per_page
    pks = list(session.scalars(stmt.limit(query.per_page).offset(offset)))
    if not pks:
        return ServicePage(items=[], total=total)
    rows = session.execute(
        select(ServiceDocument.service_pk, ServiceDocument.item).where(ServiceDocument.service_pk.in_(pks))
    )
    items_by_pk = {pk: item for pk, item in rows}
    return ServicePage(items=[items_by_pk[pk] for pk in pks], total=total)


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
