"""Apply online: a person's drafts and applications, and the public forms they are filled in from, one line each.

Everything under /me and /applications is personal: it is sent with the person's signed identity token in
`X-Portal-Identity`, never cached and never logged (neither the token nor the answers). Forms are public and, being
immutable versions, cached like the catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from .catalogue import API, slug
from .errors import RegistryError, RegistryNotFound
from .personal import PersonalClient, identity_headers, resource_id

MAX_FORM_VERSION: Final = 1_000_000
# A result document's code as printed (registry/models/results.py); the registry reads it in any case.
_VERIFICATION_CODE = re.compile(r"[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}")


def form_version(value: object) -> int:
    """Return `value` if it can be a form version number, else raise RegistryNotFound without asking the registry."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_FORM_VERSION:
        return value
    raise RegistryNotFound("form versions are whole numbers from 1")


class ApplicationsClient(PersonalClient):
    """A person's drafts and applications (uncached, with their identity token) and the public service forms."""

    # Forms (public, cached) ------------------------------------------------------------------------------------

    def get_form(self, service_id: str, form: str = "application", version: int | None = None) -> dict[str, Any]:
        """Return a form of a service, the newest version or the given one: version, definition, answers_schema."""
        path = f"{API}services/{slug(service_id, 'service')}/forms/{slug(form, 'form')}"
        return self.get_object(path if version is None else f"{path}/versions/{form_version(version)}")

    # Drafts ----------------------------------------------------------------------------------------------------

    def create_draft(self, identity_token: str, service_id: str, form: str = "application") -> dict[str, Any]:
        """Start a draft of the newest version of a service's form (RegistryForbidden for another audience)."""
        body = {"service": slug(service_id, "service"), "form": slug(form, "form")}
        return self._document("POST", "me/drafts", identity_token, body=body)

    def list_drafts(self, identity_token: str, *, page: int = 1, per_page: int = 20) -> dict[str, Any]:
        """Return the person's drafts, most recently saved first, without answers: items, total, page, per_page."""
        return self._document("GET", "me/drafts", identity_token, params={"page": page, "per_page": per_page})

    def get_draft(self, identity_token: str, draft_id: str) -> dict[str, Any]:
        """Return one of the person's drafts with its answers (RegistryNotFound for anybody else's)."""
        return self._document("GET", f"me/drafts/{resource_id(draft_id, 'draft')}", identity_token)

    def save_draft(
        self, identity_token: str, draft_id: str, answers: Mapping[str, Any], current_page: str | None = None
    ) -> dict[str, Any]:
        """Save a draft's answers (incomplete is fine) and its page; return the draft as stored (answers cleaned)."""
        body = {"answers": dict(answers), "current_page": current_page}
        return self._document("PUT", f"me/drafts/{resource_id(draft_id, 'draft')}", identity_token, body=body)

    def delete_draft(self, identity_token: str, draft_id: str) -> None:
        """Delete one of the person's drafts."""
        self._personal("DELETE", f"me/drafts/{resource_id(draft_id, 'draft')}", identity_token)

    # Applications ----------------------------------------------------------------------------------------------

    def submit(self, identity_token: str, *, draft_id: str, idempotency_key: str) -> dict[str, Any]:
        """Submit a draft; the same key (one per submit form shown) makes a retry or a second click harmless."""
        body = {"draft_id": resource_id(draft_id, "draft")}
        return self._document("POST", "applications", identity_token, body=body, idempotency_key=idempotency_key)

    def list_applications(self, identity_token: str, *, page: int = 1, per_page: int = 20) -> dict[str, Any]:
        """Return the person's applications, newest first, with their status: items, total, page, per_page."""
        return self._document("GET", "me/applications", identity_token, params={"page": page, "per_page": per_page})

    def get_application(self, identity_token: str, application_id: str) -> dict[str, Any]:
        """Return one of the person's applications with its answers and timeline."""
        return self._document("GET", f"me/applications/{resource_id(application_id, 'application')}", identity_token)

    def withdraw(self, identity_token: str, application_id: str) -> dict[str, Any]:
        """Withdraw an undecided application (RegistryConflict once decided or withdrawn); sent once, never retried."""
        path = f"me/applications/{resource_id(application_id, 'application')}/withdraw"
        return self._document("POST", path, identity_token)

    def answer_information(
        self, identity_token: str, application_id: str, text: str, file_ids: list[str]
    ) -> dict[str, Any]:
        """Answer the institution's request for more information (RegistryConflict when nothing is asked); sent once."""
        path = f"me/applications/{resource_id(application_id, 'application')}/information"
        body = {"text": text, "files": [resource_id(file_id, "file") for file_id in file_ids]}
        return self._document("POST", path, identity_token, body=body)

    # Result documents (public, never cached: a code works like a password) -------------------------------------

    def verify(self, code: str) -> dict[str, Any]:
        """Return the public facts of the result document with this code (RegistryNotFound for none)."""
        if not isinstance(code, str) or not _VERIFICATION_CODE.fullmatch(code):
            raise RegistryNotFound("verification codes are 12 letters and digits in groups of four")
        _, data = self.send_json("GET", f"{API}verify/{code}")
        if not isinstance(data, dict):
            raise RegistryError(f"expected a JSON object from GET verify, got {type(data).__name__}")
        return data

    # Files -----------------------------------------------------------------------------------------------------

    def upload_file(self, identity_token: str, name: str, content: bytes) -> dict[str, Any]:
        """Store an upload (RegistryValidationError with `file.type`, `file.empty`...; 413 for a file too large)."""
        headers = identity_headers(identity_token)
        _, data = self.send_bytes(API + "me/files", content, params={"name": name}, headers=headers)
        if not isinstance(data, dict):
            raise RegistryError(f"expected a JSON object from POST me/files, got {type(data).__name__}")
        return data

    def download_file(self, identity_token: str, file_id: str) -> tuple[bytes, Mapping[str, str]]:
        """Return one of the person's files and the registry's headers (type, disposition)."""
        path = f"{API}me/files/{resource_id(file_id, 'file')}"
        return self.get_bytes(path, headers=identity_headers(identity_token))

    def delete_file(self, identity_token: str, file_id: str) -> None:
        """Delete an upload that no submitted application has taken."""
        self._personal("DELETE", f"me/files/{resource_id(file_id, 'file')}", identity_token)
