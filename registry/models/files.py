"""Uploaded files: what a file really is (by its content), a safe name for it, and who may read it.

A file's type is never taken from its name or from what the browser said: libmagic reads the bytes, and the name's
extension must agree with what they are (a program renamed to .pdf is refused). Signed documents (.edoc, .asice)
are ASiC-E containers: a ZIP whose first entry `mimetype` says so.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Mapping
from typing import Any, Final

import magic
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from forms.model import FormDefinition
from registry.models.applications import new_id, timestamp, utc_now
from registry.models.tables import StoredFile

ASIC_E: Final = "application/vnd.etsi.asic-e+zip"
# The extensions a file may have, and the type its content must be for each.
TYPES_BY_EXTENSION: Final = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "edoc": ASIC_E,
    "asice": ASIC_E,
}
MAX_NAME_LENGTH: Final = 120
# libmagic needs the start of a file only; reading all of a 20 MB upload would just cost time.
SNIFF_BYTES: Final = 64 * 1024
# Characters a file name never keeps: path separators, controls, and what Windows or a shell treat specially.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*;]')
# Nor invisible ones: other controls (U+0085), format characters such as the bidirectional overrides (U+202E makes
# "rekins\u202Efdp.exe" look like "rekinsexe.pdf") and zero-width marks, and line or paragraph separators.
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp"})
_SPACES = re.compile(r"\s+")


def extension(name: str) -> str:
    """Return the lower-case extension of a file name, or "" (the same rule as forms.answers.file_extension)."""
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem and ext.isascii() and ext.isalnum() else ""


def safe_name(raw: str) -> str | None:
    """Return the name a file is stored and offered under, or None if nothing usable is left of `raw`.

    The last path segment only (a browser may send C:\\fakepath\\...), NFC-normalised, without control or special
    characters, without leading dots (no hidden files), at most MAX_NAME_LENGTH characters with the extension kept.
    """
    last = re.split(r"[/\\]", raw)[-1]
    visible = "".join(c for c in unicodedata.normalize("NFC", last) if unicodedata.category(c) not in _INVISIBLE)
    name = _SPACES.sub(" ", _UNSAFE.sub("", visible)).strip().lstrip(".").strip()
    ext = extension(name)
    if not name or not ext:
        return None
    if len(name) > MAX_NAME_LENGTH:
        name = name[: MAX_NAME_LENGTH - len(ext) - 1].rstrip() + "." + ext
    return name


def _is_asic_e(content: bytes) -> bool:
    """Return True for an ASiC-E container: a ZIP whose first entry is `mimetype`, stored, naming ASiC-E."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            first = archive.infolist()[0] if archive.infolist() else None
            if first is None or first.filename != "mimetype" or first.file_size > 100:
                return False
            return archive.read(first).strip() == ASIC_E.encode()
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError):
        return False


def content_type_of(content: bytes, name: str) -> str | None:
    """Return the type of `content` if it is what the extension of `name` promises, else None."""
    expected = TYPES_BY_EXTENSION.get(extension(name))
    if expected is None or not content:
        return None
    found = magic.from_buffer(content[:SNIFF_BYTES], mime=True)
    if expected == ASIC_E:
        return ASIC_E if found in ("application/zip", ASIC_E) and _is_asic_e(content) else None
    return expected if found == expected else None


def store_file(session: Session, principal: str, name: str, content: bytes, content_type: str) -> StoredFile:
    """Keep an upload of the principal under a new random id."""
    stored = StoredFile(
        id=new_id(),
        principal=principal,
        name=name,
        size=len(content),
        content_type=content_type,
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        application_id=None,
        created_at=utc_now(),
    )
    session.add(stored)
    return stored


def get_file(session: Session, principal: str, file_id: str) -> StoredFile | None:
    """Return the principal's file, or None (somebody else's file is not found either)."""
    return session.scalar(select(StoredFile).where(StoredFile.id == file_id, StoredFile.principal == principal))


def file_document(stored: StoredFile) -> dict[str, Any]:
    """The API representation of a stored file (without its bytes)."""
    return {
        "id": stored.id,
        "name": stored.name,
        "size": stored.size,
        "content_type": stored.content_type,
        "sha256": stored.sha256,
        "created_at": timestamp(stored.created_at),
        "application_id": stored.application_id,
    }


def file_answers(definition: FormDefinition, answers: Mapping[str, Any]) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Yield (path, answer) for every answer to a file question, inside groups too: `("documents", 0, "scan")`."""
    for question in definition.questions():
        value = answers.get(question.id)
        if question.type == "file" and value is not None:
            yield (question.id,), value
        elif question.type == "group" and isinstance(value, list):
            for index, item in enumerate(value):
                for sub in question.questions:
                    if sub.type == "file" and isinstance(item, Mapping) and item.get(sub.id) is not None:
                        yield (question.id, index, sub.id), item[sub.id]


def resolve_files(
    session: Session, principal: str, definition: FormDefinition, answers: dict[str, Any]
) -> tuple[dict[str, Any], list[tuple[tuple[Any, ...], str]], set[str]]:
    """Check that every file answer names a file of the principal's that no application has taken yet.

    Return the answers with each file's name, size and type as stored (not as the request said them), the
    problems as (path, message key), and the ids of the files to attach to the application.
    """
    problems: list[tuple[tuple[Any, ...], str]] = []
    ids: set[str] = set()
    for path, value in file_answers(definition, answers):
        file_id = value.get("file_id") if isinstance(value, Mapping) else None
        stored = get_file(session, principal, file_id) if isinstance(file_id, str) and len(file_id) == 32 else None
        if stored is None or stored.application_id is not None or file_id in ids:
            problems.append((path, "file.missing"))
            continue
        ids.add(stored.id)
        facts = {"file_id": stored.id, "name": stored.name, "size": stored.size, "content_type": stored.content_type}
        if len(path) == 1:
            answers[path[0]] = facts
        else:
            answers[path[0]][path[1]][path[2]] = facts
    return answers, problems, ids


class FilesTaken(Exception):
    """Some of the files were taken by another application at the same moment."""


def attach_files(session: Session, principal: str, file_ids: set[str], application_id: str) -> None:
    """Make the files part of a submitted application (in the caller's transaction).

    Guarded: a file another application took meanwhile (two submissions at once) is not taken again; the caller
    then refuses the submission (`FilesTaken`), so no file ever belongs to two applications.
    """
    if file_ids:
        taken = session.execute(
            update(StoredFile)
            .where(StoredFile.id.in_(file_ids), StoredFile.principal == principal, StoredFile.application_id.is_(None))
            .values(application_id=application_id)
        ).rowcount  # type: ignore[attr-defined]
        if taken != len(file_ids):
            raise FilesTaken(sorted(file_ids))
