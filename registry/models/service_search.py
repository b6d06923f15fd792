"""Find published services by filters and words, one page at a time, fast at 100,000 services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session

from registry.models.tables import Service, ServiceAudience, ServiceDocument, ServiceInstitution, ServiceLifeEvent
from registry.search.documents import FacetFilter, facet_terms
from registry.search.index import Match, SearchIndex, search_index
from registry.search.text import query_words


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


def _search_page(
    session: Session, index: SearchIndex, words: tuple[str, ...], facets: FacetFilter | None, query: ServiceQuery
) -> ServicePage:
    """Search: bm25 order when the matches are few enough, else title matches first, then the rest."""
    everywhere = Match(words, facets)
    total = index.count(session, everywhere)
    offset = (query.page - 1) * query.per_page
    if total <= EXACT_ORDER_LIMIT:
        pks = index.page(session, everywhere, "relevance", query.per_page, offset)
        return ServicePage(_items(session, pks), total)
    # Too many to score one by one: services with every word in the title come first (as bm25 would put them),
    # each tier in publication order, which the index yields without scoring every match.
    in_title = Match(words, facets, scope="title")
    rest = Match(words, facets, scope="text_not_title")
    pks = index.page(session, in_title, "pk", query.per_page, offset)
    if len(pks) < query.per_page:
        # The title tier ends on this page (or before it): the rest continues where the title tier stopped.
        title_total = offset + len(pks) if pks or offset == 0 else index.count(session, in_title)
        rest_offset = max(0, offset - title_total)
        pks += index.page(session, rest, "pk", query.per_page - len(pks), rest_offset)
    return ServicePage(_items(session, pks), total)


def _listing_page(session: Session, index: SearchIndex, facets: FacetFilter | None, query: ServiceQuery) -> ServicePage:
    """List by Latvian title: few matches are sorted directly, many are read in title order from the index."""
    offset = (query.page - 1) * query.per_page
    if facets is None:
        total = session.scalar(select(func.count(Service.pk)).where(Service.status == "published")) or 0
        stmt = select(Service.pk).where(Service.status == "published")
    else:
        total = index.count(session, Match(facets=facets))
        if total <= EXACT_ORDER_LIMIT:
            stmt = select(Service.pk).where(Service.pk.in_(index.matching(Match(facets=facets))))
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
    """Return published services matching `query`: by relevance when words are given, else by Latvian title.

    The full-text index is the database's own (FTS5 on SQLite, tsvector on PostgreSQL: registry/search/index.py);
    both answer the same query with the same services in the same order.
    """
    index = search_index(session)
    facets = facet_terms(
        audience=query.audience,
        level=query.level,
        institution=query.institution,
        municipality=query.municipality,
        life_event=query.life_event,
    )
    if not query.q:
        return _listing_page(session, index, facets, query)
    words = query_words(query.q)
    if not words:
        return ServicePage(items=[], total=0)
    return _search_page(session, index, tuple(words), facets, query)
