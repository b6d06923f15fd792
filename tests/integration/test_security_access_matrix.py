"""Who may do what in the registry API: every personal and staff operation on one object, by every kind of actor.

QUALITY.md, Access control: "Object-level checks in the registry: citizen A gets 404 for B's application, draft or
attachment; staff of institution A get 404 for B's cases; the tenant comes from the signed identity, never from URL
or form." [8.2.2, 8.4.1, 8.3.1]

The actors: the owner (the applicant), another person, an employee of the institution the case is with, an
employee of another institution, and someone without an identity. The objects belong to one applicant's case at
NVA's step of the unemployed status service (tests/integration/test_cases_api.py), with a draft, an upload, a file
in the case, a message, a question to another institution and, for payments, a company's application with a fee.
A refusal changes nothing, so refusals share one set of objects; an operation that succeeds and changes something
gets objects of its own. Finer rules (company colleagues, keys, the steps of a case) have their own tests:
test_applications_access_api.py, test_cases_api.py, test_data_requests_api.py, test_payments_api.py.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.fixtures.applications import BRUNO, REP, start_draft, upload_file, who
from tests.integration.test_cases_api import NVA_WORKER, PMLP_WORKER, decide, new_case
from tests.integration.test_payments_api import UR_WORKER, apply

pytestmark = pytest.mark.integration

OWNER, OTHER_PERSON, EMPLOYEE, OTHER_EMPLOYEE, ANONYMOUS = (
    "owner",
    "another person",
    "employee of the institution",
    "employee of another institution",
    "anonymous",
)
ACTORS = (OWNER, OTHER_PERSON, EMPLOYEE, OTHER_EMPLOYEE, ANONYMOUS)


@dataclass
class World:
    """One applicant's objects, and who is who for them."""

    ids: dict[str, str]
    claims: dict[str, dict[str, Any] | None]


def case_world(api: str) -> World:
    """An applicant's case at NVA's step, with a draft, an upload, a file in the case, a message and a question."""
    case_id, owner = new_case(api)
    draft_id = start_draft(api, owner).json()["id"]
    file_id = upload_file(api, owner, ("pdf",))["file_id"]
    asked = decide(api, NVA_WORKER, case_id, {"step": "nva-status", "outcome": "request_info", "text": "Izziņu."})
    assert asked.status_code == 201, asked.text
    case_file = upload_file(api, owner, ("pdf",))["file_id"]
    answer = {"text": "Pievienoju.", "files": [case_file]}
    answered = requests.post(
        f"{api}/me/applications/{case_id}/information", json=answer, headers=who(owner), timeout=10
    )
    assert answered.status_code == 200, answered.text
    messages = requests.get(f"{api}/me/messages", headers=who(owner), timeout=10).json()["items"]
    message_id = next(m["id"] for m in messages if m.get("application") in (case_id, None))
    question = requests.post(
        f"{api}/staff/cases/{case_id}/data-requests",
        json={"to_institution": "vsaa", "text": "Vai persona saņem pabalstu?"},
        headers=who(NVA_WORKER),
        timeout=10,
    )
    assert question.status_code == 201, question.text
    ids = {
        "case": case_id,
        "draft": draft_id,
        "file": file_id,
        "case_file": case_file,
        "message": message_id,
        "request": question.json()["id"],
    }
    claims = {
        OWNER: owner,
        OTHER_PERSON: {**BRUNO, "sub": "010101-10009", "name": "Cita Persona"},
        EMPLOYEE: NVA_WORKER,
        OTHER_EMPLOYEE: PMLP_WORKER,
        ANONYMOUS: None,
    }
    return World(ids, claims)


def payment_world(api: str) -> World:
    """A company's application waiting for its fee (UR's service), with the payment."""
    application_id = apply(api)
    listed = requests.get(f"{api}/me/applications/{application_id}/payments", headers=who(REP), timeout=10)
    payment_id = listed.json()["items"][0]["id"]
    claims = {OWNER: REP, OTHER_PERSON: BRUNO, EMPLOYEE: UR_WORKER, OTHER_EMPLOYEE: PMLP_WORKER, ANONYMOUS: None}
    return World({"case": application_id, "payment": payment_id}, claims)


@dataclass(frozen=True)
class Operation:
    """One API operation on the objects of a world; `allowed` is who it is for, `ok` its answer to them."""

    name: str
    method: str
    path: str
    side: str  # "me": the applicant's side, "staff": an institution's
    ok: int
    changes: bool = False
    body: Any = None
    world: str = "case"


