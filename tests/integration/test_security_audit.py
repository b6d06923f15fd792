"""The audit trail, and what never reaches URLs or logs.

QUALITY.md: "Append-only audit of staff views and decisions: who, institution, case, outcome, definition version,
time" [16.2.1] and "No personal codes or tokens in URLs or logs; CR/LF escaped in logs" [14.2.1, 16.2.5].
That entries are never changed or deleted is also checked in the code by the semgrep rule `audit-trail-changed`
(.semgrep/audit.yml, `make security`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import Engine, text

from registry import create_app as create_registry
from registry.api.openapi import build_openapi
from tests.fixtures.applications import demo_claims, fresh_person, who
from tests.fixtures.portal import make_portal
from tests.fixtures.registry_server import RegistryProcess
from tests.integration.test_cases_api import NVA_WORKER, case, decide, new_case, step_answers
from tests.integration.test_portal_staff import residence_case
from tests.integration.test_security_routes import ILZE, client_of

pytestmark = pytest.mark.integration


def events(database: Engine, case_id: str) -> list[dict[str, Any]]:
    with database.connect() as connection:
        rows = connection.execute(
            text("SELECT * FROM case_events WHERE application_id = :id ORDER BY id"), {"id": case_id}
        ).mappings()
        return [dict(row) for row in rows]


def recent(at: Any) -> bool:
    moment = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return abs(datetime.now(UTC) - moment) < timedelta(minutes=5)


def test_a_decision_is_audited_with_who_institution_case_outcome_version_and_time(
    applications_api: str, applications_database: Engine
) -> None:
    case_id, person = new_case(applications_api)
    body = {"step": "nva-status", "outcome": "approve", "answers": step_answers(applications_api, "nva-status")}
    assert decide(applications_api, NVA_WORKER, case_id, body).status_code == 201
    decision = next(e for e in events(applications_database, case_id) if e["kind"] == "decision")
    assert decision["actor_sub"] == NVA_WORKER["sub"] and decision["actor_name"] == NVA_WORKER["name"]
    assert decision["institution"] == "nva" and decision["application_id"] == case_id
    assert decision["outcome"] == "approve" and decision["step"] == "nva-status"
    assert decision["form"] == "nva-status" and decision["form_version"] == 1  # the definition it was decided on
    assert decision["answers"] and recent(decision["at"])
    # The institution sees the same entry in the case's timeline.
    timeline = case(applications_api, NVA_WORKER, case_id).json()["timeline"]
    shown = next(e for e in timeline if e["kind"] == "decision")
    assert shown["actor"]["name"] == NVA_WORKER["name"] and shown["institution"] == "nva"
    assert shown["outcome"] == "approve" and shown["form_version"] == 1 and shown["at"]
    assert person["sub"] not in str(shown)


def test_every_opening_of_a_case_is_audited(applications_api: str, applications_database: Engine) -> None:
    case_id, _ = new_case(applications_api)
    for _ in range(2):
        assert case(applications_api, NVA_WORKER, case_id).status_code == 200
    views = [e for e in events(applications_database, case_id) if e["kind"] == "view"]
    assert len(views) == 2
    assert all(v["actor_sub"] == NVA_WORKER["sub"] and v["institution"] == "nva" and recent(v["at"]) for v in views)


def test_a_case_opened_in_the_portal_is_audited_under_the_employee(
    applications_registry: RegistryProcess, applications_database: Engine
) -> None:
    api = f"{applications_registry.url}/api/v1"
    reference = residence_case(api)
    portal: Flask = make_portal(applications_registry.url, RATELIMIT_ENABLED=False)
    page = client_of(portal, "riga", ILZE).get(f"/lv/staff/cases/{reference['id']}", headers={"Host": "riga.localhost"})
    assert page.status_code == 200
    views = [e for e in events(applications_database, reference["id"]) if e["kind"] == "view"]
    employee = demo_claims(ILZE)
    assert [(v["actor_sub"], v["institution"]) for v in views] == [(employee["sub"], employee["institution"])]


def test_a_refused_action_is_not_recorded_as_done(applications_api: str, applications_database: Engine) -> None:
    case_id, _ = new_case(applications_api)
    before = events(applications_database, case_id)
    refused = decide(applications_api, NVA_WORKER, case_id, {"step": "vsaa-benefit", "outcome": "approve"})
    assert refused.status_code in (403, 409, 422)
    assert events(applications_database, case_id) == before


def test_the_api_offers_no_way_to_change_the_trail() -> None:
    app = create_registry({"DATABASE_URL": "sqlite://"})
    for rule in app.url_map.iter_rules():
        if "timeline" in rule.rule or "events" in rule.rule or "audit" in rule.rule:
            assert set(rule.methods or ()) <= {"GET", "HEAD", "OPTIONS"}, rule.rule
    document = build_openapi()
    for path, item in document["paths"].items():
        for method in set(item) & {"put", "patch", "delete"}:
            assert not re.search(r"event|timeline|audit", path), (method, path)


# --- no personal codes or tokens in URLs -------------------------------------------------------------------------

PERSONAL = re.compile(r"(?i)(personal|person_code|sub|principal|identity|token|password|secret|ssn)")


def test_no_url_carries_a_personal_code_or_a_token(applications_registry: RegistryProcess) -> None:
    """Ids in paths are random; what identifies a person travels in the signed X-Portal-Identity header only."""
    document = build_openapi()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") in ("path", "query"):
                    assert not PERSONAL.search(parameter["name"]), (method, path, parameter["name"])
    portal = make_portal(applications_registry.url)
    for rule in portal.url_map.iter_rules():
        for name in rule.arguments:
            assert not PERSONAL.search(name), rule.rule


def test_signing_in_puts_no_personal_code_in_a_url(applications_registry: RegistryProcess) -> None:
    portal = make_portal(applications_registry.url, RATELIMIT_ENABLED=False)
    client = portal.test_client()
    host = {"Host": "localhost"}
    html = client.get("/lv/sign-in", headers=host).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token is not None
    signed = client.post("/lv/sign-in", data={"csrf_token": token[1], "person": "liga-berzina"}, headers=host)
    sub = demo_claims("liga-berzina")["sub"]
    assert sub not in signed.headers["Location"]
    assert f'value="{sub}"' not in html  # the demo form sends a person's id, not the personal code
    page = client.get(signed.headers["Location"], headers=host).get_data(as_text=True)
    assert not [href for href in re.findall(r'href="([^"]+)"', page) if sub in href or sub.replace("-", "") in href]


# --- logs: no personal codes, no forged lines -----------------------------------------------------------------------


def registry_log(registry: RegistryProcess) -> Path:
    return Path(registry.database_url.removeprefix("sqlite:///")).parent / "gunicorn.log"


FORGED = "[01/Jan/2026:00:00:00 +0000] FORGED"


def test_hostile_requests_forge_no_log_lines_and_log_no_personal_codes(applications_registry: RegistryProcess) -> None:
    log = registry_log(applications_registry)
    if not log.exists():
        pytest.skip("this registry does not log to a file")
    start = log.stat().st_size
    api = f"{applications_registry.url}/api/v1"
    person = fresh_person()
    case_id, applicant = new_case(api)
    for path in (
        f"/staff/cases/x%0d%0a{FORGED}/claim",
        f"/staff/cases/{case_id}/decisions%0a{FORGED}",
        f"/me/applications/%0A{FORGED}",
        f"/verify/%0d%0a{FORGED}",
    ):
        requests.post(f"{api}{path}", headers=who(NVA_WORKER), timeout=10)
        requests.get(f"{api}{path}", headers=who(person), timeout=10)
    # A refused case action is logged (institution and path): with a real case, and a step that is not NVA's.
    decide(api, NVA_WORKER, case_id, {"step": "vsaa-benefit", "outcome": "approve"})
    requests.get(f"{api}/me/applications", params={"q": person["sub"]}, headers=who(person), timeout=10)
    written = log.read_text(encoding="utf-8", errors="replace")[start:]
    assert written, "nothing was logged"
    assert not [line for line in written.splitlines() if line.startswith(FORGED) or line.startswith("[01/Jan/2026")]
    for personal in (person["sub"], applicant["sub"], NVA_WORKER["sub"]):
        assert personal not in written
    assert "X-Portal-Identity" not in written and who(person)["X-Portal-Identity"] not in written


def test_the_portal_logs_no_forged_lines(
    applications_registry: RegistryProcess, caplog: pytest.LogCaptureFixture
) -> None:
    portal = make_portal(applications_registry.url, RATELIMIT_ENABLED=False)
    client = client_of(portal, "latvija", ILZE)
    with caplog.at_level("DEBUG"):
        for path in (f"/lv/staff/cases/x%0d%0a{FORGED}", f"/lv/services/x%0a{FORGED}", f"/lv/verify/%0a{FORGED}"):
            client.get(path, headers={"Host": "localhost", "X-Request-ID": "abc"})
    for record in caplog.records:
        assert "\n" not in record.getMessage() and "\r" not in record.getMessage(), record.getMessage()
