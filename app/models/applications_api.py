"""Drafts and applications of the signed-in person, through the registry; the form definitions they follow."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, current_app

from app.auth.session import get_current_user, identity_token
from app.registry_client.applications import ApplicationsClient
from app.registry_client.errors import RegistryNotFound
from forms.loader import load_definition
from forms.model import FormDefinition
from identity import Identity

VERIFICATION_CODE_LENGTH = 12


def _client() -> ApplicationsClient:
    client: ApplicationsClient = current_app.extensions["applications_client"]
    return client


@dataclass(frozen=True)
class Draft:
    """An unfinished application, saved in the registry after every page."""

    id: str
    service: str
    form: str
    form_version: int
    answers: dict[str, Any]
    current_page: str | None
    updated_at: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Draft:
        """Wrap a registry draft."""
        return cls(
            id=data["id"],
            service=data["service"],
            form=data["form"],
            form_version=int(data["form_version"]),
            answers=data.get("answers") or {},
            current_page=data.get("current_page"),
            updated_at=data.get("updated_at"),
        )


RIGA = ZoneInfo("Europe/Riga")


def riga_day(timestamp: str | None) -> date | None:
    """Return the day (in Riga) of a registry timestamp like `2026-11-28T10:15:00Z`, or None."""
    if not timestamp:
        return None
    try:
        return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).astimezone(RIGA).date()
    except ValueError:
        return None


@dataclass(frozen=True)
class Decision:
    """The decision that decided an application: outcome, reasoning, who decided it and when."""

    outcome: str
    text: str | None
    institution: str | None
    decided_by: str
    at: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Decision:
        """Wrap the registry's `decision` of an application."""
        return cls(
            outcome=data["outcome"],
            text=data.get("text"),
            institution=data.get("institution"),
            decided_by=data.get("decided_by") or "",
            at=data["at"],
        )

    @property
    def is_approval(self) -> bool:
        """Say whether the application was approved (else it was refused)."""
        return self.outcome == "approve"

    @property
    def reasoning(self) -> tuple[str, ...]:
        """Return the reasoning as paragraphs (lines with text), to show without markup."""
        return tuple(line.strip() for line in (self.text or "").splitlines() if line.strip())


@dataclass(frozen=True)
class Application:
    """A submitted application, its timeline, what the institution asks, and once decided its decision."""

    id: str
    reference: str
    service: str
    form: str
    form_version: int
    status: str
    submitted_at: str
    answers: dict[str, Any]
    events: tuple[dict[str, Any], ...] = field(default=())
    result: str | None = None
    information_request: str | None = None  # the institution's question while more information is requested
    decided_at: str | None = None
    verification_code: str | None = None
    decision: Decision | None = None
    result_awaits_payment: bool = False  # approved; the result document is issued once the fee after it is paid

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Application:
        """Wrap a registry application."""
        asked = data.get("information_request")
        decision = data.get("decision")
        return cls(
            id=data["id"],
            reference=data["reference"],
            service=data["service"],
            form=data.get("form", "application"),
            form_version=int(data.get("form_version", 1)),
            status=data["status"],
            submitted_at=data["submitted_at"],
            answers=data.get("answers") or {},
            events=tuple(data.get("events") or data.get("timeline") or ()),
            result=data.get("result"),
            information_request=asked.get("text") if isinstance(asked, dict) else None,
            decided_at=data.get("decided_at"),
            verification_code=data.get("verification_code"),
            decision=Decision.from_json(decision) if isinstance(decision, dict) else None,
            result_awaits_payment=data.get("result_awaits_payment") is True,
        )

    @property
    def can_be_withdrawn(self) -> bool:
        """Say whether the person may still withdraw it (not yet decided or withdrawn)."""
        return self.status in ("awaiting_payment", "submitted", "in_progress", "more_info_requested")

    @property
    def awaits_information(self) -> bool:
        """Say whether the institution is waiting for the person to answer its question."""
        return self.status == "more_info_requested"

    @property
    def has_result(self) -> bool:
        """Say whether it is decided with a result document (a decision and the code to check it with)."""
        return self.status == "decided" and self.decision is not None and bool(self.verification_code)

    @property
    def decided_on(self) -> date | None:
        """Return the day it was decided (Riga time)."""
        return riga_day(self.decided_at or (self.decision.at if self.decision else None))


@dataclass(frozen=True)
class VerifiedResult:
    """The public facts of a genuine result document: nothing about the person who applied."""

    code: str
    reference: str
    service: str
    result: str | None
    decided_at: str | None
    institution: str | None

    @classmethod
    def from_json(cls, code: str, data: dict[str, Any]) -> VerifiedResult:
        """Wrap the registry's answer to a verification code."""
        return cls(
            code=code,
            reference=data["reference"],
            service=data["service"],
            result=data.get("result"),
            decided_at=data.get("decided_at"),
            institution=data.get("institution"),
        )

    @property
    def decided_on(self) -> date | None:
        """Return the day it was decided (Riga time)."""
        return riga_day(self.decided_at)


