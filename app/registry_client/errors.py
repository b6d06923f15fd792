"""The one error type of the registry client, its subclasses per answer, and the mapping from HTTP answers to them."""

from __future__ import annotations

import json
import re

# Problem details come from another system and end up in logs and pages: keep them short and on one line.
_MAX_DETAIL = 300
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# A 422 lists one problem per pointer; a form has far fewer answers than this, so more is a broken answer.
_MAX_ERRORS = 500


class RegistryError(Exception):
    """The registry gave no usable answer: unreachable, too slow, failing, or answering something unexpected."""

    def __init__(self, detail: str, *, status: int | None = None, errors: list[dict[str, str]] | None = None) -> None:
        """Keep the HTTP status (None when there was no usable HTTP answer), a one-line detail, and the problem's
        `errors` (message keys such as `file.scan_unavailable` on a 503)."""
        super().__init__(detail if status is None else f"registry answered {status}: {detail}")
        self.status = status
        self.detail = detail
        self.errors: list[dict[str, str]] = errors or []


class RegistryNotFound(RegistryError):
    """The registry has no such resource (404) or withdrew it (410); views turn this into abort(404)."""


class RegistryUnauthorized(RegistryError):
    """The registry refused the forwarded identity (401): missing, tampered with, expired or malformed."""


class RegistryForbidden(RegistryError):
    """The identity may not do this (403), e.g. a service that is not offered to its audience."""


class RegistryConflict(RegistryError):
    """The request conflicts with the resource's state (409): an application that can no longer be withdrawn, or
    a submission with the same Idempotency-Key that is still being processed."""


class RegistryValidationError(RegistryError):
    """The registry refused the body (422); `errors` lists each problem as a JSON Pointer and a message key."""

    def __init__(self, detail: str, *, status: int | None = 422, errors: list[dict[str, str]] | None = None) -> None:
        """Keep the problems, e.g. [{"pointer": "#/answers/notification_email", "detail": "required"}]."""
        super().__init__(detail, status=status, errors=errors)


_ERRORS: dict[int, type[RegistryError]] = {401: RegistryUnauthorized, 403: RegistryForbidden, 409: RegistryConflict}


def clean_detail(text: str) -> str:
    """Return `text` on one line, without control characters, cut to a length fit for logs and pages."""
    text = _CONTROL.sub(" ", text).strip()
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


def error_for_status(status: int, content_type: str, body: bytes) -> RegistryError:
    """Return the error for an unsuccessful answer, with the problem+json `detail` as its message when there is one."""
    problem = _problem(content_type, body)
    detail = _problem_detail(problem) or f"unexpected HTTP status {status}"
    if status in (404, 410):
        return RegistryNotFound(detail, status=status)
    if status == 422:
        return RegistryValidationError(detail, status=status, errors=_problem_errors(problem))
    kind = _ERRORS.get(status, RegistryError)
    return kind(detail, status=status, errors=_problem_errors(problem))


def _problem(content_type: str, body: bytes) -> dict[str, object] | None:
    """Return the RFC 9457 problem document in `body`, or None if it is not one."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in ("application/problem+json", "application/json"):
        return None
    try:
        problem = json.loads(body)
    except ValueError:
        return None
    return problem if isinstance(problem, dict) else None


def _problem_errors(problem: dict[str, object] | None) -> list[dict[str, str]]:
    """Return the problem's `errors` as {"pointer", "detail"} pairs of clean strings; anything else is left out."""
    found = problem.get("errors") if problem is not None else None
    if not isinstance(found, list):
        return []
    return [
        {"pointer": clean_detail(item["pointer"]), "detail": clean_detail(item["detail"])}
        for item in found[:_MAX_ERRORS]
        if isinstance(item, dict) and isinstance(item.get("pointer"), str) and isinstance(item.get("detail"), str)
    ]


def _problem_detail(problem: dict[str, object] | None) -> str | None:
    """Return `detail` (or else `title`) of a problem document, or None if there is neither."""
    if problem is None:
        return None
    for key in ("detail", "title"):
        value = problem.get(key)
        if isinstance(value, str) and value.strip():
            return clean_detail(value)
    return None
