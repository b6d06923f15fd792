"""GET /services/<id>/forms/<form>: the definition the portal builds its form from, and the answers' schema."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from jsonschema import Draft202012Validator

from forms.loader import load_definition
from registry.catalogue.seed import SEED_DIR
from tests.fixtures.registry_server import RegistryProcess, start_registry

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


def test_the_service_detail_lists_its_forms_with_their_newest_version(api: str) -> None:
    newest = requests.get(f"{api}/services/dzivesvietas-deklaresana/forms/application", timeout=10).json()
    detail = requests.get(f"{api}/services/dzivesvietas-deklaresana", timeout=10).json()
    assert {"form": "application", "version": newest["version"]} in detail["forms"]
    # The steps' forms of its process are listed too (staff fill them in).
    assert {f["form"] for f in detail["forms"]} == {"application", "municipality-check", "pmlp-register"}
    assert requests.get(f"{api}/services/pases-izsniegsana", timeout=10).json()["forms"] == []  # applied for elsewhere


# Publishing forms changes the seed of a registry of its own, so the shared registries keep the seed's forms.
NEW_FORM_SERVICE = "pases-izsniegsana"  # published by pmlp, no form in the seed


@pytest.fixture(scope="module")
def own_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    yield from start_registry(tmp_path_factory.mktemp("forms-registry"))


def _publish_form(registry: RegistryProcess, seed_dir: Path, version: int) -> None:
    """Publish a version of an application form for NEW_FORM_SERVICE the way an operator does: through the seed."""
    form = {
        "service": NEW_FORM_SERVICE,
        "form": "application",
        "version": version,
        "title": {"lv": "Pases pieteikums", "en": "Passport application"},
        "pages": [
            {
                "id": "contact",
                "title": {"lv": "Saziņa", "en": "Contact"},
                "questions": [
                    {"id": "email", "type": "email", "label": {"lv": "E-pasts", "en": "Email"}, "required": True},
                    {"id": f"note_v{version}", "type": "text", "label": {"lv": "Piezīme", "en": "Note"}},
                ],
            }
        ],
    }
    (seed_dir / "forms" / f"{NEW_FORM_SERVICE}.application.yaml").write_text(
        yaml.safe_dump(form, allow_unicode=True), encoding="utf-8"
    )
    registry.cli("seed", "--from", str(seed_dir))


def _detail(registry: RegistryProcess, **headers: str) -> requests.Response:
    return requests.get(f"{registry.url}/api/v1/services/{NEW_FORM_SERVICE}", headers=headers, timeout=10)


def _without_forms(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "forms"}


def test_a_new_form_version_changes_the_detail_and_its_etag(own_registry: RegistryProcess, tmp_path: Path) -> None:
    seed_dir = tmp_path / "seed"
    shutil.copytree(SEED_DIR, seed_dir)
    jsonld = f"{own_registry.url}/api/v1/services/{NEW_FORM_SERVICE}.jsonld"
    before, jsonld_before = _detail(own_registry), requests.get(jsonld, timeout=10)
    assert before.json()["forms"] == []

    _publish_form(own_registry, seed_dir, 1)
    first = _detail(own_registry)
    assert first.json()["forms"] == [{"form": "application", "version": 1}]
    assert _without_forms(first.json()) == _without_forms(before.json())  # only the forms changed...
    assert first.headers["ETag"] != before.headers["ETag"]  # ...and a client's cached copy is not "not modified"
    assert _detail(own_registry, **{"If-None-Match": before.headers["ETag"]}).status_code == 200

    _publish_form(own_registry, seed_dir, 2)
    second = _detail(own_registry)
    assert second.json()["forms"] == [{"form": "application", "version": 2}]
    assert second.headers["ETag"] not in (before.headers["ETag"], first.headers["ETag"])
    # The CPSV-AP export describes the service, not the registry's forms.
    assert requests.get(jsonld, timeout=10).headers["ETag"] == jsonld_before.headers["ETag"]


def test_publishers_cannot_set_the_forms(own_registry: RegistryProcess) -> None:
    auth = {"Authorization": f"Bearer {own_registry.token('pmlp')}"}
    url = f"{own_registry.url}/api/v1/services/dzivesvietas-deklaresana"
    read = requests.get(url, timeout=10)
    forms = read.json()["forms"]
    assert forms

    # The detail as read can be written back (If-Match with its ETag); the forms in it are the registry's to say.
    unchanged = requests.put(url, json=read.json(), headers={**auth, "If-Match": read.headers["ETag"]}, timeout=10)
    assert unchanged.status_code == 200, unchanged.text
    assert unchanged.json()["forms"] == forms
    forged = [{"form": "application", "version": 99}, {"form": "decision", "version": 1}]
    changed = requests.put(url, json={**read.json(), "forms": forged}, headers=auth, timeout=10)
    assert changed.status_code == 200 and changed.json()["forms"] == forms
    after = requests.get(url, timeout=10)
    assert after.json()["forms"] == forms and after.headers["ETag"] == changed.headers["ETag"]
