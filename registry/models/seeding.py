"""Load the seed catalogue into the database; loading twice leaves the same state."""

from __future__ import annotations

from sqlalchemy.orm import Session

from registry.catalogue.seed import SeedData
from registry.models.data_request_kinds import save_kind
from registry.models.forms import save_form
from registry.models.processes import save_process
from registry.models.reference import save_institution, save_life_event, save_municipality
from registry.models.services import save_service


def load_seed(session: Session, data: SeedData) -> None:
    """Insert or replace every seed document (reference lists first, so services can refer to them; forms last)."""
    for municipality in data.municipalities:
        save_municipality(session, municipality)
    session.flush()
    for institution in data.institutions:
        save_institution(session, institution)
    for position, event in enumerate(data.life_events):
        save_life_event(session, event, position)
    session.flush()
    rows = {service["id"]: save_service(session, service) for service in data.services}
    session.flush()
    for form in data.forms:
        save_form(session, rows[form["service"]], form)
    for process in data.processes:
        save_process(session, rows[process["service"]], process)
    for kind in data.data_request_kinds:
        save_kind(session, kind)
