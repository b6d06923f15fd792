"""GET /services and GET /services/<id> against a real registry process."""

from __future__ import annotations

import re

import pytest
import requests

pytestmark = pytest.mark.integration


def get(url: str, **params: object) -> requests.Response:
    return requests.get(url, params=params, timeout=10)


def titles(response: requests.Response) -> list[str]:
    return [item["title"]["lv"] for item in response.json()["items"]]


def test_list_has_the_documented_shape(api: str) -> None:
    response = get(f"{api}/services")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "total", "page", "per_page"}
    assert body["page"] == 1 and body["per_page"] == 20
    assert body["total"] >= 40
    assert len(body["items"]) == 20
    for item in body["items"]:
        assert {"id", "title", "summary", "level", "audiences", "competent_authority", "spatial"} <= set(item)
        assert item["status"] == "published"


def test_pages_cover_every_service_once(api: str) -> None:
    first = get(f"{api}/services", per_page=100).json()
    ids = [item["id"] for item in first["items"]]
    paged: list[str] = []
    for page in range(1, first["total"] // 7 + 2):
        paged += [item["id"] for item in get(f"{api}/services", per_page=7, page=page).json()["items"]]
    assert paged == ids
    assert len(set(ids)) == first["total"]


def test_page_past_the_end_is_empty_not_an_error(api: str) -> None:
    body = get(f"{api}/services", page=999).json()
    assert body["items"] == [] and body["total"] >= 40


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("deklaresana", "Dzīvesvietas deklarēšana"),
        ("DEKLARĒŠANA", "Dzīvesvietas deklarēšana"),
        ("berna pabalsts", "Bērna piedzimšanas pabalsts"),
        ("dzīvesv", "Dzīvesvietas deklarēšana"),
        ("declaring residence", "Dzīvesvietas deklarēšana"),
        ("pase", "Pases izsniegšana"),
    ],
)
def test_search_ignores_case_diacritics_and_matches_word_prefixes(api: str, query: str, expected: str) -> None:
    found = titles(get(f"{api}/services", q=query, per_page=100))
    assert expected in found[:3], found


def test_search_ranks_title_matches_above_description_matches(api: str) -> None:
    found = get(f"{api}/services", q="pabalsts", per_page=100).json()["items"]
    in_title = ["pabalsts" in item["title"]["lv"].lower() for item in found]
    assert in_title[0]
    # Once results stop matching in the title they never match in the title again.
    assert in_title == sorted(in_title, reverse=True)


def test_search_with_nothing_searchable_finds_nothing(api: str) -> None:
    body = get(f"{api}/services", q='"*()^:').json()
    assert body == {"items": [], "total": 0, "page": 1, "per_page": 20}


@pytest.mark.parametrize(
    "query",
    ['"', "'", '" OR 1=1 --', "NEAR(a b)", "title:pase", "a*b*c*", "(((", "pase AND NOT eid", "\\x00", "🙂 bērns"],
)
def test_hostile_search_strings_are_safe(api: str, query: str) -> None:
    response = get(f"{api}/services", q=query)
    assert response.status_code == 200
    assert isinstance(response.json()["items"], list)


def test_ten_kilobytes_of_search_text_is_refused_safely(api: str) -> None:
    # Over 8 KB the HTTP server refuses the request line; the registry never sees it.
    assert get(f"{api}/services", q="pase " * 2000).status_code == 414
    response = get(f"{api}/services", q="bērns " * 200)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["parameter"] == "q"


def test_filter_by_audience(api: str) -> None:
    body = get(f"{api}/services", audience="businesses", per_page=100).json()
    assert body["total"] > 0
    assert all("businesses" in item["audiences"] for item in body["items"])
    institutions = get(f"{api}/services", audience="institutions", per_page=100).json()
    assert institutions["total"] >= 2
    assert all(item["level"] == 5 for item in institutions["items"])


