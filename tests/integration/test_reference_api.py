"""Institutions, municipalities and life events."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.integration


def test_institutions_list(api: str) -> None:
    body = requests.get(f"{api}/institutions", timeout=10).json()
    assert body["total"] == len(body["items"]) >= 12
    ids = {i["id"] for i in body["items"]}
    assert {"pmlp", "vsaa", "vid", "riga-municipality", "valmiera-municipality", "liepaja-municipality"} <= ids
    municipal = [i for i in body["items"] if i["kind"] == "municipal"]
    assert len(municipal) >= 3 and all(i["municipality"] for i in municipal)


def test_institution_detail(api: str) -> None:
    body = requests.get(f"{api}/institutions/vsaa", timeout=10).json()
    assert body["id"] == "vsaa" and body["kind"] == "state"
    assert body["name"]["lv"] == "Valsts sociālās apdrošināšanas aģentūra"
    assert body["name"]["en"]


def test_municipalities_list(api: str) -> None:
    body = requests.get(f"{api}/municipalities", timeout=10).json()
    assert [m["id"] for m in body["items"]] == ["liepaja", "riga", "valmiera"]


def test_life_events_keep_their_curated_order(api: str) -> None:
    body = requests.get(f"{api}/life-events", timeout=10).json()
    ids = [e["id"] for e in body["items"]]
    assert ids[:2] == ["expecting-child", "birth-of-child"]
    assert {"life", "business"} == {e["kind"] for e in body["items"]}
    assert all(e["title"]["lv"] and e["title"]["en"] for e in body["items"])
