"""What of a service goes into the search index: its words, with weights, and its filter values as facet tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from registry.search.text import words

# bm25 weights per index column: a word in the title counts most, then keywords, then summary and description.
# Facets are filters, never relevance, so they weigh nothing.
TITLE_WEIGHT, KEYWORDS_WEIGHT, BODY_WEIGHT, FACETS_WEIGHT = 10.0, 3.0, 1.0, 0.0
TEXT_COLUMNS = "{title keywords body}"


def _all_languages(text: dict[str, str] | None) -> str:
    return " ".join((text or {}).values())


def _indexed(text: str) -> str:
    """Store text as its folded words, so index and query always split words the same way."""
    return " ".join(words(text))


def facet_tokens(service: dict[str, Any]) -> str:
    """Return the filter values of a service as index tokens: audiences, level, place, institutions, life events.

    Filters then run inside the full-text index, where counting tens of thousands of matches stays cheap. Ids are
    slugs (letters, digits, hyphens); the index keeps `_` and `-` inside tokens, so `i_riga-municipality` is one token.
    """
    tokens = [f"a_{a}" for a in service["audiences"]]
    tokens.append(f"l_{service['level']}")
    tokens.append(f"s_{service['spatial'].lower()}")
    institutions = [service["competent_authority"], *service.get("participating_institutions", [])]
    tokens += [f"i_{i}" for i in dict.fromkeys(institutions)]
    tokens += [f"e_{e}" for e in service.get("life_events", [])]
    return " ".join(tokens)


def search_fields(service: dict[str, Any]) -> dict[str, str]:
    """Return the indexed columns of a service: folded title, keywords and body (all languages), and facets."""
    keywords = " ".join(" ".join(words) for words in service.get("keywords", {}).values())
    body = " ".join(_all_languages(service.get(key)) for key in ("summary", "description"))
    return {
        "title": _indexed(_all_languages(service.get("title"))),
        "keywords": _indexed(keywords),
        "body": _indexed(body),
        "facets": facet_tokens(service),
    }


@dataclass(frozen=True)
class FacetFilter:
    """Filter values as facet tokens: a service must have every token of `all_of` and one of `any_of` (if any)."""

    all_of: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()

    def fts5(self) -> str:
        """Return the FTS5 expression of this filter over the facets column."""
        terms = [f'"{token}"' for token in self.all_of]
        if self.any_of:
            terms.append("(" + " OR ".join(f'"{token}"' for token in self.any_of) + ")")
        return "{facets} : (" + " AND ".join(terms) + ")"


def facet_terms(
    *,
    audience: str | None = None,
    level: int | None = None,
    institution: str | None = None,
    municipality: str | None = None,
    life_event: str | None = None,
) -> FacetFilter | None:
    """Return the facet tokens the given filter values require, or None without filters.

    Every value was validated against the known ids (slugs) before it gets here, so quoting it is enough.
    """
    all_of = []
    if audience is not None:
        all_of.append(f"a_{audience}")
    if level is not None:
        all_of.append(f"l_{level}")
    if institution is not None:
        all_of.append(f"i_{institution}")
    if life_event is not None:
        all_of.append(f"e_{life_event}")
    any_of = ("s_lv", f"s_{municipality}") if municipality is not None else ()
    if not all_of and not any_of:
        return None
    return FacetFilter(tuple(all_of), any_of)


def facet_filter(
    *,
    audience: str | None = None,
    level: int | None = None,
    institution: str | None = None,
    municipality: str | None = None,
    life_event: str | None = None,
) -> str | None:
    """Return an FTS5 expression requiring the given filter values, or None without filters."""
    terms = facet_terms(
        audience=audience, level=level, institution=institution, municipality=municipality, life_event=life_event
    )
    return None if terms is None else terms.fts5()