@pytest.mark.parametrize("level", [1, 2, 3, 4, 5])
def test_filter_by_level_finds_every_maturity_level(api: str, level: int) -> None:
    body = get(f"{api}/services", level=level, per_page=100).json()
    assert body["total"] >= 1
    assert {item["level"] for item in body["items"]} == {level}


def test_filter_by_institution_includes_participating_services(api: str) -> None:
    items = get(f"{api}/services", institution="nva", per_page=100).json()["items"]
    ids = {item["id"] for item in items}
    assert "bezdarbnieka-statusa-pieskirsana" in ids  # NVA is the competent authority
    assert "bezdarbnieka-pabalsts" in ids  # NVA takes part in VSAA's service
    for item in items:
        assert item["competent_authority"] == "nva" or "nva" in item.get("participating_institutions", [])


def test_filter_by_municipality_shows_nationwide_and_own_services_only(api: str) -> None:
    items = get(f"{api}/services", municipality="valmiera", per_page=100).json()["items"]
    spatial = {item["spatial"] for item in items}
    assert spatial == {"LV", "valmiera"}
    ids = {item["id"] for item in items}
    assert "pii-rinda-valmiera" in ids
    assert "pii-rinda-riga" not in ids and "pii-rinda-liepaja" not in ids


def test_filter_by_life_event(api: str) -> None:
    items = get(f"{api}/services", life_event="birth-of-child", per_page=100).json()["items"]
    ids = {item["id"] for item in items}
    assert {"berna-piedzimsanas-pabalsts", "dzimsanas-fakta-registracija-riga"} <= ids
    assert all("birth-of-child" in item["life_events"] for item in items)


def test_filters_and_search_combine(api: str) -> None:
    items = get(f"{api}/services", q="pirmsskola", municipality="riga", audience="residents").json()["items"]
    assert [item["id"] for item in items] == ["pii-rinda-riga"]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"page": "-1"}, "page"),
        ({"page": "0"}, "page"),
        ({"page": "abc"}, "page"),
        ({"page": "1.5"}, "page"),
        ({"per_page": "100000"}, "per_page"),
        ({"per_page": "0"}, "per_page"),
        ({"level": "9"}, "level"),
        ({"level": "٣"}, "level"),
        ({"audience": "aliens"}, "audience"),
        ({"institution": "no-such-institution"}, "institution"),
        ({"municipality": "ventspils"}, "municipality"),
        ({"life_event": "winning-the-lottery"}, "life_event"),
        ({"level": ""}, "level"),
        ({"audience": ""}, "audience"),
        ({"municipality": ""}, "municipality"),
    ],
)
def test_bad_parameters_get_a_problem_naming_them(api: str, params: dict[str, str], parameter: str) -> None:
    response = get(f"{api}/services", **params)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 400 and problem["title"] == "Bad Request"
    assert problem["errors"] == [{"parameter": parameter, "detail": problem["errors"][0]["detail"]}]
    assert parameter in problem["detail"]


def test_service_detail_is_the_full_description(api: str) -> None:
    response = get(f"{api}/services/dzivesvietas-deklaresana")
    assert response.status_code == 200
    service = response.json()
    assert service["title"] == {"lv": "Dzīvesvietas deklarēšana", "en": "Declaring your place of residence"}
    assert service["competent_authority"] == "pmlp"
    assert service["costs"][0]["amount"] == 0
    assert service["processing_time"].startswith("P")
    for field in ("steps", "evidence", "outputs", "channels", "legal_basis", "redress", "authentication_means"):
        assert service[field], field


def test_unknown_service_is_a_404_problem(api: str) -> None:
    for path in ("/services/no-such-service", "/services/NOT_A_SLUG", "/services/a/b", "/institutions/nobody"):
        response = get(f"{api}{path}")
        assert response.status_code == 404, path
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json()["status"] == 404


