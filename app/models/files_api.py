"""Files a signed-in person attaches to answers: stored by the registry, read back only by their owner."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from flask import abort, current_app
from werkzeug.datastructures import FileStorage

from app.auth.session import identity_token
from app.registry_client.applications import ApplicationsClient
from app.registry_client.errors import RegistryError, RegistryNotFound, RegistryValidationError
from forms.model import FILE_KEYS


class UploadRefused(Exception):
    """The registry did not keep an upload; `key` is the message key to show next to the field."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _client() -> ApplicationsClient:
    client: ApplicationsClient = current_app.extensions["applications_client"]
    return client


def store_upload(upload: FileStorage) -> dict[str, object]:
    """Store an uploaded file in the registry and return the answer that points to it.

    The registry decides what the file is from its content and scans it for viruses; a refusal becomes
    UploadRefused with its message key (`file.type`, `file.empty`, `file.size`, `file.infected`), a scanner that
    gave no verdict `file.scan_unavailable` (503: try again later), anything else `file.unreadable`.
    """
    upload.stream.seek(0)
    content = upload.stream.read()
    try:
        stored = _client().upload_file(identity_token(), upload.filename or "", content)
    except RegistryValidationError as error:
        keys = [e.get("detail", "") for e in error.errors]
        raise UploadRefused(keys[0] if keys and keys[0].startswith("file.") else "file.type") from error
    except RegistryError as error:
        if error.status == 503 and any(e.get("detail") == "file.scan_unavailable" for e in error.errors):
            raise UploadRefused("file.scan_unavailable") from error
        raise UploadRefused("file.size" if error.status == 413 else "file.unreadable") from error
    return {key: stored[key if key != "file_id" else "id"] for key in FILE_KEYS}


def download(file_id: str) -> tuple[bytes, Mapping[str, str]]:
    """Return one of the person's files with the registry's headers, or abort with 404."""
    try:
        return _client().download_file(identity_token(), file_id)
    except RegistryNotFound:
        abort(404)


def delete(file_id: str) -> None:
    """Delete an upload that is no longer an answer (a missing or attached file is left alone)."""
    with contextlib.suppress(RegistryError):  # RegistryNotFound included
        _client().delete_file(identity_token(), file_id)
