"""Reference lists: municipalities, institutions and life events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.models.tables import Institution, LifeEvent, Municipality
from registry.search.text import fold


def save_municipality(session: Session, document: dict[str, Any]) -> None:
    """Insert or replace a municipality."""
    session.merge(Municipality(id=document["id"], document=document))


def save_institution(session: Session, document: dict[str, Any]) -> None:
    """Insert or replace an institution."""
    session.merge(
        Institution(
            id=document["id"],
            kind=document["kind"],
            municipality_id=document.get("municipality"),
            sort_key=fold(document["name"].get("lv") or next(iter(document["name"].values()))),
            document=document,
        )
    )


def save_life_event(session: Session, document: dict[str, Any], position: int) -> None:
    """Insert or replace a life event at `position` in the list."""
    session.merge(LifeEvent(id=document["id"], kind=document["kind"], position=position, document=document))


def list_institutions(session: Session) -> list[dict[str, Any]]:
    """Return every institution, by Latvian name."""
    return list(session.scalars(select(Institution.document).order_by(Institution.sort_key)))


def get_institution(session: Session, institution_id: str) -> dict[str, Any] | None:
    """Return one institution, or None."""
    row = session.get(Institution, institution_id)
    return row.document if row else None


def list_municipalities(session: Session) -> list[dict[str, Any]]:
    """Return every municipality."""
    return list(session.scalars(select(Municipality.document).order_by(Municipality.id)))


def list_life_events(session: Session) -> list[dict[str, Any]]:
    """Return every life event in its curated order."""
    return list(session.scalars(select(LifeEvent.document).order_by(LifeEvent.position)))


_ID_COLUMNS = {"institutions": Institution.id, "municipalities": Municipality.id, "life_events": LifeEvent.id}


def ids_of(session: Session, kind: str) -> set[str]:
    """Return the ids of one kind of reference: institutions, municipalities or life_events."""
    return set(session.scalars(select(_ID_COLUMNS[kind])))


def known_ids(session: Session) -> dict[str, set[str]]:
    """Return the ids a service document may refer to, by kind."""
    return {kind: ids_of(session, kind) for kind in _ID_COLUMNS}
