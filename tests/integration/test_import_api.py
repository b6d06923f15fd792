"""POST /import/cpsv-ap: an institution imports CPSV-AP JSON-LD as drafts, all or nothing."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.fixtures.registry_server import RegistryProcess

pytestmark = pytest.mark.integration

SEMIC_EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "cpsv" / "example-rdf_public_service.jsonld"


def semic() -> dict[str, Any]:
    return json.loads(SEMIC_EXAMPLE.read_text(encoding="utf-8"))


def post(registry: RegistryProcess, body: Any, token: str | None) -> requests.Response:
    headers = {"Content-Type": "application/ld+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.post(f"{registry.url}/api/v1/import/cpsv-ap", data=json.dumps(body), headers=headers, timeout=30)


@pytest.fixture(scope="module")
def vid_token(writable_registry: RegistryProcess) -> str:
    return writable_registry.token("vid")


def test_semic_example_imports_as_a_draft_of_the_importing_institution(
    writable_registry: RegistryProcess, vid_token: str
) -> None:
    response = post(writable_registry, semic(), vid_token)
    assert response.status_code == 201, response.text
    body = response.json()
    assert [item["id"] for item in body["items"]] == ["tax-on-web"]
    url = f"{writable_registry.url}/api/v1/services/tax-on-web"
    assert requests.get(url, timeout=10).status_code == 404  # a draft is not public
    own = requests.get(url, headers={"Authorization": f"Bearer {vid_token}"}, timeout=10).json()
    assert own["status"] == "draft"
    assert own["competent_authority"] == "vid"
    assert own["title"]["en"] == "Tax-on-web"
    assert own["description"]["fr"].startswith("Service pour la déclaration")


def test_import_needs_a_publisher_token(writable_registry: RegistryProcess) -> None:
    assert post(writable_registry, semic(), None).status_code == 401
    assert post(writable_registry, semic(), "lvreg_wrong").status_code == 401


def test_remote_contexts_are_refused_and_never_fetched(writable_registry: RegistryProcess, vid_token: str) -> None:
    document = semic()
    document["@context"][0] = "http://127.0.0.1:9/evil-context.jsonld"
    response = post(writable_registry, document, vid_token)
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert any("remote" in error["detail"] for error in response.json()["errors"])


def test_nothing_is_half_imported(writable_registry: RegistryProcess, vid_token: str) -> None:
    document = semic()
    good = copy.deepcopy(next(n for n in document["@graph"] if n.get("@type") == "PublicService"))
    good["@id"] = "ex:publicService2"
    good["dct:identifier"] = "second-good-service"
    broken = copy.deepcopy(good)
    broken["@id"] = "ex:publicService3"
    broken["dct:identifier"] = "broken-service"
    del broken["dct:title"]
    document["@graph"] += [good, broken]
    response = post(writable_registry, document, vid_token)
    assert response.status_code == 422, response.text
    assert "nothing was changed" in response.json()["detail"]
    own = {"Authorization": f"Bearer {vid_token}"}
    for service_id in ("second-good-service", "broken-service"):
        url = f"{writable_registry.url}/api/v1/services/{service_id}"
        assert requests.get(url, headers=own, timeout=10).status_code == 404


def test_import_cannot_overwrite_another_institutions_service(
    writable_registry: RegistryProcess, vid_token: str
) -> None:
    document = semic()
    service = next(n for n in document["@graph"] if n.get("@type") == "PublicService")
    service["dct:identifier"] = "pases-izsniegsana"  # PMLP's service
    response = post(writable_registry, document, vid_token)
    assert response.status_code == 422
    assert any("another institution" in e["detail"] for e in response.json()["errors"])
    public = requests.get(f"{writable_registry.url}/api/v1/services/pases-izsniegsana", timeout=10).json()
    assert public["competent_authority"] == "pmlp" and public["status"] == "published"


@pytest.mark.parametrize(
    "body",
    [{}, [], [1, 2, 3], {"@context": 5}, {"@graph": "nonsense"}, {"@context": {"@vocab": 7}, "@type": 1}, "text"],
)
def test_malformed_json_ld_gets_a_problem_report(writable_registry: RegistryProcess, vid_token: str, body: Any) -> None:
    response = post(writable_registry, body, vid_token)
    assert response.status_code == 422, response.text
    assert response.json()["errors"]


def test_not_json_at_all(writable_registry: RegistryProcess, vid_token: str) -> None:
    response = requests.post(
        f"{writable_registry.url}/api/v1/import/cpsv-ap",
        data="<rdf/>",
        headers={"Authorization": f"Bearer {vid_token}", "Content-Type": "application/rdf+xml"},
        timeout=10,
    )
    assert response.status_code == 415
