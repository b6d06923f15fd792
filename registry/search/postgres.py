"""The search index on PostgreSQL: generated columns on service_search with GIN indexes (migration 0001).

service_search holds the same folded words as on SQLite (registry/search/documents.py). PostgreSQL derives from
them `text_vector` (title weighted A, keywords B, body C, by the 'simple' configuration, which keeps each folded
word as it is), `facet_tokens` (the facet tokens as an array) and `token_count` (the row's words and facet tokens,
what FTS5 calls the row's size). So:

- a query word `skol` is the prefix query `'skol':*` (`'skol':*A` for the title alone): the words a person types are
  folded and stemmed in Python exactly as for SQLite, and "skola", "skolā" and "SKOLAS" all become `skol`;
- filters are array tests on the facet tokens: `@>` for every required token, `&&` for one of the places;
- relevance is FTS5's bm25, computed here with the same formula, column weights and statistics (rows, average row
  size, rows containing each word), so results come in the same order as on SQLite.

Words are [0-9a-z]+ after folding and are passed as bound parameters, never spliced into the SQL.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import Text

from registry.search.documents import BODY_WEIGHT, KEYWORDS_WEIGHT, TITLE_WEIGHT
from registry.search.index import BM25_B, BM25_K1, Match, Order

# Created by migration 0001 on PostgreSQL only; the application writes title, keywords, body and facets.
GENERATED_COLUMNS = ("text_vector", "facet_tokens", "token_count")
INDEXES = ("ix_service_search_text", "ix_service_search_facets", "ix_service_search_size")


def tsquery(words: tuple[str, ...], weights: str = "") -> str:
    """Return a tsquery requiring every word as a prefix, optionally only in words of the given weights."""
    return " & ".join(f"'{word}':*{weights}" for word in words)


def _where(match: Match) -> tuple[str, dict[str, Any]]:
    """Return the WHERE condition of `match` over service_search and its parameters."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if match.words:
        if match.scope == "title":
            params["in_text"] = tsquery(match.words, "A")
        else:
            params["in_text"] = tsquery(match.words)
        clauses.append("text_vector @@ CAST(:in_text AS tsquery)")
        if match.scope == "text_not_title":
            params["in_title"] = tsquery(match.words, "A")
            clauses.append("NOT (text_vector @@ CAST(:in_title AS tsquery))")
    if match.facets is not None:
        if match.facets.all_of:
            params["all_of"] = list(match.facets.all_of)
            clauses.append("facet_tokens @> CAST(:all_of AS text[])")
        if match.facets.any_of:
            params["any_of"] = list(match.facets.any_of)
            clauses.append("facet_tokens && CAST(:any_of AS text[])")
    if not clauses:
        raise ValueError("a match needs words or facets")
    return " AND ".join(clauses), params


def _occurrences(column: str, index: int) -> str:
    """SQL counting the words of `column` that start with query word `index` (FTS5's instances of a prefix).

    The column is space-separated words with a space put in front, so " word" marks each word beginning with it.
    """
    return f"((length({column}) - length(replace({column}, :p{index}, ''))) / length(:p{index}))"


def _ranked_sql(words: tuple[str, ...], where: str) -> str:
    """SQL of one page of matches ordered by FTS5's bm25 (higher is better; ties by pk), as SQLite computes it.

    Each row's text is unpacked once and each word's weighted frequency computed once (`OFFSET 0` keeps PostgreSQL
    from inlining the subqueries, which would repeat the work for every use); the score takes the same
    floating-point steps as SQLite's C code, so equal inputs give equal scores and the same order.
    """
    frequencies = ", ".join(
        f":w_title * {_occurrences('t', i)} + :w_keywords * {_occurrences('k', i)} + :w_body * {_occurrences('b', i)}"
        f" AS f{i}"
        for i in range(len(words))
    )
    score = " + ".join(
        f"(:idf{i} * ((f{i} * (:k1 + 1.0)) / (f{i} + :k1 * (1.0 - :b + :b * token_count / :avgdl))))"
        for i in range(len(words))
    )
    return (
        "SELECT service_pk FROM service_search"  # noqa: S608 - constant SQL around numbered bound parameters
        " CROSS JOIN LATERAL (SELECT ' ' || title AS t, ' ' || keywords AS k, ' ' || body AS b OFFSET 0) AS padded"
        f" CROSS JOIN LATERAL (SELECT {frequencies} OFFSET 0) AS frequency"
        f" WHERE {where} ORDER BY {score} DESC, service_pk LIMIT :limit OFFSET :offset"
    )