@lru_cache(maxsize=256)
def _definition(service_id: str, form: str, version: int) -> FormDefinition:
    # Form versions never change once published, so a parsed version can be kept for the life of the process.
    document = _client().get_form(service_id, form, version)
    return load_definition(document["definition"])


def form_definition(service_id: str, form: str = "application", version: int | None = None) -> FormDefinition:
    """Return a form definition: the given version, or the newest; abort with 404 if the service has none."""
    try:
        if version is None:
            version = int(_client().get_form(service_id, form)["version"])
        return _definition(service_id, form, version)
    except RegistryNotFound:
        abort(404)


def _prefilled(definition: FormDefinition, person: Identity) -> dict[str, Any]:
    """Return answers known from the signed identity, so nobody types their own name or code again (WCAG 3.3.7)."""
    known = {
        "person.name": person.name,
        "person.personal_code": person.sub,
        "company.registration_number": person.company,
        "company.name": person.company_name,
    }
    return {q.id: known[q.prefill] for q in definition.questions() if q.prefill and known.get(q.prefill)}


def start_or_resume(service_id: str) -> Draft:
    """Return the person's draft for this service, or start one (prefilled): an application is never started twice."""
    for data in _client().list_drafts(identity_token())["items"]:
        if data["service"] == service_id:
            # A list item has no answers, and which pages are shown depends on them: read the draft itself.
            return Draft.from_json(_client().get_draft(identity_token(), data["id"]))
    draft = Draft.from_json(_client().create_draft(identity_token(), service_id))
    person = get_current_user()
    answers = _prefilled(form_definition(draft.service, draft.form, draft.form_version), person) if person else {}
    if not answers:
        return draft
    return Draft.from_json(_client().save_draft(identity_token(), draft.id, answers, draft.current_page))


def get_draft(draft_id: str) -> Draft:
    """Return one of the person's drafts, or abort with 404 (someone else's drafts do not exist for them)."""
    try:
        return Draft.from_json(_client().get_draft(identity_token(), draft_id))
    except RegistryNotFound:
        abort(404)


def save_draft(draft: Draft, answers: dict[str, Any], current_page: str) -> Draft:
    """Save the answers so far and where the person is."""
    return Draft.from_json(_client().save_draft(identity_token(), draft.id, answers, current_page))


def drafts() -> tuple[Draft, ...]:
    """Return the person's drafts, newest first."""
    return tuple(Draft.from_json(d) for d in _client().list_drafts(identity_token())["items"])


def submit(draft: Draft, idempotency_key: str) -> Application:
    """Submit a draft exactly once: the same key always gives the same application."""
    return Application.from_json(_client().submit(identity_token(), draft_id=draft.id, idempotency_key=idempotency_key))


def sent_before(draft_id: str, idempotency_key: object) -> Application | None:
    """Return the application a completed submission of `draft_id` with `idempotency_key` created, or None.

    The registry answers a repeat of a completed submission with its stored answer, even though the draft is gone;
    a key that never completed finds no draft (404), and nothing is created.
    """
    if not isinstance(idempotency_key, str):
        return None
    try:
        sent = _client().submit(identity_token(), draft_id=draft_id, idempotency_key=idempotency_key)
    except RegistryNotFound:
        return None
    return Application.from_json(sent)


def applications() -> tuple[Application, ...]:
    """Return the person's applications, newest first."""
    return tuple(Application.from_json(a) for a in _client().list_applications(identity_token())["items"])


def get_application(application_id: str) -> Application:
    """Return one of the person's applications with its timeline, or abort with 404."""
    try:
        return Application.from_json(_client().get_application(identity_token(), application_id))
    except RegistryNotFound:
        abort(404)


def withdraw(application: Application) -> Application:
    """Withdraw an application that is not decided yet."""
    return Application.from_json(_client().withdraw(identity_token(), application.id))


def answer_information(application: Application, text: str, file_ids: list[str]) -> Application:
    """Send the person's answer to the institution's question, with the files they uploaded for it."""
    return Application.from_json(_client().answer_information(identity_token(), application.id, text, file_ids))


def printed_code(typed: str) -> str | None:
    """Return a verification code as printed (`XXXX-XXXX-XXXX`, upper case) from what was typed, or None.

    Spaces and dashes anywhere are ignored; what the letters mean is the registry's business.
    """
    characters = "".join(typed.split()).replace("-", "").upper()
    if len(characters) != VERIFICATION_CODE_LENGTH or not (characters.isascii() and characters.isalnum()):
        return None
    return "-".join(characters[i : i + 4] for i in range(0, VERIFICATION_CODE_LENGTH, 4))


def verify(code: str) -> VerifiedResult | None:
    """Return the public facts of the result document with this printed code, or None if there is none."""
    try:
        return VerifiedResult.from_json(code, _client().verify(code))
    except RegistryNotFound:
        return None
