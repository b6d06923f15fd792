"""The staff models: registry JSON wrapped once, and the outcome rules of docs/processing.md; the client's checks."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from app.models.staff_api import Case, Queue, QueueItem, TimelineEntry
from app.registry_client.errors import RegistryNotFound
from app.registry_client.staff import StaffClient
from identity import Identity

NVA = {"lv": "NVA solis", "en": "NVA step"}
STEPS = [
    {"id": "nva-status", "institution": "nva", "title": NVA, "form": "nva-status", "state": "done"},
    {"id": "vsaa-benefit", "institution": "vsaa", "title": {"lv": "VSAA", "en": "VSAA"}, "form": "vsaa-benefit"},
]


def employee(institution: str, *roles: str, sub: str = "120985-16206") -> Identity:
    return Identity(sub=sub, name="Darbinieks", kind="employee", acr="high", institution=institution, roles=roles)


def case_json(step: int = 0, status: str = "submitted", **changes: Any) -> dict[str, Any]:
    steps = [dict(s, state="done" if i < step else "current" if i == step else "waiting") for i, s in enumerate(STEPS)]
    return {
        "id": "a" * 32,
        "reference": "PT-2026-000001",
        "service": "bezdarbnieka-statusa-pieskirsana",
        "status": status,
        "result": None,
        "applicant_name": "Līga Bērziņa",
        "principal": "161175-19997",
        "acting_for": None,
        "form": "application",
        "form_version": 2,
        "answers": {"x": 1},
        "files": [{"id": "b" * 32, "name": "līgums.pdf", "size": 1200, "content_type": "application/pdf"}, {}],
        "process": {"version": 1, "steps": steps},
        "step": {**STEPS[step], "form_version": 3},
        "assigned_to": None,
        "submitted_at": "2026-11-02T08:00:00Z",
        "due_at": "2026-11-30T22:30:00Z",
        "timeline": [
            {"at": "2026-11-02T09:00:00Z", "kind": "view", "actor": {"sub": "x", "name": "A"}},
            {
                "at": "2026-11-02T10:00:00Z",
                "kind": "decision",
                "step": "nva-status",
                "outcome": "approve",
                "actor": {"sub": "030478-14081", "name": "Anna"},
                "text": None,
                "answers": None,
            },
        ],
        **changes,
    }


def test_case_wraps_the_registry_json() -> None:
    case = Case.from_json(case_json())
    assert case.form_version == 2 and case.step is not None and case.step.form_version == 3
    assert [s.state for s in case.steps] == ["current", "waiting"]
    assert [f.name for f in case.files] == ["līgums.pdf"]  # an entry without an id is skipped
    # 22:30 UTC on the 30th is already the 1st of December in Riga.
    assert case.due_at == date(2026, 12, 1)
    assert [e.kind for e in case.history] == ["decision"]  # opening a case is audited, not news
    assert case.timeline[1].text == "" and case.timeline[1].answers == {}


def test_outcomes_follow_roles_and_steps() -> None:
    first = Case.from_json(case_json(step=0))
    last = Case.from_json(case_json(step=1))
    worker, maker = employee("nva", "case_worker"), employee("vsaa", "decision_maker")
    both = employee("vsaa", "case_worker", "decision_maker")
    assert first.outcomes_for(worker) == ("approve", "request_info")  # nothing to return to on the first step
    assert first.outcomes_for(maker) == ()  # not their institution's step
    assert last.outcomes_for(employee("vsaa", "case_worker")) == ("request_info", "return")  # the last step decides
    assert last.outcomes_for(maker) == ("approve", "refuse", "request_info", "return")
    assert last.outcomes_for(both) == last.outcomes_for(maker)
    assert last.outcomes_for(None) == ()
    waiting = Case.from_json(case_json(step=1, status="more_info_requested"))
    assert waiting.outcomes_for(maker) == () and not waiting.is_open


def test_a_case_taken_by_a_colleague_is_theirs_to_decide() -> None:
    taken = Case.from_json(case_json(step=1, assigned_to={"sub": "140273-10672", "name": "Dace"}))
    me = employee("vsaa", "decision_maker")
    assert taken.outcomes_for(me) == () and not taken.can_be_claimed_by(me) and not taken.can_be_released_by(me)
    mine = Case.from_json(case_json(step=1, assigned_to={"sub": me.sub, "name": me.name}))
    assert mine.is_assigned_to(me) and mine.can_be_released_by(me) and mine.outcomes_for(me)


def test_last_decision_on_a_step_tells_whose_it_was() -> None:
    case = Case.from_json(case_json(step=1))
    assert case.last_decision_on("nva-status", employee("nva", "case_worker", sub="030478-14081"))
    assert not case.last_decision_on("nva-status", employee("nva", "case_worker"))
    assert not case.last_decision_on("vsaa-benefit", employee("vsaa", "case_worker", sub="030478-14081"))


def test_queue_wraps_items_counts_and_pages() -> None:
    item = {
        "id": "c" * 32,
        "reference": "PT-1",
        "service": "s",
        "status": "in_progress",
        "step": STEPS[0],
        "assigned_to": {"sub": "120985-16206", "name": "Mārtiņš"},
        "submitted_at": "2026-11-02T08:00:00Z",
        "due_at": None,
        "overdue": True,
    }
    queue = Queue.from_json({"items": [item], "total": 41, "page": 1, "per_page": 20, "counts": {"open": 41}})
    assert queue.pages == 3 and queue.counts.open == 41 and queue.counts.overdue == 0
    assert queue.items[0].is_assigned_to(employee("nva", "case_worker"))
    assert QueueItem.from_json({**item, "assigned_to": None}).assigned_to is None
    assert Queue.from_json({"items": [], "total": 0, "page": 1, "per_page": 20}).pages == 1


def test_timeline_entry_of_a_decision() -> None:
    entry = TimelineEntry.from_json({"at": "bad", "kind": "decision", "outcome": "refuse", "text": "Nav tiesību."})
    assert entry.at is None and entry.outcome == "refuse" and entry.text == "Nav tiesību."


def test_client_refuses_what_cannot_be_right_before_asking() -> None:
    client = StaffClient("http://127.0.0.1:9")  # nothing listens: any request would fail differently
    token = "token"
    with pytest.raises(RegistryNotFound):
        client.get_case(token, "../../me/drafts")
    with pytest.raises(RegistryNotFound):
        client.download_file(token, "a" * 32, "x/../y")
    with pytest.raises(ValueError, match="status"):
        client.list_cases(token, status="everything")
    with pytest.raises(ValueError, match="outcome"):
        client.decide(token, "a" * 32, step="nva-status", outcome="delete", answers={}, text="", idempotency_key="k")
    with pytest.raises(ValueError, match="per_page"):
        client.list_cases(token, per_page=1000)
    with pytest.raises(ValueError, match="root URL"):
        StaffClient("http://127.0.0.1:9/api/v1")