OPERATIONS = [
    Operation("read a draft", "GET", "/me/drafts/{draft}", "me", 200),
    Operation("save a draft", "PUT", "/me/drafts/{draft}", "me", 200, body={"answers": {}}),
    Operation("delete a draft", "DELETE", "/me/drafts/{draft}", "me", 204, changes=True),
    Operation("read an application", "GET", "/me/applications/{case}", "me", 200),
    Operation("withdraw an application", "POST", "/me/applications/{case}/withdraw", "me", 200, changes=True),
    # No question is open any more: the owner is let in, and told so.
    Operation("answer a question", "POST", "/me/applications/{case}/information", "me", 409, body={"text": "x"}),
    Operation("read an upload", "GET", "/me/files/{file}", "me", 200),
    Operation("delete an upload", "DELETE", "/me/files/{file}", "me", 204, changes=True),
    Operation("mark a message read", "POST", "/me/messages/{message}/read", "me", 204),
    Operation("read the payments", "GET", "/me/applications/{case}/payments", "me", 200, world="payment"),
    Operation(
        "start a payment",
        "POST",
        "/me/applications/{case}/payments/{payment}/start",
        "me",
        200,
        changes=True,
        world="payment",
    ),
    Operation("open a case", "GET", "/staff/cases/{case}", "staff", 200),
    Operation("download a file of a case", "GET", "/staff/cases/{case}/files/{case_file}", "staff", 200),
    Operation("take a case", "POST", "/staff/cases/{case}/claim", "staff", 200, changes=True),
    Operation("give a case back", "POST", "/staff/cases/{case}/release", "staff", 409),  # nobody has taken it
    Operation(
        "give a case to a colleague",
        "POST",
        "/staff/cases/{case}/assign",
        "staff",
        422,  # not a colleague the registry knows of: the institution's employee is let in, and told so
        body={"to": "327654-32109"},  # nobody's code: other tests of the shared registry make NVA_COLLEAGUE known
    ),
    Operation(
        "decide a step",
        "POST",
        "/staff/cases/{case}/decisions",
        "staff",
        201,
        changes=True,
        body={"step": "nva-status", "outcome": "request_info", "text": "Vēl vienu izziņu."},
    ),
    Operation(
        "ask another institution",
        "POST",
        "/staff/cases/{case}/data-requests",
        "staff",
        201,
        changes=True,
        body={"to_institution": "vsaa", "text": "Vai persona ir reģistrēta?"},
    ),
    Operation("read a question it asked", "GET", "/staff/data-requests/{request}", "staff", 200),
    # Only the asked institution answers; the asking one is refused (test_data_requests_api.py).
    Operation("answer its own question", "POST", "/staff/data-requests/{request}/answer", "staff", 403, body={}),
]


def expected(operation: Operation, actor: str) -> int:
    """The answer each actor gets: the object's own side gets `ok`, strangers 404, the wrong side 403."""
    if actor == ANONYMOUS:
        return 401
    if operation.side == "me":
        return {OWNER: operation.ok, OTHER_PERSON: 404}.get(actor, 403)
    return {EMPLOYEE: operation.ok, OTHER_EMPLOYEE: 404}.get(actor, 403)


@pytest.fixture(scope="module")
def worlds(applications_api: str) -> dict[str, World]:
    return {"case": case_world(applications_api), "payment": payment_world(applications_api)}


def call(api: str, operation: Operation, world: World, claims: dict[str, Any] | None) -> requests.Response:
    headers = {"Idempotency-Key": uuid.uuid4().hex, **(who(claims) if claims is not None else {})}
    return requests.request(
        operation.method,
        f"{api}{operation.path.format(**world.ids)}",
        json=operation.body,
        headers=headers,
        timeout=10,
    )


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("operation", OPERATIONS, ids=[o.name for o in OPERATIONS])
def test_the_access_matrix(applications_api: str, worlds: dict[str, World], operation: Operation, actor: str) -> None:
    want = expected(operation, actor)
    allowed = want == operation.ok and actor in (OWNER, EMPLOYEE)
    # A success that changes something gets objects of its own; refusals change nothing and share theirs.
    builders = {"case": case_world, "payment": payment_world}
    world = builders[operation.world](applications_api) if allowed and operation.changes else worlds[operation.world]
    before = snapshot(applications_api, world)
    response = call(applications_api, operation, world, world.claims[actor])
    assert response.status_code == want, (operation.name, actor, response.text)
    if response.status_code >= 400:
        assert response.headers["Content-Type"] == "application/problem+json"
        assert world.claims[OWNER]["sub"] not in response.text  # type: ignore[index]
        assert snapshot(applications_api, world) == before, "a refused request changed something"


