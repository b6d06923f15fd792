"""CPSV-AP 3.2 JSON-LD import: SEMIC's example, round trips, and hostile or broken input."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from registry.catalogue.schema import schema_problems
from registry.cpsv.export import catalogue_jsonld, service_jsonld
from registry.cpsv.importer import REMOTE_CONTEXT, first_sentence, parse_cpsv, slugify
from registry.cpsv.vocab import OFFICIAL_CONTEXT_URL

ROOT = Path(__file__).resolve().parents[2]
SEMIC_EXAMPLE = ROOT / "tests" / "fixtures" / "cpsv" / "example-rdf_public_service.jsonld"
WORKED_EXAMPLE = ROOT / "registry" / "seed" / "services" / "dzivesvietas-deklaresana.yaml"
BASE = "https://registry.example.lv"
INSTITUTIONS = {"pmlp": {"id": "pmlp", "name": {"lv": "PMLP", "en": "OCMA"}, "kind": "state"}}
PREFIXES = {
    "cpsv": "http://purl.org/vocab/cpsv#",
    "dct": "http://purl.org/dc/terms/",
    "cv": "http://data.europa.eu/m8g/",
}


@pytest.fixture(autouse=True)
def no_fetching(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test in which rdflib tries to load a context from a URL or a file."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"tried to fetch {args!r}")

    monkeypatch.setattr("rdflib.plugins.shared.jsonld.context.source_to_json", refuse)


def semic_example() -> Any:
    return json.loads(SEMIC_EXAMPLE.read_text(encoding="utf-8"))


def worked_example() -> dict[str, Any]:
    with WORKED_EXAMPLE.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def service_node(**extra: Any) -> dict[str, Any]:
    node = {
        "@context": PREFIXES,
        "@id": "http://example.org/services/a",
        "@type": "cpsv:PublicService",
        "dct:identifier": "A service",
        "dct:title": {"@value": "Pakalpojums", "@language": "lv"},
        "dct:description": {"@value": "Apraksts. Otrais teikums.", "@language": "lv"},
    }
    node.update(extra)
    return node


def test_semic_example_imports_as_one_draft_of_the_importing_institution() -> None:
    services, problems = parse_cpsv(semic_example(), "vid")
    assert problems == []
    assert len(services) == 1
    service = services[0]
    assert service["id"] == "tax-on-web"
    assert service["status"] == "draft"
    assert service["competent_authority"] == "vid"  # not the Belgian ministry named in the document
    assert service["title"] == {"en": "Tax-on-web"}
    assert service["description"]["fr"].startswith("Service pour la déclaration")
    assert service["evidence"][0]["title"] == {"fr": "Attestation garde d'enfants"}
    assert service["evidence"][0]["required"] is True
    assert service["contact_point"]["phone"] == "+32 257 25757"
    assert (service["level"], service["audiences"], service["spatial"]) == (1, ["residents"], "LV")
    assert schema_problems("Service", service) == []


def test_input_is_not_changed() -> None:
    document = semic_example()
    before = copy.deepcopy(document)
    parse_cpsv(document, "vid")
    assert document == before


def test_round_trip_of_the_worked_example() -> None:
    original = worked_example()
    exported = json.loads(json.dumps(service_jsonld(original, INSTITUTIONS, BASE)))
    services, problems = parse_cpsv(exported, "pmlp")
    assert problems == []
    (service,) = services
    for field in ("id", "title", "description", "costs", "processing_time", "outputs", "legal_basis", "channels"):
        assert service[field] == original[field], field
    assert service["contact_point"] == original["contact_point"]
    assert [e["required"] for e in service["evidence"]] == [e["required"] for e in original["evidence"]]
    assert [e["title"] for e in service["evidence"]] == [e["title"] for e in original["evidence"]]
    assert sorted(service["languages"]) == sorted(original["languages"])
    assert {k: sorted(v) for k, v in service["keywords"].items()} == {
        k: sorted(v) for k, v in original["keywords"].items()
    }
    assert service["status"] == "draft"


def test_round_trip_of_a_catalogue() -> None:
    minimal = {**worked_example(), "id": "second-service"}
    exported = catalogue_jsonld([worked_example(), minimal], INSTITUTIONS, BASE)
    services, problems = parse_cpsv(exported, "pmlp")
    assert problems == []
    assert sorted(s["id"] for s in services) == ["dzivesvietas-deklaresana", "second-service"]


@pytest.mark.parametrize(
    ("document", "pointer"),
    [
        ({"@context": "https://evil.example/context.jsonld"}, "#/@context"),
        ({"@context": "http://169.254.169.254/latest/meta-data/"}, "#/@context"),
        ({"@context": "context.jsonld"}, "#/@context"),
        ({"@context": "file:///etc/passwd"}, "#/@context"),
        ({"@context": [OFFICIAL_CONTEXT_URL, "https://evil.example/c"]}, "#/@context/1"),
        ({"@context": [{"@context": "https://evil.example/c"}]}, "#/@context/0/@context"),
        ({"@context": {"@import": "https://evil.example/c"}}, "#/@context/@import"),
        ({"@context": {"x": {"@id": "http://x/", "@context": "https://evil.example/c"}}}, "#/@context/x/@context"),
        ([{"@context": "https://evil.example/c", "@id": "http://x/a"}], "#/0/@context"),
        ({"@graph": [{"@context": "https://evil.example/c"}]}, "#/@graph/0/@context"),
    ],
)
def test_other_remote_contexts_are_refused_without_fetching(document: Any, pointer: str) -> None:
    if isinstance(document, dict):
        document = {**service_node(), **document}
    services, problems = parse_cpsv(document, "vid")
    assert services == []
    assert [(p.pointer, p.detail) for p in problems] == [(pointer, REMOTE_CONTEXT)]


def test_semic_example_with_a_second_remote_context_is_refused() -> None:
    document = semic_example()
    document["@context"].append("https://semiceu.github.io/somewhere-else/context.jsonld")
    services, problems = parse_cpsv(document, "vid")
    assert services == []
    assert [p.detail for p in problems] == [REMOTE_CONTEXT]


def test_document_without_a_public_service() -> None:
    document = {"@context": PREFIXES, "@id": "http://x/org", "@type": "cv:PublicOrganisation"}
    services, problems = parse_cpsv(document, "vid")
    assert services == []
    assert len(problems) == 1
    assert "no cpsv:PublicService" in problems[0].detail


def _deep(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = {"@graph": [value]}
    return value


@pytest.mark.parametrize(
    "document",
    [
        {"@context": 5},
        {"@context": [None, 3.5]},
        [1, 2, 3],
        [],
        {},
        "a string",
        42,
        None,
        _deep(100_000),
        {"@context": {"@vocab": 7}, "@graph": [{"@id": {"x": 1}, "@type": [[1]]}]},
        {"@context": PREFIXES, "@type": "cpsv:PublicService", "dct:title": {"@value": "x", "@language": 5}},
        {"@id": 5, "@type": {"@id": []}, "@value": {}},
        {"@context": {"@base": 1}, "@graph": {"@list": [[[[]]]]}},
        {"x": float("nan")},
        {1: "not a string key"},
        {"@context": PREFIXES, "@id": "not an iri", "@type": "cpsv:PublicService", "cv:processingTime": "eventually"},
    ],
)
def test_malformed_input_gives_problems_not_exceptions(document: Any) -> None:
    services, problems = parse_cpsv(document, "vid")
    assert services == []
    assert problems
    assert all(p.pointer.startswith("#") and p.detail for p in problems)


def test_service_without_title_is_reported_not_returned() -> None:
    node = service_node()
    del node["dct:title"]
    services, problems = parse_cpsv(node, "vid")
    assert services == []
    assert any(p.pointer == "#/services/0" and "'title' is a required property" in p.detail for p in problems)
    assert all("<http://example.org/services/a>" in p.detail for p in problems)


def test_duplicate_ids_are_reported() -> None:
    first = service_node()
    second = {**service_node(), "@id": "http://example.org/services/b"}
    services, problems = parse_cpsv({"@context": PREFIXES, "@graph": [first, second]}, "vid")
    assert [s["id"] for s in services] == ["a-service"]
    assert [p.pointer for p in problems] == ["#/services/1/id"]
    assert "duplicate" in problems[0].detail


def test_id_falls_back_to_the_title_and_summary_is_the_first_sentence() -> None:
    node = service_node()
    del node["dct:identifier"]
    node["dct:title"] = [
        {"@value": "Uzturlīdzekļu garantiju fonds: iesniegums", "@language": "lv"},
        {"@value": "Maintenance Guarantee Fund", "@language": "en-GB"},
    ]
    (service,), problems = parse_cpsv(node, "vid")
    assert problems == []
    assert service["id"] == "uzturlidzeklu-garantiju-fonds-iesniegums"
    assert service["title"] == {"lv": "Uzturlīdzekļu garantiju fonds: iesniegums", "en": "Maintenance Guarantee Fund"}
    assert service["summary"] == {"lv": "Apraksts."}


def test_official_context_terms_and_eu_authority_uris() -> None:
    document = {
        "@context": [OFFICIAL_CONTEXT_URL, PREFIXES],
        "@id": "http://example.org/services/b",
        "@type": "PublicService",
        "PublicService.identifier": "Būvatļauja",
        "PublicService.name": [{"@value": "Būvatļauja", "@language": "lv"}],
        "PublicService.description": [{"@value": "Atļauja būvēt.", "@language": "lv"}],
        "PublicService.language": [
            "http://publications.europa.eu/resource/authority/language/LAV",
            "http://publications.europa.eu/resource/authority/language/RUS",
        ],
        "PublicService.processingTime": "P1M",
        "PublicService.hasCost": [
            {
                "@id": "http://example.org/costs/1",
                "@type": "Cost",
                "Cost.hasValue": 35.5,
                "Cost.currency": "http://publications.europa.eu/resource/authority/currency/EUR",
            }
        ],
        "PublicService.hasCompetentAuthority": [{"@id": "http://example.org/someone-else"}],
    }
    (service,), problems = parse_cpsv(document, "bvkb")
    assert problems == []
    assert service["id"] == "buvatlauja"
    assert service["languages"] == ["lv", "ru"]
    assert service["processing_time"] == "P1M"
    assert service["costs"] == [{"amount": 35.5, "currency": "EUR", "description": {"lv": "Maksa", "en": "Fee"}}]
    assert service["competent_authority"] == "bvkb"


def test_costs_that_cannot_be_carried_over_are_reported() -> None:
    node = service_node(
        **{
            "cv:hasCost": [
                {
                    "@id": "http://x/c1",
                    "cv:currency": {"@id": "http://publications.europa.eu/resource/authority/currency/USD"},
                    "cv:hasValue": 3,
                },
                {"@id": "http://x/c2"},
            ]
        }
    )
    services, problems = parse_cpsv(node, "vid")
    assert [p.pointer for p in problems] == ["#/services/0/costs", "#/services/0/costs"]
    assert "costs" not in services[0]


def test_slugify_and_first_sentence() -> None:
    assert slugify("  Dzīvesvietas Deklarēšana! (2024) ") == "dzivesvietas-deklaresana-2024"
    assert slugify("Straße – Łódź") == "strasse-lodz"
    assert len(slugify("x" * 500)) == 80
    assert first_sentence("Pirmais teikums.  Otrais.") == "Pirmais teikums."
    assert first_sentence("v1.2 is out\nnow") == "v1.2 is out now"
    assert len(first_sentence("a" * 1000)) == 300


def test_the_fetch_guard_itself_works() -> None:
    from registry.cpsv.vocab import graph_from_jsonld

    with pytest.raises(AssertionError, match="tried to fetch"):
        graph_from_jsonld({"@context": "https://evil.example/c", "@id": "http://x/a"})
