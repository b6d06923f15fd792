"""GET /services/<id>/forms/<form>: the definition the portal builds its form from, and the answers' schema."""

from __future__ import annotations

import pytest
import requests
from jsonschema import Draft202012Validator

from forms.loader import load_definition
from tests.fixtures.registry_server import RegistryProcess

pytestmark = pytest.mark.integration


def test_newest_form_has_definition_and_schema(api: str) -> None:
    response = requests.get(f"{api}/services/dzivesvietas-deklaresana/forms/application", timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["service"] == "dzivesvietas-deklaresana" and body["form"] == "application"
    definition = load_definition(body["definition"])
    assert definition.version == body["version"] >= 1
    Draft202012Validator.check_schema(body["answers_schema"])
    assert response.headers["ETag"]


def test_a_version_can_be_asked_for(api: str) -> None:
    newest = requests.get(f"{api}/services/dzivesvietas-deklaresana/forms/application", timeout=10).json()
    pinned = requests.get(
        f"{api}/services/dzivesvietas-deklaresana/forms/application/versions/{newest['version']}", timeout=10
    )
    assert pinned.status_code == 200 and pinned.json() == newest


@pytest.mark.parametrize(
    "path",
    [
        "/services/dzivesvietas-deklaresana/forms/decision",
        "/services/dzivesvietas-deklaresana/forms/application/versions/999",
        "/services/dzivesvietas-deklaresana/forms/application/versions/0",
        "/services/no-such-service/forms/application",
        "/services/mirsanas-fakta-registracija-valmiera/forms/application",
    ],
)
def test_missing_forms_are_404_problems(api: str, path: str) -> None:
    response = requests.get(f"{api}{path}", timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"


def test_forms_of_a_draft_service_are_hidden(writable_registry: RegistryProcess) -> None:
    token = writable_registry.token("pmlp")
    service = requests.get(f"{writable_registry.url}/api/v1/services/dzivesvietas-deklaresana", timeout=10).json()
    url = f"{writable_registry.url}/api/v1/services/dzivesvietas-deklaresana"
    auth = {"Authorization": f"Bearer {token}"}
    assert requests.put(url, json={**service, "status": "draft"}, headers=auth, timeout=10).status_code == 200
    try:
        assert requests.get(f"{url}/forms/application", timeout=10).status_code == 404
        assert requests.get(f"{url}/forms/application", headers=auth, timeout=10).status_code == 200
    finally:
        requests.put(url, json={**service, "status": "published"}, headers=auth, timeout=10)
