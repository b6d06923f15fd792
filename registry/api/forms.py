"""Service forms: the definition (data the portal builds its form from) and the JSON Schema of the answers."""

from __future__ import annotations

from flask import Response

from registry.api import api
from registry.api.catalogue import visible_service_row
from registry.api.problems import ApiProblem
from registry.api.responses import json_response
from registry.db import db_session
from registry.models.forms import form_document, get_form


def _form(service_id: str, form: str, version: int | None) -> Response:
    service, public = visible_service_row(service_id)
    row = get_form(db_session(), service, form, version)
    if row is None:
        which = f"version {version} of " if version is not None else ""
        raise ApiProblem(404, f"The service '{service_id}' has no {which}form '{form}'.")
    return json_response(form_document(row, service_id), public=public)


@api.get("/services/<slug:service_id>/forms/<slug:form>")
def show_form(service_id: str, form: str) -> Response:
    """Return the newest version of a service's form."""
    return _form(service_id, form, None)


@api.get("/services/<slug:service_id>/forms/<slug:form>/versions/<int:version>")
def show_form_version(service_id: str, form: str, version: int) -> Response:
    """Return one version of a service's form (drafts keep the version they were started with)."""
    return _form(service_id, form, version)
