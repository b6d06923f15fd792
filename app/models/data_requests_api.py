"""Level 5 for the staff area: questions an institution asks another about a case's applicant, and the answers.

A question is of a kind (published by the registry: who answers it, who may ask it, its answer form) or a free-text
question. The answer to a kind is the answers to its answer form, read back as a summary (models/answer_display).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from flask import abort, current_app, g

from app.auth.session import identity_token
from app.models.answer_display import answer_summary
from app.registry_client.errors import RegistryNotFound
from app.registry_client.staff import StaffClient
from forms.loader import load_definition
from forms.model import FormDefinition

# A company's registration number: 11 digits. Anything else a case is about is a person's code.
_COMPANY_DIGITS = 11


def _client() -> StaffClient:
    client: StaffClient = current_app.extensions["staff_client"]
    return client


def _moment(value: object) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None


def _text(value: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class Kind:
    """A kind of data request: what it asks (in lv and en), who answers it, who may ask it, about whom."""

    id: str
    version: int
    title: dict[str, str]
    description: dict[str, str]
    answered_by: str
    asked_by: tuple[str, ...] | None  # None: every institution but the answering one
    about: tuple[str, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Kind:
        """Wrap a kind of the registry's list (or one kind)."""
        asked_by = data.get("asked_by")
        return cls(
            id=str(data["id"]),
            version=int(data.get("version") or 1),
            title=_text(data.get("title")),
            description=_text(data.get("description")),
            answered_by=str(data.get("answered_by") or ""),
            asked_by=tuple(str(i) for i in asked_by) if isinstance(asked_by, list) else None,
            about=tuple(str(a) for a in data.get("about") or ()),
        )

    def may_be_asked_by(self, institution: str | None) -> bool:
        """Say whether `institution` may send a request of this kind (never one it answers itself)."""
        if institution is None or institution == self.answered_by:
            return False
        return self.asked_by is None or institution in self.asked_by

    def is_about(self, principal: str) -> bool:
        """Say whether the kind can be asked about this applicant (a personal code, or a company's number)."""
        company = len(principal) == _COMPANY_DIGITS and principal.isascii() and principal.isdigit()
        return ("company" if company else "person") in self.about


@dataclass(frozen=True)
class DataRequest:
    """A question from one institution to another, and its answer once given."""

    id: str
    case: str | None  # only the asking institution sees which case it is about
    kind: str | None  # None: a free-text question
    form_version: int | None
    from_institution: str
    to_institution: str
    subject: str
    text: str
    asked_by: str
    asked_at: datetime | None
    status: str
    answer: str | None
    answers: dict[str, Any] | None
    answered_by: str | None
    answered_at: datetime | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DataRequest:
        """Wrap a registry data request."""
        version = data.get("form_version")
        answers = data.get("answers")
        return cls(
            id=data["id"],
            case=data.get("case"),
            kind=data.get("kind") or None,
            form_version=version if isinstance(version, int) and not isinstance(version, bool) else None,
            from_institution=data["from_institution"],
            to_institution=data["to_institution"],
            subject=data.get("subject", ""),
            text=data.get("text") or "",
            asked_by=data.get("asked_by", ""),
            asked_at=_moment(data.get("asked_at")),
            status=data.get("status", "open"),
            answer=data.get("answer"),
            answers=answers if isinstance(answers, dict) else None,
            answered_by=data.get("answered_by"),
            answered_at=_moment(data.get("answered_at")),
        )

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def title(self, kinds: Mapping[str, Kind], lang: str) -> str:
        """Return what the request asks: its kind's title, or the free-text question itself."""
        found = kinds.get(self.kind) if self.kind else None
        if found is not None:
            return found.title.get(lang) or found.title.get("lv") or found.id
        return self.kind or self.text


def kinds() -> dict[str, Kind]:
    """Return every kind of data request by id (once per request; the client caches across requests)."""
    if "data_request_kinds" not in g:
        items = _client().list_data_request_kinds().get("items") or []
        g.data_request_kinds = {k.id: k for k in (Kind.from_json(i) for i in items if isinstance(i, Mapping))}
    result: dict[str, Kind] = g.data_request_kinds
    return result


def kinds_to_ask(institution: str | None, principal: str) -> list[Kind]:
    """Return the kinds `institution` may ask another institution about this applicant, by title."""
    offered = [k for k in kinds().values() if k.may_be_asked_by(institution) and k.is_about(principal)]
    return sorted(offered, key=lambda k: k.title.get("lv", k.id))


def answer_form(request: DataRequest) -> FormDefinition | None:
    """Return the answer form of a kind's request in the version it was asked with; None for a free-text one."""
    if request.kind is None or request.form_version is None:
        return None
    document = _client().get_data_request_kind(request.kind, request.form_version)
    # Versions never change: a parsed one is kept, keyed by its content (tests run several registries).
    return _definition(json.dumps(document["answer_form"], sort_keys=True, ensure_ascii=False))


@lru_cache(maxsize=64)
def _definition(canonical: str) -> FormDefinition:
    return load_definition(json.loads(canonical))


def ask(case_id: str, *, kind: str | None, to_institution: str | None, text: str) -> DataRequest:
    """Ask another institution about the case's applicant: a kind (it says whom), or a free-text question."""
    return DataRequest.from_json(
        _client().ask_institution(identity_token(), case_id, kind=kind, to_institution=to_institution, text=text)
    )


def requests_of(*, outgoing: bool) -> tuple[DataRequest, ...]:
    """The requests the employee's institution was asked (or asked), newest first."""
    data = _client().list_data_requests(identity_token(), outgoing=outgoing)
    return tuple(DataRequest.from_json(item) for item in data["items"])


def get(request_id: str) -> DataRequest:
    """One request of the employee's institution, or abort with 404."""
    try:
        return DataRequest.from_json(_client().get_data_request(identity_token(), request_id))
    except RegistryNotFound:
        abort(404)


def answer(request: DataRequest, *, text: str | None = None, answers: Mapping[str, Any] | None = None) -> DataRequest:
    """Answer a request the employee's institution was asked: its answer form's answers, or a text."""
    return DataRequest.from_json(
        _client().answer_data_request(identity_token(), request.id, text=text, answers=answers)
    )


@dataclass(frozen=True)
class CaseRequest:
    """A request asked from a case, as the case page shows it: what it asked, and the answer as lines of text."""

    request: DataRequest
    title: str
    summary: list[dict[str, Any]]  # models/answer_display.answer_summary of the answers; empty for free text


def of_case(case_id: str, lang: str) -> tuple[CaseRequest, ...]:
    """Return the requests asked from a case, oldest first, each with its answer ready to read."""
    items = _client().case_data_requests(identity_token(), case_id).get("items") or []
    found = tuple(DataRequest.from_json(item) for item in items if isinstance(item, dict))
    by_id = kinds() if any(r.kind for r in found) else {}
    return tuple(
        CaseRequest(
            request=r,
            title=r.title(by_id, lang),
            summary=answer_summary_of(r, answer_form(r) if r.answers is not None else None, lang),
        )
        for r in found
    )


def answer_summary_of(request: DataRequest, definition: FormDefinition | None, lang: str) -> list[dict[str, Any]]:
    """Return the answers to a kind's request as the pages of its answer form with lines of text; [] without any."""
    if definition is None or request.answers is None:
        return []
    return answer_summary(definition, request.answers, lang)
