"""Services: store a description, read it back, and find services by filters and words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, exists, func, or_, select, text
from sqlalchemy.orm import Session

from registry.models.tables import (
    Service,
    ServiceAudience,
    ServiceDocument,
    ServiceInstitution,
    ServiceLifeEvent,
    ServiceSearch,
)
from registry.search.documents import (
    BODY_WEIGHT,
    FACETS_WEIGHT,
    KEYWORDS_WEIGHT,
    TEXT_COLUMNS,
    TITLE_WEIGHT,
    facet_filter,
    search_fields,
)
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


# Up to this many matches are ordered exactly (bm25 for searches, title for filtered lists); the cost of that is
# linear in the matches. Beyond it, orders that the index can produce without looking at every match are used.
EXACT_ORDER_LIMIT = 5000

_BY_RELEVANCE = f"bm25(service_fts, {TITLE_WEIGHT}, {KEYWORDS_WEIGHT}, {BODY_WEIGHT}, {FACETS_WEIGHT}), rowid"


def _fts_count(session: Session, expression: str) -> int:
    return session.scalar(text("SELECT count(*) FROM service_fts WHERE service_fts MATCH :m"), {"m": expression}) or 0


def _fts_page(session: Session, expression: str, order: str, limit: int, offset: int) -> list[int]:
    # `order` is one of the constant ORDER BY clauses of this module, never user input.
    sql = f"SELECT rowid FROM service_fts WHERE service_fts MATCH :m ORDER BY {order} LIMIT :limit OFFSET :offset"  # noqa: S608
    return list(session.scalars(text(sql), {"m": expression, "limit": limit, "offset": offset}))


def _search_page(session: Session, words: str, facets: str | None, query: ServiceQuery) -> ServicePage:
    """Search: bm25 order when the matches are few enough, else title matches first, then the rest."""
    in_text = f"{TEXT_COLUMNS} : ({words})"
    expression = in_text if facets is None else f"{in_text} AND {facets}"
    total = _fts_count(session, expression)
    offset = (query.page - 1) * query.per_page
    if total <= EXACT_ORDER_LIMIT:
        pks = _fts_page(session, expression, _BY_RELEVANCE, query.per_page, offset)
        return ServicePage(_items(session, pks), total)
    # Too many to score one by one: services with every word in the title come first (as bm25 would put them),
    # each tier in publication order, which the index yields without scoring every match.
    in_title = "{title} : (" + words + ")" + ("" if facets is None else f" AND {facets}")
    rest = f"({expression}) NOT {{title}} : ({words})"
    title_total = _fts_count(session, in_title)
    pks = _fts_page(session, in_title, "rowid", query.per_page, offset) if offset < title_total else []
    if len(pks) < query.per_page:
        rest_offset = max(0, offset - title_total)
        pks += _fts_page(session, rest, "rowid", query.per_page - len(pks), rest_offset)
    return ServicePage(_items(session, pks), total)


def _listing_page(session: Session, facets: str | None, query: ServiceQuery) -> ServicePage:
    """List by Latvian title: few matches are sorted directly, many are read in title order from the index."""
    offset = (query.page - 1) * query.per_page
    if facets is None:
        total = session.scalar(select(func.count(Service.pk)).where(Service.status == "published")) or 0
        stmt = select(Service.pk).where(Service.status == "published")
    else:
        total = _fts_count(session, facets)
        if total <= EXACT_ORDER_LIMIT:
            matching = text("SELECT rowid FROM service_fts WHERE service_fts MATCH :m").bindparams(m=facets)
            stmt = select(Service.pk).where(Service.pk.in_(matching))
        else:
            # Dense filters: walking the title index and testing each row fills a page after a few rows.
            stmt = _filtered(query)
    pks = list(session.scalars(stmt.order_by(Service.sort_key, Service.id).limit(query.per_page).offset(offset)))
    return ServicePage(_items(session, pks), total)


def _items(session: Session, pks: list[int]) -> list[dict[str, Any]]:
    """Return the list representations of services `pks`, in that order."""
    if not pks:
        return []
    rows = session.execute(
        select(ServiceDocument.service_pk, ServiceDocument.item).where(ServiceDocument.service_pk.in_(pks))
    )
    items_by_pk = {pk: item for pk, item in rows}
    return [items_by_pk[pk] for pk in pks]


def find_services(session: Session, query: ServiceQuery) -> ServicePage:
    """Return published services matching `query`: by relevance when words are given, else by Latvian title."""
    facets = facet_filter(
        audience=query.audience,
        level=query.level,
        institution=query.institution,
        municipality=query.municipality,
        life_event=query.life_event,
    )
    if not query.q:
        return _listing_page(session, facets, query)
    words = match_expression(query.q)
    if words is None:
        return ServicePage(items=[], total=0)
    return _search_page(session, words, facets, query)


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
