"""Drafts and applications of the signed-in person, through the registry; the form definitions they follow."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from flask import abort, current_app

from app.auth.session import get_current_user, identity_token
from app.registry_client.applications import ApplicationsClient
from app.registry_client.errors import RegistryNotFound
from forms.loader import load_definition
from forms.model import FormDefinition
from identity import Identity


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


@dataclass(frozen=True)
class Application:
    """A submitted application and its timeline."""

    id: str
    reference: str
    service: str
    form: str
    form_version: int
    status: str
    submitted_at: str
    answers: dict[str, Any]
    events: tuple[dict[str, Any], ...] = field(default=())

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Application:
        """Wrap a registry application."""
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
        )

    @property
    def can_be_withdrawn(self) -> bool:
        """Say whether the person may still withdraw it (not yet decided or withdrawn)."""
        return self.status in ("submitted", "in_progress", "more_info_requested")


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
