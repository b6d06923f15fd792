"""Process versions of services: store a version once, read the newest or a given version."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.catalogue.processes import Process, load_process
from registry.models.forms import FormVersionConflict
from registry.models.tables import Process as StoredProcess
from registry.models.tables import Service


def save_process(session: Session, service: Service, document: dict[str, Any]) -> bool:
    """Store a process version; return False if that exact version is stored (versions never change)."""
    process = load_process(document)
    if process.service != service.id:
        raise ValueError(f"the process is for {process.service!r}, not {service.id!r}")
    existing = session.scalar(
        select(StoredProcess).where(StoredProcess.service_pk == service.pk, StoredProcess.version == process.version)
    )
    if existing is not None:
        if existing.definition != document:
            raise FormVersionConflict(f"{service.id} process version {process.version} is stored with other content")
        return False
    session.add(
        StoredProcess(service_pk=service.pk, version=process.version, definition=document, created_at=datetime.now(UTC))
    )
    return True


def get_process(session: Session, service: Service, version: int | None = None) -> Process | None:
    """Return a version of the service's process (the newest without `version`), or None if it has none."""
    stmt = select(StoredProcess).where(StoredProcess.service_pk == service.pk)
    if version is not None:
        stmt = stmt.where(StoredProcess.version == version)
    row = session.scalar(stmt.order_by(StoredProcess.version.desc()).limit(1))
    return None if row is None else _loaded(json.dumps(row.definition, sort_keys=True, ensure_ascii=False))


@lru_cache(maxsize=256)
def _loaded(canonical: str) -> Process:
    # Versions never change: each is checked and built once per process (keyed by content, so test registries in
    # one process never share a wrong entry). A queue page loads the process of every case on it.
    return load_process(json.loads(canonical))
