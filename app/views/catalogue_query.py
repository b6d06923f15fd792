"""Read the catalogue's query string: keep what is valid, report what is not."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from app.models.catalogue import AUDIENCES, LEVELS
from app.models.catalogue_api import CatalogueQuery

MAX_PAGE = 10_000


@dataclass(frozen=True)
class ParsedQuery:
    """The valid part of a query string, which parameters were dropped, and whether `q` was too long."""

    query: CatalogueQuery
    dropped: tuple[str, ...] = field(default=())
    too_long: bool = False


def parse_catalogue_query(
    args: Mapping[str, str], *, institutions: Collection[str], life_events: Collection[str], max_q: int
) -> ParsedQuery:
    """Validate every parameter; unknown values are dropped (the view redirects to the clean URL)."""
    dropped: list[str] = []

    def choice(name: str, allowed: Collection[str]) -> str | None:
        value = args.get(name, "")
        if value == "":
            return None
        if value not in allowed:
            dropped.append(name)
            return None
        return value

    level_text = choice("level", [str(level) for level in LEVELS])
    page_text = args.get("page", "")
    page = 1
    if page_text:
        if page_text.isascii() and page_text.isdigit() and 1 <= int(page_text[:6]) <= MAX_PAGE:
            page = int(page_text)
        else:
            dropped.append("page")
    q = " ".join(args.get("q", "").split())
    too_long = len(q) > max_q
    query = CatalogueQuery(
        q=q[:max_q],
        audience=choice("audience", AUDIENCES),
        level=int(level_text) if level_text else None,
        institution=choice("institution", institutions),
        life_event=choice("life_event", life_events),
        page=page,
    )
    return ParsedQuery(query=query, dropped=tuple(dropped), too_long=too_long)


def query_args(query: CatalogueQuery, **changes: object) -> dict[str, object]:
    """Return the non-empty URL parameters of `query`, with `changes` applied (for links and pagination)."""
    values: dict[str, object] = {
        "q": query.q,
        "audience": query.audience,
        "level": query.level,
        "institution": query.institution,
        "life_event": query.life_event,
        "page": query.page if query.page != 1 else None,
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v not in (None, "", 1) or (k != "page" and v == 1)}
