"""The search index on SQLite: an FTS5 table over service_search, kept in step by triggers (migration 0001)."""

from __future__ import annotations

from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from registry.search.documents import BODY_WEIGHT, FACETS_WEIGHT, KEYWORDS_WEIGHT, TEXT_COLUMNS, TITLE_WEIGHT
from registry.search.index import Match, Order
from registry.search.text import fts5_words

_ORDERS = {
    "relevance": f"bm25(service_fts, {TITLE_WEIGHT}, {KEYWORDS_WEIGHT}, {BODY_WEIGHT}, {FACETS_WEIGHT}), rowid",
    "pk": "rowid",
}


def expression(match: Match) -> str:
    """Return the FTS5 MATCH expression of `match`."""
    facets = match.facets.fts5() if match.facets is not None else None
    if not match.words:
        if facets is None:
            raise ValueError("a match needs words or facets")
        return facets
    words = fts5_words(match.words)
    if match.scope == "title":
        in_title = "{title} : (" + words + ")"
        return in_title if facets is None else f"{in_title} AND {facets}"
    in_text = f"{TEXT_COLUMNS} : ({words})"
    everywhere = in_text if facets is None else f"{in_text} AND {facets}"
    if match.scope == "text_not_title":
        return f"({everywhere}) NOT {{title}} : ({words})"
    return everywhere


class SqliteIndex:
    """FTS5: matching, counting and bm25 are the table's own."""

    def count(self, session: Session, match: Match) -> int:
        sql = text("SELECT count(*) FROM service_fts WHERE service_fts MATCH :m")
        return session.scalar(sql, {"m": expression(match)}) or 0

    def page(self, session: Session, match: Match, order: Order, limit: int, offset: int) -> list[int]:
        # The ORDER BY is one of the constant clauses above, never user input.
        where = "SELECT rowid FROM service_fts WHERE service_fts MATCH :m"
        sql = f"{where} ORDER BY {_ORDERS[order]} LIMIT :limit OFFSET :offset"
        return list(session.scalars(text(sql), {"m": expression(match), "limit": limit, "offset": offset}))

    def matching(self, match: Match) -> TextClause:
        return text("SELECT rowid FROM service_fts WHERE service_fts MATCH :m").bindparams(m=expression(match))
