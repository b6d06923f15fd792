"""Kinds of data request: store a version once, read the newest or a given version, and publish them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forms.json_schema import answers_schema
from registry.catalogue.data_request_kinds import Kind, answer_form_document, load_kind
from registry.models.forms import FormVersionConflict
from registry.models.tables import DataRequestKind

# Versions are counted from 1; a larger number than a 32-bit integer holds is no version of anything.
MAX_VERSION = 2**31 - 1


def loaded_kind(row: DataRequestKind) -> Kind:
    """Return a stored kind version, loaded; versions never change, so each is checked and built once per process."""
    return _load(json.dumps(row.definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False))


@lru_cache(maxsize=128)
def _load(canonical: str) -> Kind:
    # Keyed by the content, not the row: several registries (tests) in one process never share a wrong entry.
    return load_kind(json.loads(canonical))


def save_kind(session: Session, document: dict[str, Any]) -> bool:
    """Store a kind version (checked, answer form included); return False if that exact version is stored."""
    kind = load_kind(document)
    existing = session.get(DataRequestKind, (kind.id, kind.version))
    if existing is not None:
        if existing.definition != document:
            raise FormVersionConflict(
                f"data request kind {kind.id} version {kind.version} is stored with other content"
            )
        return False
    session.add(
        DataRequestKind(
            id=kind.id,
            version=kind.version,
            definition=document,
            answers_schema=answers_schema(kind.answer_form),
            created_at=datetime.now(UTC),
        )
    )
    return True


def get_kind(session: Session, kind_id: str, version: int | None = None) -> DataRequestKind | None:
    """Return the given version of a kind, or its newest version when `version` is None."""
    stmt = select(DataRequestKind).where(DataRequestKind.id == kind_id)
    if version is not None:
        if not 0 < version <= MAX_VERSION:
            return None  # no such version, and no number the database could be asked about
        stmt = stmt.where(DataRequestKind.version == version)
    return session.scalar(stmt.order_by(DataRequestKind.version.desc()).limit(1))


def newest_kinds(session: Session) -> list[DataRequestKind]:
    """Return the newest version of every kind, by id."""
    newest = (
        select(DataRequestKind.id, func.max(DataRequestKind.version).label("version"))
        .group_by(DataRequestKind.id)
        .subquery()
    )
    stmt = (
        select(DataRequestKind)
        .join(newest, (DataRequestKind.id == newest.c.id) & (DataRequestKind.version == newest.c.version))
        .order_by(DataRequestKind.id)
    )
    return list(session.scalars(stmt))


def kind_summary(row: DataRequestKind) -> dict[str, Any]:
    """Return what a list says about a kind: who answers it, who may ask it, about whom, and its version."""
    document = row.definition
    return {
        "id": row.id,
        "version": row.version,
        "title": document["title"],
        "description": document.get("description"),
        "answered_by": document["answered_by"],
        "asked_by": document.get("asked_by"),
        "about": document["about"],
    }


def kind_document(row: DataRequestKind) -> dict[str, Any]:
    """Return one version of a kind with its answer form (a complete form definition) and the answers' JSON Schema."""
    return kind_summary(row) | {
        "answer_form": answer_form_document(row.definition),
        "answers_schema": row.answers_schema,
    }
