"""The live CPSV-AP 3.2 exports pass the SHACL shapes."""

from __future__ import annotations

import pytest
import requests

from registry.cpsv.shacl import shacl_violations

pytestmark = pytest.mark.integration


def test_service_jsonld_passes_shacl(api: str) -> None:
    response = requests.get(f"{api}/services/bezdarbnieka-pabalsts.jsonld", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/ld+json"
    document = response.json()
    assert shacl_violations(document) == []
    assert isinstance(document["@context"], dict)  # inline: consumers never fetch a remote context


def test_catalogue_jsonld_holds_every_published_service_and_passes_shacl(api: str) -> None:
    document = requests.get(f"{api}/catalogue.jsonld", timeout=30).json()
    total = requests.get(f"{api}/services", timeout=10).json()["total"]
    services = [node for node in document["@graph"] if "PublicService" in str(node.get("@type"))]
    assert len(services) == total
    assert shacl_violations(document) == []


def test_unknown_service_jsonld_is_404(api: str) -> None:
    assert requests.get(f"{api}/services/no-such-service.jsonld", timeout=10).status_code == 404
