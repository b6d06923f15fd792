"""What of a service document goes into the search index, and with what weight."""

from __future__ import annotations

from typing import Any

from registry.search.text import fold

# Column weights for bm25: a word in the title counts most, then keywords, then summary and description.
TITLE_WEIGHT, KEYWORDS_WEIGHT, BODY_WEIGHT = 10.0, 3.0, 1.0


def _all_languages(text: dict[str, str] | None) -> str:
    return " ".join((text or {}).values())


def search_fields(service: dict[str, Any]) -> dict[str, str]:
    """Return folded title, keywords and body text (all languages) for the index."""
    keywords = " ".join(" ".join(words) for words in service.get("keywords", {}).values())
    body = " ".join(_all_languages(service.get(key)) for key in ("summary", "description"))
    return {
        "title": fold(_all_languages(service.get("title"))),
        "keywords": fold(keywords),
        "body": fold(body),
    }