@contextmanager
def _by_index(session: Session, match: Match) -> Iterator[None]:
    """Within the statements of a word search, have the planner use the indexes rather than read the whole table.

    Testing a row against `text_vector` means fetching and decompressing a large TOASTed value, which the planner does
    not cost: for a common word it would read the whole table (0.55 s at 100,000 services against 0.08 s through the
    GIN index). SET LOCAL lasts until the end of the transaction, so it is put back after the statements.
    """
    if not match.words:
        yield
        return
    session.execute(text("SET LOCAL enable_seqscan = off"))
    yield
    session.execute(text("SET LOCAL enable_seqscan TO DEFAULT"))


class PostgresIndex:
    """tsvector and text[] with GIN indexes; bm25 computed in SQL for the (bounded) set being ranked."""

    def count(self, session: Session, match: Match) -> int:
        where, params = _where(match)
        with _by_index(session, match):
            return session.scalar(text(f"SELECT count(*) FROM service_search WHERE {where}"), params) or 0  # noqa: S608

    def page(self, session: Session, match: Match, order: Order, limit: int, offset: int) -> list[int]:
        where, params = _where(match)
        params |= {"limit": limit, "offset": offset}
        with _by_index(session, match):
            if order == "relevance" and match.words:
                params |= self._bm25_parameters(session, match.words)
                sql = _ranked_sql(match.words, where)
            else:
                sql = f"SELECT service_pk FROM service_search WHERE {where} ORDER BY service_pk"  # noqa: S608
                sql += " LIMIT :limit OFFSET :offset"
            return list(session.scalars(text(sql), params))

    def matching(self, match: Match) -> TextClause:
        where, params = _where(match)
        binds = [
            bindparam(name, value, type_=ARRAY(Text) if isinstance(value, list) else None)
            for name, value in params.items()
        ]
        return text(f"SELECT service_pk FROM service_search WHERE {where}").bindparams(*binds)  # noqa: S608

    @staticmethod
    def _bm25_parameters(session: Session, words: tuple[str, ...]) -> dict[str, Any]:
        """The statistics bm25 needs, as FTS5 keeps them: rows, their average size, rows containing each word."""
        per_word = ", ".join(
            f"(SELECT count(*) FROM service_search WHERE text_vector @@ CAST(:q{i} AS tsquery))"  # noqa: S608
            for i in range(len(words))
        )
        sql = f"SELECT count(*), coalesce(sum(token_count), 0), {per_word} FROM service_search"  # noqa: S608
        row = session.execute(text(sql), {f"q{i}": tsquery((word,)) for i, word in enumerate(words)}).one()
        rows, tokens, hits = int(row[0]), int(row[1]), [int(h) for h in row[2:]]
        params: dict[str, Any] = {
            "k1": BM25_K1,
            "b": BM25_B,
            "avgdl": tokens / rows if rows and tokens else 1.0,
            "w_title": TITLE_WEIGHT,
            "w_keywords": KEYWORDS_WEIGHT,
            "w_body": BODY_WEIGHT,
        }
        for i, (word, hit) in enumerate(zip(words, hits, strict=True)):
            params[f"p{i}"] = f" {word}"
            params[f"idf{i}"] = _idf(rows, hit)
        return params


def _idf(rows: int, hits: int) -> float:
    """FTS5's inverse document frequency: log((N - n + 0.5) / (n + 0.5)), at least 1e-6."""
    value = math.log((rows - hits + 0.5) / (hits + 0.5))
    return value if value > 0 else 1e-6