def snapshot(api: str, world: World) -> dict[str, Any]:
    """What the owner and the institution see of the objects (what a refused request must leave as it was)."""
    owner = who(world.claims[OWNER])
    seen: dict[str, Any] = {}
    case = world.ids["case"]
    mine = requests.get(f"{api}/me/applications/{case}", headers=owner, timeout=10).json()
    seen["application"] = {k: mine.get(k) for k in ("status", "timeline", "result")}
    if "draft" in world.ids:
        seen["draft"] = requests.get(f"{api}/me/drafts/{world.ids['draft']}", headers=owner, timeout=10).json()
        seen["file"] = requests.get(f"{api}/me/files/{world.ids['file']}", headers=owner, timeout=10).status_code
        messages = requests.get(f"{api}/me/messages", headers=owner, timeout=10).json()["items"]
        seen["messages"] = [(m["id"], m.get("read")) for m in messages]
        staff = requests.get(f"{api}/staff/cases/{case}", headers=who(NVA_WORKER), timeout=10).json()
        seen["case"] = {k: staff.get(k) for k in ("status", "assigned_to", "step")}
        seen["case_events"] = [(e["kind"], e.get("outcome")) for e in staff["timeline"] if e["kind"] != "view"]
        question = requests.get(
            f"{api}/staff/data-requests/{world.ids['request']}", headers=who(NVA_WORKER), timeout=10
        )
        seen["request"] = question.json().get("status")
    else:
        payments = requests.get(f"{api}/me/applications/{case}/payments", headers=owner, timeout=10).json()
        seen["payments"] = [(p["id"], p["status"]) for p in payments["items"]]
    return seen


# --- lists never show another principal's objects ---------------------------------------------------------------


def listed(api: str, path: str, claims: dict[str, Any], **params: str) -> list[str]:
    response = requests.get(f"{api}{path}", params={"per_page": "100", **params}, headers=who(claims), timeout=10)
    assert response.status_code == 200, (path, response.text)
    return [item["id"] for item in response.json()["items"]]


def test_lists_show_nobody_elses_objects(applications_api: str, worlds: dict[str, World]) -> None:
    api, world = applications_api, worlds["case"]
    owner, other = world.claims[OWNER], world.claims[OTHER_PERSON]
    assert owner is not None and other is not None
    for path, key in (("/me/drafts", "draft"), ("/me/applications", "case"), ("/me/messages", "message")):
        assert world.ids[key] in listed(api, path, owner), path
        assert world.ids[key] not in listed(api, path, other), path
    for scope in ("queue", "involved"):
        assert world.ids["case"] not in listed(api, "/staff/cases", PMLP_WORKER, scope=scope)
    assert world.ids["case"] in listed(api, "/staff/cases", NVA_WORKER, scope="involved")
    for direction in ("incoming", "outgoing"):
        assert world.ids["request"] not in listed(api, "/staff/data-requests", PMLP_WORKER, direction=direction)
    assert world.ids["request"] in listed(api, "/staff/data-requests", NVA_WORKER, direction="outgoing")


# --- the tenant comes from the signed identity, never from the URL or the body -------------------------------------


def test_the_institution_comes_from_the_identity_not_the_query(applications_api: str, worlds: dict[str, World]) -> None:
    case_id = worlds["case"].ids["case"]
    for name in ("institution", "tenant", "as"):
        assert case_id not in listed(applications_api, "/staff/cases", PMLP_WORKER, **{name: "nva"}, scope="involved")
    other = requests.get(
        f"{applications_api}/staff/cases/{case_id}",
        params={"institution": "nva"},
        headers=who(PMLP_WORKER),
        timeout=10,
    )
    assert other.status_code == 404


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/staff/cases/{case}/decisions", {"step": "nva-status", "outcome": "request_info", "institution": "pmlp"}),
        ("/staff/cases/{case}/data-requests", {"to_institution": "vsaa", "text": "?", "from_institution": "pmlp"}),
        ("/me/applications/{case}/information", {"text": "x", "principal": "010101-10009"}),
    ],
)
def test_a_body_cannot_name_the_institution_or_the_principal(
    applications_api: str, worlds: dict[str, World], path: str, body: dict[str, Any]
) -> None:
    world = worlds["case"]
    claims = world.claims[OWNER] if path.startswith("/me/") else NVA_WORKER
    before = snapshot(applications_api, world)
    response = requests.post(
        f"{applications_api}{path.format(**world.ids)}",
        json=body,
        headers=who(claims, **{"Idempotency-Key": uuid.uuid4().hex}),
        timeout=10,
    )
    assert response.status_code == 422, response.text  # an unknown field: refused, not believed
    assert snapshot(applications_api, world) == before
