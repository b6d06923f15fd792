"""Fold text for search and turn what a person typed into a safe full-text query.

Folding is done here, in Python, rather than by the database tokenizer, so the same rules hold for SQLite FTS5
and PostgreSQL full-text search: people type "deklaresana" for "deklarēšana" on either.
"""

from __future__ import annotations

import re
import unicodedata

# Letters that Unicode does not decompose into a base letter plus a mark.
_EXTRA_FOLDS = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe", "ı": "i"})
_TOKEN = re.compile(r"[0-9a-z]+")

# Latvian (and a few English) inflection endings, longest first. A query word loses one ending so that
# "pabalsti" finds "pabalsts" and "pases" finds "pase"; the stem is then matched as a prefix.
_ENDINGS = ("ajam", "iem", "am", "em", "im", "um", "as", "es", "is", "os", "us", "ai", "ei", "a", "e", "i", "u", "s")
_MIN_STEM = 4
MAX_QUERY_WORDS = 12
MAX_WORD_LENGTH = 40


def fold(text: str) -> str:
    """Lower-case `text` and strip diacritics: "Bērna Pabalsts" -> "berna pabalsts"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.translate(_EXTRA_FOLDS)


def words(text: str) -> list[str]:
    """Split folded `text` into the words the index knows (letters and digits only)."""
    return _TOKEN.findall(fold(text))


def stem(word: str) -> str:
    """Drop one inflection ending from a query word when a stem of at least four letters remains."""
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= _MIN_STEM:
            return word[: -len(ending)]
    return word


def query_words(query: str) -> list[str]:
    """Return the words of a query as the index matches them: folded, stemmed, each once, at most MAX_QUERY_WORDS.

    Every word is matched as a prefix of an indexed word, and every word must match. Folding leaves only [0-9a-z],
    so no query syntax of any database (quotes, NEAR, *, &, :, column filters) can come from the person's text.
    """
    unique: list[str] = []
    for word in words(query):
        stemmed = stem(word[:MAX_WORD_LENGTH])
        if stemmed not in unique:
            unique.append(stemmed)
    return unique[:MAX_QUERY_WORDS]


def match_expression(query: str) -> str | None:
    """Build an FTS5 MATCH expression: every word must match as a prefix; None when nothing is searchable."""
    unique = query_words(query)
    if not unique:
        return None
    return fts5_words(unique)


def fts5_words(words: list[str] | tuple[str, ...]) -> str:
    """Quote query words (already folded, so [0-9a-z] only) as FTS5 prefix phrases."""
    return " ".join(f'"{w}"*' for w in words)
