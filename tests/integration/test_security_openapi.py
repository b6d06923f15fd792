"""Every operation of the registry's OpenAPI document, fuzzed with the credentials it asks for: never a 5xx.

QUALITY.md: "schemathesis (against the registry OpenAPI)" and "No stack traces, SQL, or secrets in responses"
[16.5.1]. The other suites fuzz parts of the document in more depth and check conformance as well
(test_openapi.py: reads, publishing, imports; test_applications_access_api.py: the personal operations;
test_cases_api.py: the staff operations). This one is the net under all of them: each documented operation, with
a few examples each (bounded), as the caller it is documented for: a person, an employee, an institution's system
(publisher token) or anyone. Publishing and importing rewrite the catalogue other tests read, so they are fuzzed on
their own registry in test_openapi.py and left out here.
"""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from registry.api.openapi import build_openapi
from tests.fixtures.applications import who
from tests.fixtures.registry_server import RegistryProcess
from tests.integration.test_cases_api import employee

pytestmark = pytest.mark.integration

DOCUMENT = build_openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT)
# Operations that change the catalogue: fuzzed on their own registry (test_openapi.py).
CATALOGUE_WRITES = {("PUT", "/api/v1/services/{service_id}"), ("POST", "/api/v1/import/cpsv-ap")}
PERSON = {
    "sub": "320000-00003",
    "name": "Drošības Pārbaude",
    "kind": "person",
    "company": None,
    "company_name": None,
    "acr": "high",
}
EMPLOYEE = employee("vsaa", "case_worker", "decision_maker", sub="320000-00004", name="Drošības Pārbaude")
TRACES = ("Traceback", 'File "', "sqlalchemy", "OperationalError", "IntegrityError")


def security_of(method: str, path: str) -> set[str]:
    operation = DOCUMENT["paths"][path][method.lower()]
    return {name for requirement in operation.get("security", []) for name in requirement}


def test_every_operation_says_who_may_call_it() -> None:
    """Each operation either declares its credentials or is public on purpose (the catalogue, a signed callback)."""
    public = {
        (method.upper(), path)
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        if not operation.get("security")
    }
    assert {(m, p) for m, p in public if m != "GET"} == {("POST", "/api/v1/payments/callback")}
    assert not [p for m, p in public if "/me/" in p or "/staff/" in p or "/institution/" in p]


@pytest.fixture(scope="module")
def institution_token(applications_registry: RegistryProcess) -> str:
    return applications_registry.token("vsaa")


@(
    schema.exclude(method="PUT", path="/api/v1/services/{service_id}")
    .exclude(method="POST", path="/api/v1/import/cpsv-ap")
    .parametrize()
)
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_fails_with_a_server_error(
    case: schemathesis.Case, applications_registry: RegistryProcess, institution_token: str
) -> None:
    method, path = case.operation.method.upper(), case.operation.path
    assert (method, path) not in CATALOGUE_WRITES
    security = security_of(method, path)
    headers: dict[str, str] = {}
    if "publisherToken" in security:
        headers["Authorization"] = f"Bearer {institution_token}"
    if "portalIdentity" in security:
        headers |= who(EMPLOYEE if "/staff/" in path else PERSON)
    response = case.call(base_url=applications_registry.url, headers=headers)
    case.validate_response(response, checks=[not_a_server_error])
    assert not any(trace in response.text for trace in TRACES), (method, path, response.text[:300])


@pytest.mark.parametrize("path", ["/api/v1/services", "/api/v1/me/applications", "/api/v1/staff/cases", "/healthz"])
def test_the_registry_allows_no_browser_origin(applications_registry: RegistryProcess, path: str) -> None:
    """Only the portal's server calls the registry: a browser on another site gets no CORS permission to read it."""
    url = f"{applications_registry.url}{path}"
    origin = {"Origin": "https://evil.example"}
    preflight = requests.options(
        url,
        headers={
            **origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-portal-identity",
        },
        timeout=10,
    )
    plain = requests.get(url, headers={**origin, **who(PERSON)}, timeout=10)
    for response in (preflight, plain):
        assert not [name for name in response.headers if name.lower().startswith("access-control-")], path
        assert response.status_code < 500