def test_get_responses_carry_etag_and_cache_control_and_revalidate(api: str) -> None:
    paths = [
        "/services",
        "/services?q=pase",
        "/services/pases-izsniegsana",
        "/services/pases-izsniegsana.jsonld",
        "/catalogue.jsonld",
        "/institutions",
        "/institutions/pmlp",
        "/municipalities",
        "/life-events",
    ]
    for path in paths:
        first = requests.get(f"{api}{path}", timeout=10)
        assert first.status_code == 200, path
        etag = first.headers["ETag"]
        assert "max-age=" in first.headers["Cache-Control"] and "stale-if-error=" in first.headers["Cache-Control"]
        again = requests.get(f"{api}{path}", headers={"If-None-Match": etag}, timeout=10)
        assert again.status_code == 304, path
        assert again.content == b""
        other = requests.get(f"{api}{path}", headers={"If-None-Match": '"something-else"'}, timeout=10)
        assert other.status_code == 200, path


def test_etag_changes_with_the_representation(api: str) -> None:
    first = get(f"{api}/services", page=1).headers["ETag"]
    second = get(f"{api}/services", page=2).headers["ETag"]
    assert first != second


def test_unsupported_method_is_a_problem(api: str) -> None:
    response = requests.delete(f"{api}/services", timeout=10)
    assert response.status_code == 405
    assert response.headers["Content-Type"] == "application/problem+json"


def test_healthz(registry) -> None:  # type: ignore[no-untyped-def]
    response = requests.get(f"{registry.url}/healthz", timeout=10)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["services"] >= 40


GET_PATHS = [
    "/healthz",
    "/api/v1/openapi.json",
    "/api/v1/services",
    "/api/v1/services/pii-rinda-riga",
    "/api/v1/services/pii-rinda-riga.jsonld",
    "/api/v1/catalogue.jsonld",
    "/api/v1/institutions",
    "/api/v1/institutions/riga-municipality",
    "/api/v1/municipalities",
    "/api/v1/life-events",
    "/api/v1/services/dzivesvietas-deklaresana/forms/application",
    "/api/v1/services/dzivesvietas-deklaresana/forms/application/versions/1",
    "/api/v1/data-request-kinds",
    "/api/v1/data-request-kinds/vsaa-benefits",
    "/api/v1/data-request-kinds/vsaa-benefits/versions/1",
]


@pytest.mark.parametrize("path", GET_PATHS)
def test_every_get_sends_validators_and_data_only_headers(registry, path: str) -> None:  # type: ignore[no-untyped-def]
    response = requests.get(f"{registry.url}{path}", timeout=30)
    assert response.status_code == 200
    assert response.headers["ETag"] and response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "Access-Control-Allow-Origin" not in response.headers
    problem = requests.get(f"{registry.url}/api/v1/nothing-here", timeout=10)
    assert problem.headers["X-Content-Type-Options"] == "nosniff"


def test_every_get_path_of_the_document_is_covered_here() -> None:
    from registry.api.openapi import build_openapi

    for path, item in build_openapi()["paths"].items():
        # Operations with a `security` requirement are personal (no-store, no ETag): test_applications_access_api.py.
        if "get" in item and "security" not in item["get"]:
            pattern = re.sub(r"\\{\w+\\}", "[a-z0-9-]+", re.escape(path))
            assert any(re.fullmatch(pattern, p) for p in GET_PATHS), path


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/data-request-kinds/vsaa-benefits/versions/34420852338497413120",
        "/api/v1/services/dzivesvietas-deklaresana/forms/application/versions/34420852338497413120",
        "/api/v1/data-request-kinds/vsaa-benefits/versions/0",
    ],
)
def test_a_version_no_database_integer_holds_is_simply_not_found(registry, path: str) -> None:  # type: ignore[no-untyped-def]
    assert requests.get(f"{registry.url}{path}", timeout=10).status_code == 404  # found by schemathesis: was a 500
