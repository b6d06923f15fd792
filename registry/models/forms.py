"""Form definitions of services: store a version once, read the newest or a given version."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forms.json_schema import answers_schema
from forms.loader import load_definition
from forms.model import FormDefinition as LoadedForm
from registry.models.tables import FormDefinition, Service

# Versions are counted from 1; a larger number than a 32-bit integer holds is no version of anything.
MAX_VERSION = 2**31 - 1


def loaded(row: FormDefinition) -> LoadedForm:
    """Return a stored form version, loaded; versions never change, so each is checked and built once per process.

    Loading the 73-question income tax return takes about 65 ms (the definition is checked against its schema);
    every draft save and submission needs it.
    """
    return _load(json.dumps(row.definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False))


@lru_cache(maxsize=128)
def _load(canonical: str) -> LoadedForm:
    # Keyed by the content, not the row: several registries (tests) in one process never share a wrong entry.
    return load_definition(json.loads(canonical))


class FormVersionConflict(Exception):
    """A stored form version differs from the one offered: versions never change, so bump the version."""


def save_form(session: Session, service: Service, document: dict[str, Any]) -> bool:
    """Store a definition version (checked by the forms package); return False if that exact version exists."""
    definition = load_definition(document)
    if definition.service != service.id:
        raise ValueError(f"the definition is for {definition.service!r}, not {service.id!r}")
    existing = session.scalar(
        select(FormDefinition).where(
            FormDefinition.service_pk == service.pk,
            FormDefinition.form == definition.form,
            FormDefinition.version == definition.version,
        )
    )
    if existing is not None:
        if existing.definition != document:
            raise FormVersionConflict(
                f"{service.id}/{definition.form} version {definition.version} is already stored with other content"
            )
        return False
    session.add(
        FormDefinition(
            service_pk=service.pk,
            form=definition.form,
            version=definition.version,
            definition=document,
            answers_schema=answers_schema(definition),
            created_at=datetime.now(UTC),
        )
    )
    return True


def get_form(session: Session, service: Service, form: str, version: int | None = None) -> FormDefinition | None:
    """Return the given version of a service's form, or its newest version when `version` is None."""
    stmt = select(FormDefinition).where(FormDefinition.service_pk == service.pk, FormDefinition.form == form)
    if version is not None:
        if not 0 < version <= MAX_VERSION:
            return None  # no such version, and no number the database could be asked about
        stmt = stmt.where(FormDefinition.version == version)
    return session.scalar(stmt.order_by(FormDefinition.version.desc()).limit(1))


def newest_form_versions(session: Session, service: Service) -> list[dict[str, Any]]:
    """Return each form the service has with its newest version, by form name: `[{"form": ..., "version": ...}]`."""
    stmt = (
        select(FormDefinition.form, func.max(FormDefinition.version))
        .where(FormDefinition.service_pk == service.pk)
        .group_by(FormDefinition.form)
        .order_by(FormDefinition.form)
    )
    return [{"form": form, "version": version} for form, version in session.execute(stmt)]


def form_document(row: FormDefinition, service_id: str) -> dict[str, Any]:
    """Return the API representation of a stored form version."""
    return {
        "service": service_id,
        "form": row.form,
        "version": row.version,
        "definition": row.definition,
        "answers_schema": row.answers_schema,
    }
