"""The full-text index as the catalogue search uses it: one interface, one implementation per database.

SQLite keeps an FTS5 table (registry/search/sqlite.py), PostgreSQL a tsvector and a facet array on service_search
(registry/search/postgres.py). Both index the same folded words (registry/search/documents.py), match query words
as prefixes the same way and rank with the same bm25, so a search answers the same on either database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from sqlalchemy import TextClause
from sqlalchemy.orm import Session

from registry.search.documents import FacetFilter

# Where the words must be: anywhere in the text (title, keywords, body), in the title, or in the text but not all in
# the title (the second tier of a large result, registry/models/service_search.py).
Scope = Literal["text", "title", "text_not_title"]
Order = Literal["relevance", "pk"]

# bm25 as SQLite FTS5 computes it (k1, b), with the column weights of registry/search/documents.py.
BM25_K1 = 1.2
BM25_B = 0.75


@dataclass(frozen=True)
class Match:
    """What the index is asked for: every word as a prefix (in `scope`) and the facet tokens; at least one of them."""

    words: tuple[str, ...] = ()
    facets: FacetFilter | None = None
    scope: Scope = "text"


class SearchIndex(Protocol):
    """The published services' full-text index; rows are identified by services.pk."""

    def count(self, session: Session, match: Match) -> int:
        """Return how many services match."""
        ...

    def page(self, session: Session, match: Match, order: Order, limit: int, offset: int) -> list[int]:
        """Return one page of the matching services' pks: by bm25 (ties by pk), or by pk."""
        ...

    def matching(self, match: Match) -> TextClause:
        """Return a SELECT of the matching pks, to use in `Service.pk.in_(...)`."""
        ...


def search_index(session: Session) -> SearchIndex:
    """Return the index implementation of the session's database."""
    from registry.search.postgres import PostgresIndex
    from registry.search.sqlite import SqliteIndex

    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return SqliteIndex()
    if dialect == "postgresql":
        return PostgresIndex()
    raise NotImplementedError(f"catalogue search has no implementation for {dialect}")
