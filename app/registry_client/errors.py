"""The one error type of the registry client, its not-found subclass, and the mapping from HTTP answers to them."""

from __future__ import annotations

import json
import re

# Problem details come from another system and end up in logs and pages: keep them short and on one line.
_MAX_DETAIL = 300
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


class RegistryError(Exception):
    """The registry gave no usable answer: unreachable, too slow, failing, or answering something unexpected."""

    def __init__(self, detail: str, *, status: int | None = None) -> None:
        """Keep the HTTP status (None when there was no usable HTTP answer) and a one-line detail."""
        super().__init__(detail if status is None else f"registry answered {status}: {detail}")
        self.status = status
        self.detail = detail


class RegistryNotFound(RegistryError):
    """The registry has no such resource (404) or withdrew it (410); views turn this into abort(404)."""


def clean_detail(text: str) -> str:
    """Return `text` on one line, without control characters, cut to a length fit for logs and pages."""
    text = _CONTROL.sub(" ", text).strip()
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


def error_for_status(status: int, content_type: str, body: bytes) -> RegistryError:
    """Return the error for a non-200 answer, with the problem+json `detail` as its message when there is one."""
    detail = _problem_detail(content_type, body) or f"unexpected HTTP status {status}"
    if status in (404, 410):
        return RegistryNotFound(detail, status=status)
    return RegistryError(detail, status=status)


def _problem_detail(content_type: str, body: bytes) -> str | None:
    """Return `detail` (or else `title`) of an RFC 9457 problem document, or None if `body` is not one."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in ("application/problem+json", "application/json"):
        return None
    try:
        problem = json.loads(body)
    except ValueError:
        return None
    if not isinstance(problem, dict):
        return None
    for key in ("detail", "title"):
        value = problem.get(key)
        if isinstance(value, str) and value.strip():
            return clean_detail(value)
    return None
