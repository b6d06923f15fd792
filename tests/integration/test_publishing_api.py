"""PUT /services/<id>: only the competent institution may publish, and only valid documents."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import requests

from tests.fixtures.registry_server import RegistryProcess

pytestmark = pytest.mark.integration


def minimal(service_id: str, authority: str = "pmlp", **extra: Any) -> dict[str, Any]:
    return {
        "id": service_id,
        "status": "published",
        "level": 3,
        "audiences": ["residents"],
        "competent_authority": authority,
        "spatial": "LV",
        "title": {"lv": "Izmēģinājuma pakalpojums", "en": "Trial service"},
        "summary": {"lv": "Īss apraksts.", "en": "Short summary."},
        "description": {"lv": "Garāks apraksts.", "en": "Longer description."},
        **extra,
    }


def put(registry: RegistryProcess, service_id: str, body: Any, token: str | None, **headers: str) -> requests.Response:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.put(f"{registry.url}/api/v1/services/{service_id}", json=body, headers=headers, timeout=10)


@pytest.fixture(scope="module")
def pmlp_token(writable_registry: RegistryProcess) -> str:
    return writable_registry.token("pmlp")


@pytest.fixture(scope="module")
def vid_token(writable_registry: RegistryProcess) -> str:
    return writable_registry.token("vid")


def test_publisher_creates_then_replaces_a_service(writable_registry: RegistryProcess, pmlp_token: str) -> None:
    created = put(writable_registry, "izmeginajuma-pakalpojums", minimal("izmeginajuma-pakalpojums"), pmlp_token)
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == "/api/v1/services/izmeginajuma-pakalpojums"
    assert created.json()["updated_at"].endswith("Z")
    public = requests.get(f"{writable_registry.url}/api/v1/services/izmeginajuma-pakalpojums", timeout=10)
    assert public.status_code == 200
    found = requests.get(f"{writable_registry.url}/api/v1/services", params={"q": "izmeginajuma"}, timeout=10).json()
    assert [i["id"] for i in found["items"]] == ["izmeginajuma-pakalpojums"]

    changed = minimal(
        "izmeginajuma-pakalpojums", level=4, title={"lv": "Zilonis un pelikāns", "en": "Elephant and pelican"}
    )
    replaced = put(writable_registry, "izmeginajuma-pakalpojums", changed, pmlp_token)
    assert replaced.status_code == 200
    found = requests.get(f"{writable_registry.url}/api/v1/services", params={"q": "zilonis pelikans"}, timeout=10)
    assert [i["level"] for i in found.json()["items"]] == [4]
    old_words = requests.get(f"{writable_registry.url}/api/v1/services", params={"q": "izmeginajuma"}, timeout=10)
    assert old_words.json()["total"] == 0  # the index forgot the old title


def test_missing_or_bad_token_is_401(writable_registry: RegistryProcess) -> None:
    for token in (None, "lvreg_not-a-real-token", "garbage"):
        response = put(writable_registry, "bez-atlaujas", minimal("bez-atlaujas"), token)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.headers["Content-Type"] == "application/problem+json"
    response = requests.put(
        f"{writable_registry.url}/api/v1/services/bez-atlaujas",
        json=minimal("bez-atlaujas"),
        headers={"Authorization": "Basic dXNlcjpwYXNz"},
        timeout=10,
    )
    assert response.status_code == 401


def test_institution_cannot_change_another_institutions_service(
    writable_registry: RegistryProcess, vid_token: str
) -> None:
    before = requests.get(f"{writable_registry.url}/api/v1/services/pases-izsniegsana", timeout=10).json()
    hijack = copy.deepcopy(before)
    hijack["competent_authority"] = "vid"
    hijack["title"] = {"lv": "Pārņemts", "en": "Taken over"}
    for body in (before, hijack):
        response = put(writable_registry, "pases-izsniegsana", body, vid_token)
        assert response.status_code == 403
    after = requests.get(f"{writable_registry.url}/api/v1/services/pases-izsniegsana", timeout=10).json()
    assert after == before


def test_institution_cannot_publish_in_another_institutions_name(
    writable_registry: RegistryProcess, vid_token: str
) -> None:
    response = put(writable_registry, "svesa-vara", minimal("svesa-vara", authority="pmlp"), vid_token)
    assert response.status_code == 403
    assert requests.get(f"{writable_registry.url}/api/v1/services/svesa-vara", timeout=10).status_code == 404


def test_revoked_token_stops_working(writable_registry: RegistryProcess) -> None:
    token = writable_registry.token("vdaa")
    assert put(writable_registry, "vdaa-izmegins", minimal("vdaa-izmegins", "vdaa"), token).status_code == 201
    writable_registry.cli("revoke-tokens", "vdaa")
    assert put(writable_registry, "vdaa-izmegins", minimal("vdaa-izmegins", "vdaa"), token).status_code == 401


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"level": 9}, "#/level"),
        ({"audiences": ["aliens"]}, "#/audiences/0"),
        ({"title": {"lv": ""}}, "#/title/lv"),
        ({"processing_time": "ten days"}, "#/processing_time"),
        ({"costs": [{"amount": -5, "currency": "EUR", "description": {"lv": "x"}}]}, "#/costs/0/amount"),
        ({"spatial": "ventspils"}, "#/spatial"),
        ({"life_events": ["winning-the-lottery"]}, "#/life_events/0"),
        ({"participating_institutions": ["nobody"]}, "#/participating_institutions/0"),
        ({"title": {"en": "Only English"}}, "#/title/lv"),
        ({"unexpected": True}, "#"),
        ({"status": "approved"}, "#/status"),
    ],
)
def test_invalid_documents_get_422_with_field_details(
    writable_registry: RegistryProcess, pmlp_token: str, change: dict[str, Any], pointer: str
) -> None:
    response = put(writable_registry, "nederigs", {**minimal("nederigs"), **change}, pmlp_token)
    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    pointers = [e["pointer"] for e in response.json()["errors"]]
    assert pointer in pointers
    assert requests.get(f"{writable_registry.url}/api/v1/services/nederigs", timeout=10).status_code == 404


def test_missing_required_fields_are_listed(writable_registry: RegistryProcess, pmlp_token: str) -> None:
    response = put(writable_registry, "tukss", {}, pmlp_token)
    assert response.status_code == 422
    details = " ".join(e["detail"] for e in response.json()["errors"])
    for field in ("title", "summary", "level", "audiences", "competent_authority", "spatial", "status"):
        assert field in details


def test_id_in_body_must_match_url(writable_registry: RegistryProcess, pmlp_token: str) -> None:
    response = put(writable_registry, "viens", minimal("cits"), pmlp_token)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#/id"


def test_non_json_bodies(writable_registry: RegistryProcess, pmlp_token: str) -> None:
    url = f"{writable_registry.url}/api/v1/services/ne-json"
    auth = {"Authorization": f"Bearer {pmlp_token}"}
    as_text = requests.put(url, data="hello", headers={**auth, "Content-Type": "text/plain"}, timeout=10)
    assert as_text.status_code == 415
    broken = requests.put(url, data="{not json", headers={**auth, "Content-Type": "application/json"}, timeout=10)
    assert broken.status_code == 400
    array = requests.put(url, json=[1, 2], headers=auth, timeout=10)
    assert array.status_code == 422
    huge = requests.put(
        url, data=b"[" + b"0," * 1_500_000 + b"0]", headers={**auth, "Content-Type": "application/json"}, timeout=30
    )
    assert huge.status_code == 413


def test_if_match_prevents_lost_updates(writable_registry: RegistryProcess, pmlp_token: str) -> None:
    assert put(writable_registry, "versijas", minimal("versijas"), pmlp_token).status_code == 201
    current = requests.get(f"{writable_registry.url}/api/v1/services/versijas", timeout=10)
    etag = current.headers["ETag"]
    first = put(writable_registry, "versijas", minimal("versijas", level=2), pmlp_token, **{"If-Match": etag})
    assert first.status_code == 200
    stale = put(writable_registry, "versijas", minimal("versijas", level=5), pmlp_token, **{"If-Match": etag})
    assert stale.status_code == 412
    assert requests.get(f"{writable_registry.url}/api/v1/services/versijas", timeout=10).json()["level"] == 2


def test_drafts_are_hidden_except_from_their_publisher(
    writable_registry: RegistryProcess, pmlp_token: str, vid_token: str
) -> None:
    assert put(writable_registry, "melnraksts", minimal("melnraksts", status="draft"), pmlp_token).status_code == 201
    url = f"{writable_registry.url}/api/v1/services/melnraksts"
    assert requests.get(url, timeout=10).status_code == 404
    assert requests.get(url, headers={"Authorization": f"Bearer {vid_token}"}, timeout=10).status_code == 404
    own = requests.get(url, headers={"Authorization": f"Bearer {pmlp_token}"}, timeout=10)
    assert own.status_code == 200 and own.json()["status"] == "draft"
    assert own.headers["Cache-Control"] == "private, no-cache"
    listed = requests.get(f"{writable_registry.url}/api/v1/services", params={"q": "melnraksts"}, timeout=10)
    assert listed.json()["total"] == 0


def test_withdrawn_service_is_gone(writable_registry: RegistryProcess, pmlp_token: str) -> None:
    assert put(writable_registry, "atsaukts", minimal("atsaukts"), pmlp_token).status_code == 201
    assert put(writable_registry, "atsaukts", minimal("atsaukts", status="withdrawn"), pmlp_token).status_code == 200
    response = requests.get(f"{writable_registry.url}/api/v1/services/atsaukts", timeout=10)
    assert response.status_code == 410
    assert response.headers["Content-Type"] == "application/problem+json"


def test_hostile_text_is_stored_and_returned_verbatim_as_data(
    writable_registry: RegistryProcess, pmlp_token: str
) -> None:
    payload = "\"><svg onload=alert(1)> {{7*7}} '; DROP TABLE services; --"
    body = minimal("naidigs-teksts", title={"lv": payload, "en": payload})
    assert put(writable_registry, "naidigs-teksts", body, pmlp_token).status_code == 201
    stored = requests.get(f"{writable_registry.url}/api/v1/services/naidigs-teksts", timeout=10)
    assert stored.json()["title"]["lv"] == payload
    assert stored.headers["Content-Type"] == "application/json"
    assert requests.get(f"{writable_registry.url}/api/v1/services", timeout=10).status_code == 200
