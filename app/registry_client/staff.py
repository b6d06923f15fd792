"""The staff API: an institution's employee lists, opens, takes and decides cases (docs/processing.md), one line each.

Everything here is personal: it goes with the employee's signed identity token in `X-Portal-Identity`, is never
cached (a case holds an applicant's answers) and never logged. The registry decides what the employee may see and
do (their institution and roles travel in the token); this module only refuses, before any request, ids and filter
values that cannot be right, so they never reach a URL or a query string.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .applications import form_version
from .catalogue import API, slug
from .personal import PersonalClient, identity_headers, resource_id

STATUSES: Final = ("submitted", "in_progress", "more_info_requested", "decided", "withdrawn")
OUTCOMES: Final = ("approve", "refuse", "request_info", "return")
SCOPES: Final = ("queue", "involved")
MAX_PER_PAGE: Final = 100


def _choice(value: str | None, allowed: tuple[str, ...], name: str) -> str | None:
    if value is None or value in allowed:
        return value
    raise ValueError(f"{name} must be one of {', '.join(allowed)}")


class StaffClient(PersonalClient):
    """An employee's cases: the work queue, one case, taking and releasing it, deciding its step, its files."""

    def list_cases(
        self,
        identity_token: str,
        *,
        service: str | None = None,
        status: str | None = None,
        overdue: bool = False,
        assigned_to_me: bool = False,
        scope: str = "queue",
        page: int = 1,
        per_page: int = 20,
    ) -> dict[str, Any]:
        """Return one page of the employee's cases: items, total, page, per_page and counts."""
        if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"page starts at 1 and per_page is 1 to {MAX_PER_PAGE}")
        params: dict[str, str | int | None] = {
            "service": slug(service, "service") if service is not None else None,
            "status": _choice(status, STATUSES, "status"),
            "overdue": "true" if overdue else None,
            "assigned": "me" if assigned_to_me else None,
            "scope": _choice(scope, SCOPES, "scope"),
            "page": page,
            "per_page": per_page,
        }
        return self._document("GET", "staff/cases", identity_token, params=params)

    def get_case(self, identity_token: str, case_id: str) -> dict[str, Any]:
        """Return one case with its answers, process, current step and timeline (RegistryNotFound if not theirs)."""
        return self._document("GET", _case(case_id), identity_token)

    def claim(self, identity_token: str, case_id: str) -> dict[str, Any]:
        """Take a case to work on it (RegistryConflict if another employee has it)."""
        return self._document("POST", f"{_case(case_id)}/claim", identity_token)

    def colleagues(self, identity_token: str) -> list[dict[str, str]]:
        """Return the employees of the institution known from its cases (and the employee): sub and name."""
        items = self._document("GET", "staff/colleagues", identity_token).get("items")
        return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []

    def assign(self, identity_token: str, case_id: str, to_sub: str) -> dict[str, Any]:
        """Give a case to a colleague of the same institution (RegistryValidationError for anyone else)."""
        return self._document("POST", f"{_case(case_id)}/assign", identity_token, body={"to": to_sub})

    def release(self, identity_token: str, case_id: str) -> dict[str, Any]:
        """Give a taken case back to the queue."""
        return self._document("POST", f"{_case(case_id)}/release", identity_token)

    def decide(
        self,
        identity_token: str,
        case_id: str,
        *,
        step: str,
        outcome: str,
        answers: Mapping[str, Any],
        text: str,
        idempotency_key: str,
    ) -> dict[str, Any]:
        """Decide the case's current step; the same key (one per decision form shown) makes a repeat harmless."""
        body = {
            "step": slug(step, "step"),
            "outcome": _choice(outcome, OUTCOMES, "outcome"),
            "answers": dict(answers),
            "text": text,
        }
        path = f"{_case(case_id)}/decisions"
        return self._document("POST", path, identity_token, body=body, idempotency_key=idempotency_key)

    def ask_institution(
        self,
        identity_token: str,
        case_id: str,
        *,
        kind: str | None = None,
        to_institution: str | None = None,
        text: str,
    ) -> dict[str, Any]:
        """Ask another institution about the case's applicant (level 5): a kind of request, or (without one) a
        free-text question to `to_institution`; sent once."""
        body: dict[str, Any] = {"text": text}
        if kind is not None:
            body["kind"] = slug(kind, "data request kind")
        if to_institution is not None:
            body["to_institution"] = slug(to_institution, "institution")
        return self._document("POST", f"{_case(case_id)}/data-requests", identity_token, body=body)

    def case_data_requests(self, identity_token: str, case_id: str) -> dict[str, Any]:
        """Return every request asked from the case, with its answer: items, total."""
        return self._document("GET", f"{_case(case_id)}/data-requests", identity_token)

    def list_data_request_kinds(self) -> dict[str, Any]:
        """Return the kinds of data request (public, cached): items, total."""
        return self.get_object(f"{API}data-request-kinds")

    def get_data_request_kind(self, kind: str, version: int | None = None) -> dict[str, Any]:
        """Return a kind of data request with its answer form: the newest version, or the given one (cached)."""
        path = f"{API}data-request-kinds/{slug(kind, 'data request kind')}"
        return self.get_object(path if version is None else f"{path}/versions/{form_version(version)}")

    def list_data_requests(
        self, identity_token: str, *, outgoing: bool = False, status: str | None = None, page: int = 1
    ) -> dict[str, Any]:
        """Return the requests the employee's institution was asked (or, `outgoing`, asked): items, total..."""
        params: dict[str, str | int | None] = {
            "direction": "outgoing" if outgoing else "incoming",
            "status": _choice(status, ("open", "answered"), "status"),
            "page": page,
            "per_page": MAX_PER_PAGE,
        }
        return self._document("GET", "staff/data-requests", identity_token, params=params)

    def get_data_request(self, identity_token: str, request_id: str) -> dict[str, Any]:
        """Return one request the employee's institution asked or was asked."""
        return self._document("GET", f"staff/data-requests/{resource_id(request_id, 'data request')}", identity_token)

    def answer_data_request(
        self, identity_token: str, request_id: str, *, text: str | None = None, answers: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Answer a request the employee's institution was asked: a kind's with `answers` to its answer form, a
        free-text question with `text` (RegistryConflict if answered already)."""
        path = f"staff/data-requests/{resource_id(request_id, 'data request')}/answer"
        body = {"answers": dict(answers)} if answers is not None else {"text": text}
        return self._document("POST", path, identity_token, body=body)

    def download_file(self, identity_token: str, case_id: str, file_id: str) -> tuple[bytes, Mapping[str, str]]:
        """Return an attachment of the case and the registry's headers (type, disposition)."""
        path = f"{API}{_case(case_id)}/files/{resource_id(file_id, 'file')}"
        return self.get_bytes(path, headers=identity_headers(identity_token))


def _case(case_id: str) -> str:
    """Return the API path of a case; an id that cannot be one is not found, without asking the registry."""
    return f"staff/cases/{resource_id(case_id, 'case')}"
