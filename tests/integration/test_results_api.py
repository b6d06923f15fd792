"""Decision results against a real registry: the applicant sees the decision and its verification code, and anyone
holding the code can check the result document, learning nothing personal."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from tests.fixtures.applications import who
from tests.integration.test_cases_api import NVA_WORKER, VSAA_DECIDER, decide, mine, new_case, step_answers

pytestmark = pytest.mark.integration

CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")
PUBLIC_FIELDS = {"reference", "service", "result", "decided_at", "institution"}


def approved_case(api: str) -> tuple[str, dict[str, Any]]:
    """A case that NVA passes on and VSAA approves; return its id and the applicant."""
    case_id, person = new_case(api)
    nva = {"step": "nva-status", "outcome": "approve", "answers": step_answers(api, "nva-status")}
    assert decide(api, NVA_WORKER, case_id, nva).status_code == 201
    body = {"step": "vsaa-benefit", "outcome": "approve", "answers": step_answers(api, "vsaa-benefit")}
    assert decide(api, VSAA_DECIDER, case_id, body | {"text": "Atbilst likuma prasībām."}).status_code == 201
    return case_id, person


def verify(api: str, code: str) -> requests.Response:
    return requests.get(f"{api}/verify/{code}", timeout=10)


def test_the_applicant_sees_the_decision_and_its_code(applications_api: str) -> None:
    case_id, person = approved_case(applications_api)
    application = mine(applications_api, person, case_id)
    assert application["status"] == "decided" and application["result"] == "approved"
    assert CODE.fullmatch(application["verification_code"])
    assert application["decided_at"] is not None
    decision = application["decision"]
    assert decision["outcome"] == "approve" and decision["text"] == "Atbilst likuma prasībām."
    assert decision["institution"] == "vsaa" and decision["decided_by"] == VSAA_DECIDER["name"]
    assert decision["at"] == application["decided_at"]


def test_anyone_verifies_a_code_in_any_case_with_or_without_dashes(applications_api: str) -> None:
    case_id, person = approved_case(applications_api)
    application = mine(applications_api, person, case_id)
    code = application["verification_code"]
    for typed in (code, code.lower(), code.replace("-", ""), code.replace("-", "").lower(), f"{code[:9]}{code[10:]}"):
        response = verify(applications_api, typed)  # no identity at all
        assert response.status_code == 200, (typed, response.text)
        assert response.headers["Cache-Control"] == "no-store"
        assert "ETag" not in response.headers
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Access-Control-Allow-Origin" not in response.headers
        assert response.json() == {
            "reference": application["reference"],
            "service": "bezdarbnieka-statusa-pieskirsana",
            "result": "approved",
            "decided_at": application["decided_at"],
            "institution": "vsaa",
        }


def test_the_verify_answer_holds_nothing_personal(applications_api: str) -> None:
    case_id, person = approved_case(applications_api)
    application = mine(applications_api, person, case_id)
    response = verify(applications_api, application["verification_code"])
    assert set(response.json()) == PUBLIC_FIELDS
    text = response.text
    for personal in (person["sub"], person["name"], VSAA_DECIDER["name"], VSAA_DECIDER["sub"], "Atbilst likuma"):
        assert personal not in text
    for answer in application["answers"].values():
        if isinstance(answer, str) and len(answer) > 3:
            assert answer not in text


def test_a_refused_case_has_a_code_too(applications_api: str) -> None:
    api = applications_api
    case_id, person = new_case(api)
    nva = {"step": "nva-status", "outcome": "approve", "answers": step_answers(api, "nva-status")}
    assert decide(api, NVA_WORKER, case_id, nva).status_code == 201
    refusal = {"step": "vsaa-benefit", "outcome": "refuse", "text": "Nav nepieciešamā apdrošināšanas stāža."}
    assert decide(api, VSAA_DECIDER, case_id, refusal).status_code == 201
    application = mine(api, person, case_id)
    assert application["result"] == "refused" and CODE.fullmatch(application["verification_code"])
    assert application["decision"]["outcome"] == "refuse"
    assert application["decision"]["text"] == "Nav nepieciešamā apdrošināšanas stāža."
    checked = verify(api, application["verification_code"]).json()
    assert checked["result"] == "refused" and checked["reference"] == application["reference"]


def test_undecided_applications_have_no_code_and_codes_differ(applications_api: str) -> None:
    open_id, person = new_case(applications_api)
    waiting = mine(applications_api, person, open_id)
    assert waiting["verification_code"] is None and waiting["decided_at"] is None and waiting["decision"] is None
    codes = set()
    for _ in range(2):
        case_id, someone = approved_case(applications_api)
        codes.add(mine(applications_api, someone, case_id)["verification_code"])
    assert len(codes) == 2


@pytest.mark.parametrize(
    "code",
    ["0000-0000-0000", "ZZZZZZZZZZZZ", "abcd-efgh-jkmn", "not-a-code", "1234", "ABCD-EFGH-JKMN-PQRS", "UUUU-UUUU-UUUU"],
)
def test_an_unknown_or_malformed_code_is_not_found(applications_api: str, code: str) -> None:
    response = verify(applications_api, code)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_verifying_needs_no_identity_but_ignores_one(applications_api: str) -> None:
    case_id, person = approved_case(applications_api)
    code = mine(applications_api, person, case_id)["verification_code"]
    # Somebody else signed in gets the same public facts, nothing more.
    response = requests.get(f"{applications_api}/verify/{code}", headers=who(NVA_WORKER), timeout=10)
    assert response.status_code == 200 and set(response.json()) == PUBLIC_FIELDS
