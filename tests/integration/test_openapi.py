"""The committed OpenAPI document matches the code, and the running registry matches the document."""

from __future__ import annotations

import json
import re

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import positive_data_acceptance

from registry import create_app
from registry.api.openapi import OPENAPI_PATH, build_openapi
from tests.fixtures.registry_server import RegistryProcess

pytestmark = pytest.mark.integration

schema = schemathesis.openapi.from_dict(build_openapi())


def test_committed_document_is_current() -> None:
    committed = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    assert committed == build_openapi(), "run `make openapi` and commit registry/openapi.json"


def test_every_route_is_documented_and_every_documented_path_routes() -> None:
    app = create_app({"DATABASE_URL": "sqlite://"})
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((method.lower(), path))
    documented = {(method, path) for path, item in build_openapi()["paths"].items() for method in item}
    assert routes == documented


def test_document_is_served(api: str) -> None:
    response = requests.get(f"{api}/openapi.json", timeout=10)
    assert response.status_code == 200
    assert response.json()["openapi"] == "3.1.0"
    assert response.json() == build_openapi()


@schema.include(method="GET").parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_reads_conform_to_the_document(case: schemathesis.Case, registry: RegistryProcess) -> None:
    # Valid-looking ids of services that do not exist are answered 404, which the document declares.
    case.call_and_validate(base_url=registry.url, excluded_checks=[positive_data_acceptance])


@pytest.fixture(scope="module")
def pmlp_token(writable_registry: RegistryProcess) -> str:
    return writable_registry.token("pmlp")


@schema.include(method="PUT").parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_publishing_never_fails_with_a_server_error(
    case: schemathesis.Case, writable_registry: RegistryProcess, pmlp_token: str
) -> None:
    response = case.call(base_url=writable_registry.url, headers={"Authorization": f"Bearer {pmlp_token}"})
    case.validate_response(response, checks=[not_a_server_error])


@schema.include(method="POST").parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_importing_never_fails_with_a_server_error(
    case: schemathesis.Case, writable_registry: RegistryProcess, pmlp_token: str
) -> None:
    response = case.call(base_url=writable_registry.url, headers={"Authorization": f"Bearer {pmlp_token}"})
    case.validate_response(response, checks=[not_a_server_error])
