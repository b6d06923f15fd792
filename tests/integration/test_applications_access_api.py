"""Who may see what among drafts and applications: identities, principals, logs, and the documented operations."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from itsdangerous import URLSafeTimedSerializer
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from forms.model import FormDefinition
from identity import SALT, sign_identity
from registry import create_app
from registry.api.openapi import build_openapi
from tests.fixtures.applications import (
    ANNA,
    BRUNO,
    BUSINESS_SERVICE,
    FUZZER,
    REP,
    REP_OTHER_COMPANY,
    REP_SAME_COMPANY,
    SECRET,
    fresh_person,
    key,
    start_draft,
    submission,
    submit,
    upload_file,
    who,
)
from tests.fixtures.registry_server import RegistryProcess

pytestmark = pytest.mark.integration


# --- identity --------------------------------------------------------------------------------------------------


def _expired_token() -> str:
    real = time.time
    try:
        time.time = lambda: real() - 301  # type: ignore[assignment]
        return sign_identity(SECRET, ANNA)
    finally:
        time.time = real  # type: ignore[assignment]


OPERATIONS = [
    ("get", "/me/drafts"),
    ("post", "/me/drafts"),
    ("get", "/me/drafts/" + "a" * 32),
    ("put", "/me/drafts/" + "a" * 32),
    ("delete", "/me/drafts/" + "a" * 32),
    ("post", "/applications"),
    ("get", "/me/applications"),
    ("get", "/me/applications/" + "a" * 32),
    ("post", "/me/applications/" + "a" * 32 + "/withdraw"),
]


@pytest.mark.parametrize(
    "token",
    [
        None,
        "garbage",
        "wrong-secret",
        "expired",
        "wrong-salt",
        "malformed-claims",
    ],
)
def test_without_a_valid_identity_everything_is_401(applications_api: str, token: str | None) -> None:
    tokens = {
        None: None,
        "garbage": "not.a.token",
        "wrong-secret": sign_identity("dev-identity-secret-not-for-production", ANNA),
        "expired": _expired_token(),
        "wrong-salt": URLSafeTimedSerializer(SECRET, salt="other").dumps(ANNA),
        "malformed-claims": URLSafeTimedSerializer(SECRET, salt=SALT).dumps({**ANNA, "kind": "staff"}),
    }
    headers = {} if tokens[token] is None else {"X-Portal-Identity": str(tokens[token])}
    for method, path in OPERATIONS:
        response = requests.request(method, f"{applications_api}{path}", json={}, headers=headers | key(), timeout=10)
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.headers["Cache-Control"] == "no-store"
        assert "PortalIdentity" in response.headers["WWW-Authenticate"]
        assert ANNA["sub"] not in response.text


# --- access matrix ---------------------------------------------------------------------------------------------


def test_nobody_reaches_another_principals_drafts(applications_api: str) -> None:
    mine = start_draft(applications_api, ANNA).json()
    url = f"{applications_api}/me/drafts/{mine['id']}"
    for intruder in (BRUNO, REP):
        assert requests.get(url, headers=who(intruder), timeout=10).status_code == 404
        put = requests.put(url, json={"answers": {"applicant_name": "X"}}, headers=who(intruder), timeout=10)
        assert put.status_code == 404
        assert requests.delete(url, headers=who(intruder), timeout=10).status_code == 404
        listed = requests.get(f"{applications_api}/me/drafts", headers=who(intruder), timeout=10).json()
        assert mine["id"] not in {d["id"] for d in listed["items"]}
        stolen = submit(applications_api, intruder, {"draft_id": mine["id"]})
        assert stolen.status_code == 404
    assert requests.get(url, headers=who(ANNA), timeout=10).json()["answers"] == {}  # untouched


def test_company_drafts_belong_to_the_company(applications_api: str) -> None:
    company_draft = start_draft(applications_api, REP, BUSINESS_SERVICE).json()
    own_draft = start_draft(
        applications_api, {**ANNA, "sub": REP["sub"], "name": REP["name"]}
    ).json()  # the same person, privately
    url = f"{applications_api}/me/drafts/{company_draft['id']}"
    assert requests.get(url, headers=who(REP_SAME_COMPANY), timeout=10).status_code == 200  # a colleague sees it
    assert requests.get(url, headers=who(REP_OTHER_COMPANY), timeout=10).status_code == 404
    assert requests.get(url, headers=who({**ANNA, "sub": REP["sub"]}), timeout=10).status_code == 404  # not privately
    as_company = {
        d["id"] for d in requests.get(f"{applications_api}/me/drafts", headers=who(REP), timeout=10).json()["items"]
    }
    assert company_draft["id"] in as_company and own_draft["id"] not in as_company
    own_url = f"{applications_api}/me/drafts/{own_draft['id']}"
    assert requests.get(own_url, headers=who(REP), timeout=10).status_code == 404


def test_nobody_reaches_another_principals_applications(
    applications_api: str, residence_form: tuple[int, FormDefinition]
) -> None:
    created = submit(applications_api, ANNA, submission(applications_api, residence_form, ANNA))
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    for intruder in (BRUNO, REP):
        detail = requests.get(f"{applications_api}/me/applications/{application_id}", headers=who(intruder), timeout=10)
        assert detail.status_code == 404
        withdraw = requests.post(
            f"{applications_api}/me/applications/{application_id}/withdraw", headers=who(intruder), timeout=10
        )
        assert withdraw.status_code == 404
        listed = requests.get(f"{applications_api}/me/applications", headers=who(intruder), timeout=10).json()
        assert application_id not in {a["id"] for a in listed["items"]}
    mine = requests.get(f"{applications_api}/me/applications/{application_id}", headers=who(ANNA), timeout=10).json()
    assert mine["status"] == "submitted"
    for malformed in ("not-an-id", "A" * 32, "a" * 33):
        assert (
            requests.get(f"{applications_api}/me/applications/{malformed}", headers=who(ANNA), timeout=10).status_code
            == 404
        )


# --- logs ------------------------------------------------------------------------------------------------------


def test_database_errors_never_log_personal_codes(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # A database without tables fails every query; SQLAlchemy's message would list the principal it was given.
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}", "IDENTITY_SECRET": SECRET})
    client = app.test_client()
    with caplog.at_level(logging.ERROR):
        for path in ("/api/v1/me/drafts", "/api/v1/me/applications"):
            response = client.get(path, headers=who(ANNA))
            assert response.status_code == 500 and ANNA["sub"] not in response.text
    assert "OperationalError" in caplog.text  # the failure is logged...
    assert ANNA["sub"] not in caplog.text  # ...without the personal code


# --- the document describes these operations -------------------------------------------------------------------


def test_every_personal_get_is_no_store_and_data_only(
    applications_api: str, residence_form: tuple[int, FormDefinition]
) -> None:
    person = fresh_person()
    draft_id = start_draft(applications_api, person).json()["id"]
    application_id = submit(applications_api, person, submission(applications_api, residence_form, person)).json()["id"]
    file_id = upload_file(applications_api, person, ("pdf",))["file_id"]
    ids = {"draft_id": draft_id, "application_id": application_id, "file_id": file_id}
    personal = [
        path
        for path, item in build_openapi()["paths"].items()
        if "get" in item and {"portalIdentity": []} in item["get"].get("security", []) and "/me/" in path
    ]
    assert len(personal) == 7  # drafts (2), applications (2), files, messages, payments of an application
    root = applications_api.removesuffix("/api/v1")
    for path in personal:
        response = requests.get(f"{root}{path.format(**ids)}", headers=who(person), timeout=10)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "Access-Control-Allow-Origin" not in response.headers
        assert person["sub"] not in path.format(**ids)


schema = schemathesis.openapi.from_dict(build_openapi())


@schema.include(path_regex=r"^/api/v1/(me/|applications)").parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_personal_operations_conform_to_the_document(
    case: schemathesis.Case, applications_registry: RegistryProcess
) -> None:
    # A signed-in person with arbitrary bodies, ids and keys: never a server error, always a documented answer.
    response = case.call(base_url=applications_registry.url, headers=who(FUZZER))
    case.validate_response(
        response,
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )


def test_a_service_that_lists_only_eid_and_eparaksts_refuses_an_internet_bank_sign_in(applications_api: str) -> None:
    """The e-address lists only eID card and eParaksts (acr high); the residence declaration an internet bank too."""
    from tests.fixtures.applications import BANK_ANNA

    for service, status in (("e-adreses-izveide", 403), ("dzivesvietas-deklaresana", 201)):
        response = requests.post(
            f"{applications_api}/me/drafts",
            json={"service": service, "form": "application"},
            headers=who(BANK_ANNA),
            timeout=10,
        )
        assert response.status_code == status, (service, response.text)
        if status == 403:
            assert "eID" in response.json()["detail"]
        else:
            requests.delete(f"{applications_api}/me/drafts/{response.json()['id']}", headers=who(BANK_ANNA), timeout=10)
