"""Where to go after signing in: only a path on this site, never another site or a script."""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_NEXT_LENGTH = 2000


def safe_next(value: object, fallback: str) -> str:
    """Return `value` if it is a relative path on this site (`/lv/...`), else `fallback`.

    Refused: absolute URLs (`https://evil`, `javascript:`, `data:`), scheme-relative ones (`//evil`), backslashes
    (browsers read `/\\evil` as `//evil`) and control characters (browsers drop tabs and newlines, so `/\\t/evil` is
    `//evil` too).
    """
    if not isinstance(value, str) or not value.startswith("/") or len(value) > MAX_NEXT_LENGTH:
        return fallback
    if value.startswith("//") or "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return fallback
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return fallback
    return value
