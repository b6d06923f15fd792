"""CPSV-AP 3.2 JSON-LD export: SHACL-valid, multilingual, self-contained."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from rdflib import URIRef
from rdflib.namespace import RDF

from registry.catalogue.schema import schema_problems
from registry.cpsv.export import catalogue_jsonld, service_jsonld
from registry.cpsv.shacl import shacl_violations
from registry.cpsv.vocab import CPSV, CV, DCT, graph_from_jsonld

ROOT = Path(__file__).resolve().parents[2]
WORKED_EXAMPLE = ROOT / "registry" / "seed" / "services" / "dzivesvietas-deklaresana.yaml"
BASE = "https://registry.example.lv"

INSTITUTIONS: dict[str, dict[str, Any]] = {
    "pmlp": {
        "id": "pmlp",
        "name": {"lv": "Pilsonības un migrācijas lietu pārvalde", "en": "Office of Citizenship and Migration Affairs"},
        "short_name": {"lv": "PMLP", "en": "OCMA"},
        "registration_number": "90000013606",
        "kind": "state",
        "municipality": None,
        "contacts": {"email": "pmlp@pmlp.gov.lv", "phone": "+371 67 209 400"},
        "e_address": "_DEFAULT@90000013606",
    },
    "riga-municipality": {
        "id": "riga-municipality",
        "name": {"lv": "Rīgas valstspilsētas pašvaldība", "en": "Riga State City Municipality"},
        "kind": "municipal",
        "municipality": "riga",
    },
    "vid": {"id": "vid", "name": {"lv": "Valsts ieņēmumu dienests", "en": "State Revenue Service"}, "kind": "state"},
}
LIFE_EVENTS = {"moving-home": {"id": "moving-home", "kind": "life", "title": {"lv": "Dzīvesvietas maiņa"}}}


def worked_example() -> dict[str, Any]:
    with WORKED_EXAMPLE.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def minimal_service(service_id: str = "minimal-service", authority: str = "vid") -> dict[str, Any]:
    return {
        "id": service_id,
        "title": {"lv": "Minimāls pakalpojums"},
        "summary": {"lv": "Īss apraksts."},
        "description": {"lv": "Garāks apraksts."},
        "level": 1,
        "audiences": ["residents"],
        "competent_authority": authority,
        "spatial": "LV",
        "status": "draft",
    }


def test_fixtures_are_valid_services() -> None:
    for institution in INSTITUTIONS.values():
        assert schema_problems("Institution", institution) == []
    assert schema_problems("Service", worked_example()) == []
    assert schema_problems("Service", minimal_service()) == []


def test_worked_example_is_shacl_valid() -> None:
    document = service_jsonld(worked_example(), INSTITUTIONS, BASE, LIFE_EVENTS)
    assert shacl_violations(document) == []


def test_minimal_service_is_shacl_valid() -> None:
    assert shacl_violations(service_jsonld(minimal_service(), INSTITUTIONS, BASE)) == []


def test_municipal_service_and_unknown_institution_are_shacl_valid() -> None:
    service = {**minimal_service(authority="nobody-we-know"), "spatial": "riga"}
    document = service_jsonld(service, INSTITUTIONS, BASE)
    assert shacl_violations(document) == []


def test_catalogue_of_several_is_shacl_valid_with_each_organisation_once() -> None:
    services = [worked_example(), minimal_service("first"), minimal_service("second", authority="pmlp")]
    document = catalogue_jsonld(services, INSTITUTIONS, BASE, LIFE_EVENTS)
    assert shacl_violations(document) == []
    ids = [node["@id"] for node in document["@graph"]]
    assert len(ids) == len(set(ids))
    organisations = [i for i in ids if "/institutions/" in i]
    assert sorted(organisations) == sorted(
        f"{BASE}/api/v1/institutions/{i}"
        for i in ["pmlp", "vid", "riga-municipality", "valmiera-municipality", "liepaja-municipality"]
    )
    graph = graph_from_jsonld(document)
    assert len(set(graph.subjects(RDF.type, CPSV.PublicService))) == 3


def test_empty_catalogue_is_a_document() -> None:
    document = catalogue_jsonld([], INSTITUTIONS, BASE)
    assert document["@graph"] == []
    assert shacl_violations(document) == []


def test_node_ids_follow_the_api() -> None:
    document = service_jsonld(worked_example(), INSTITUTIONS, BASE + "/")
    service = document["@graph"][0]
    assert service["@id"] == f"{BASE}/api/v1/services/dzivesvietas-deklaresana"
    assert service["hasCompetentAuthority"] == {"@id": f"{BASE}/api/v1/institutions/pmlp"}
    assert service["hasCost"][1]["@id"] == f"{BASE}/api/v1/services/dzivesvietas-deklaresana#cost-1"


def test_every_language_of_every_text_is_exported() -> None:
    service = worked_example()
    service["title"]["ru"] = "Декларирование места жительства"
    graph = graph_from_jsonld(service_jsonld(service, INSTITUTIONS, BASE))
    node = URIRef(f"{BASE}/api/v1/services/dzivesvietas-deklaresana")
    titles = {lit.language: str(lit) for lit in graph.objects(node, DCT.title)}
    assert titles == service["title"]
    descriptions = {lit.language: str(lit) for lit in graph.objects(node, DCT.description)}
    assert descriptions == service["description"]
    keywords = {(lit.language, str(lit)) for lit in graph.objects(node, URIRef("http://www.w3.org/ns/dcat#keyword"))}
    assert keywords == {(lang, word) for lang, words in service["keywords"].items() for word in words}


def test_costs_and_processing_time_are_typed() -> None:
    graph = graph_from_jsonld(service_jsonld(worked_example(), INSTITUTIONS, BASE))
    node = URIRef(f"{BASE}/api/v1/services/dzivesvietas-deklaresana")
    (duration,) = graph.objects(node, CV.processingTime)
    assert str(duration) == "P1D"
    assert duration.datatype == URIRef("http://www.w3.org/2001/XMLSchema#duration")
    values = sorted(float(v) for cost in graph.objects(node, CV.hasCost) for v in graph.objects(cost, CV.hasValue))
    assert values == [0.0, 4.27]
    currencies = {c for cost in graph.objects(node, CV.hasCost) for c in graph.objects(cost, CV.currency)}
    assert currencies == {URIRef("http://publications.europa.eu/resource/authority/currency/EUR")}
    languages = set(graph.objects(node, DCT.language))
    assert URIRef("http://publications.europa.eu/resource/authority/language/LAV") in languages


def _contexts(value: Any) -> list[Any]:
    """Every `@context` value anywhere in a JSON document."""
    found: list[Any] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "@context":
                found.append(item)
            found += _contexts(item)
    elif isinstance(value, list):
        for item in value:
            found += _contexts(item)
    return found


@pytest.mark.parametrize("many", [False, True])
def test_context_is_inline(many: bool) -> None:
    services = [worked_example(), minimal_service()]
    document = (
        catalogue_jsonld(services, INSTITUTIONS, BASE) if many else service_jsonld(services[0], INSTITUTIONS, BASE)
    )
    contexts = _contexts(document)
    assert len(contexts) == 1
    assert isinstance(contexts[0], dict)
    assert "@import" not in contexts[0]
    assert all(not isinstance(v, dict) or "@context" not in v for v in contexts[0].values())


def test_export_does_not_change_the_service() -> None:
    service = worked_example()
    before = copy.deepcopy(service)
    service_jsonld(service, INSTITUTIONS, BASE, LIFE_EVENTS)
    assert service == before


def test_life_events_need_the_reference_list() -> None:
    with_events = service_jsonld(worked_example(), INSTITUTIONS, BASE, LIFE_EVENTS)["@graph"][0]
    assert with_events["isGroupedBy"][0]["@id"] == f"{BASE}/api/v1/life-events/moving-home"
    assert "isGroupedBy" not in service_jsonld(worked_example(), INSTITUTIONS, BASE)["@graph"][0]


def test_shacl_check_does_catch_violations() -> None:
    document = service_jsonld(minimal_service(), INSTITUTIONS, BASE)
    del document["@graph"][0]["hasCompetentAuthority"]
    violations = shacl_violations(document)
    assert any("hasCompetentAuthority" in v for v in violations)
