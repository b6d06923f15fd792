"""Cases an institution's employee works on, through the registry's staff API (docs/processing.md).

The registry decides who may see and do what; these wrappers answer the questions pages ask (is the case open, is it
mine, which outcomes may I choose) from the same rules, so a page never offers what the registry would refuse.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask import abort, current_app

from app.auth.session import identity_token
from app.models import applications_api
from app.registry_client.errors import RegistryNotFound
from app.registry_client.staff import OUTCOMES, STATUSES, StaffClient
from forms.model import FormDefinition
from forms.wtforms_builder import RIGA, riga_today
from identity import Identity

Text = dict[str, str]

# A step is decided only while the case waits for it; afterwards nothing but a new step changes the case.
OPEN_STATUSES = ("submitted", "in_progress")
CASE_WORKER, DECISION_MAKER = "case_worker", "decision_maker"
# Outcomes whose text is required: the reasoning of a refusal or a return, the question of an information request.
TEXT_REQUIRED = frozenset({"refuse", "request_info", "return"})
# The outcome that fills in the step form; the registry refuses step answers with any other outcome.
WITH_STEP_FORM = "approve"
PER_PAGE = 20


def _client() -> StaffClient:
    client: StaffClient = current_app.extensions["staff_client"]
    return client


def _datetime(value: object) -> datetime | None:
    """Return an ISO 8601 time of the registry as a datetime (None if absent or unreadable)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _date(value: object) -> date | None:
    """Return an ISO 8601 day of the registry as a date; a time (the registry writes UTC) as its day in Riga."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    moment = _datetime(value) if len(value) > 10 else None
    if moment is not None:
        return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).astimezone(RIGA).date()
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


@dataclass(frozen=True)
class Actor:
    """Who did something: an employee (or the applicant) by their personal code and name."""

    sub: str
    name: str

    @classmethod
    def from_json(cls, data: object) -> Actor | None:
        """Wrap `{sub, name}`, or None."""
        if not isinstance(data, Mapping) or not data.get("name"):
            return None
        return cls(sub=str(data.get("sub") or ""), name=str(data["name"]))


@dataclass(frozen=True)
class Step:
    """A step of a service's process: whose it is, its title, its form; in a case also its state."""

    id: str
    institution: str
    title: Text
    form: str | None = None
    form_version: int | None = None
    state: str | None = None  # done, current or waiting (in a case's process)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Step:
        """Wrap a registry step."""
        title = data.get("title")
        version = data.get("form_version")
        return cls(
            id=str(data["id"]),
            institution=str(data.get("institution") or ""),
            title=title if isinstance(title, dict) else {"lv": str(data["id"])},
            form=data.get("form") or None,
            form_version=int(version) if isinstance(version, int) and not isinstance(version, bool) else None,
            state=data.get("state"),
        )


@dataclass(frozen=True)
class QueueItem:
    """A case as the work queue lists it."""

    id: str
    reference: str
    service: str
    status: str
    step: Step | None
    assigned_to: Actor | None
    submitted_at: datetime | None
    due_at: date | None
    overdue: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> QueueItem:
        """Wrap an item of `GET /staff/cases`."""
        step = data.get("step")
        return cls(
            id=str(data["id"]),
            reference=str(data["reference"]),
            service=str(data["service"]),
            status=str(data["status"]),
            step=Step.from_json(step) if isinstance(step, Mapping) else None,
            assigned_to=Actor.from_json(data.get("assigned_to")),
            submitted_at=_datetime(data.get("submitted_at")),
            due_at=_date(data.get("due_at")),
            overdue=bool(data.get("overdue")),
        )

    def is_assigned_to(self, person: Identity | None) -> bool:
        """Say whether `person` has taken this case."""
        return person is not None and self.assigned_to is not None and self.assigned_to.sub == person.sub


@dataclass(frozen=True)
class QueueCounts:
    """How many cases wait for the employee's institution, and of them overdue, theirs, waiting for the applicant."""

    open: int = 0
    overdue: int = 0
    mine: int = 0
    more_info_requested: int = 0

    @classmethod
    def from_json(cls, data: object) -> QueueCounts:
        """Wrap `counts` (missing numbers are 0)."""
        if not isinstance(data, Mapping):
            return cls()
        numbers = {key: data.get(key) for key in ("open", "overdue", "mine", "more_info_requested")}
        return cls(**{key: int(value) if isinstance(value, int) else 0 for key, value in numbers.items()})


@dataclass(frozen=True)
class StaffQuery:
    """The filters of the work queue (already checked against the allowed values)."""

    service: str | None = None
    status: str | None = None
    overdue: bool = False
    mine: bool = False
    page: int = 1

    def is_empty(self) -> bool:
        """Say whether no filter is set."""
        return not (self.service or self.status or self.overdue or self.mine)


@dataclass(frozen=True)
class Queue:
    """One page of the work queue and the counts."""

    items: tuple[QueueItem, ...]
    total: int
    page: int
    per_page: int
    counts: QueueCounts

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Queue:
        """Wrap the answer of `GET /staff/cases`."""
        return cls(
            items=tuple(QueueItem.from_json(item) for item in data.get("items") or ()),
            total=int(data.get("total") or 0),
            page=int(data.get("page") or 1),
            per_page=int(data.get("per_page") or PER_PAGE),
            counts=QueueCounts.from_json(data.get("counts")),
        )

    @property
    def pages(self) -> int:
        """Return the number of pages (at least 1)."""
        return max(1, math.ceil(self.total / self.per_page)) if self.per_page else 1


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a case's audit trail: who, of which institution, on which step, with what outcome, when."""

    at: datetime | None
    kind: str
    step: str | None
    institution: str | None
    actor: Actor | None
    outcome: str | None
    form: str | None
    form_version: int | None
    answers: dict[str, Any]
    text: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TimelineEntry:
        """Wrap an entry of a case's `timeline` (or the answer to a decision)."""
        version = data.get("form_version")
        answers = data.get("answers")
        return cls(
            at=_datetime(data.get("at")),
            kind=str(data.get("kind") or ""),
            step=data.get("step") or None,
            institution=data.get("institution") or None,
            actor=Actor.from_json(data.get("actor")),
            outcome=data.get("outcome") or None,
            form=data.get("form") or None,
            form_version=int(version) if isinstance(version, int) and not isinstance(version, bool) else None,
            answers=answers if isinstance(answers, dict) else {},
            text=str(data.get("text") or ""),
        )


@dataclass(frozen=True)
class CaseFile:
    """An attachment of a case."""

    id: str
    name: str
    size: int | None
    content_type: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CaseFile | None:
        """Wrap a file of a case (`id` or `file_id`); None for an entry without one."""
        file_id = data.get("id") or data.get("file_id")
        if not isinstance(file_id, str):
            return None
        size = data.get("size")
        return cls(
            id=file_id,
            name=str(data.get("name") or file_id),
            size=size if isinstance(size, int) else None,
            content_type=data.get("content_type"),
        )


@dataclass(frozen=True)
class Case:
    """A submitted application as the institution works on it: answers, process, current step, timeline."""

    id: str
    reference: str
    service: str
    status: str
    result: str | None
    applicant_name: str
    principal: str
    acting_for: str | None
    form: str
    form_version: int
    answers: dict[str, Any]
    files: tuple[CaseFile, ...]
    process_version: int | None
    steps: tuple[Step, ...]
    step: Step | None
    assigned_to: Actor | None
    submitted_at: datetime | None
    due_at: date | None
    timeline: tuple[TimelineEntry, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Case:
        """Wrap the answer of `GET /staff/cases/<id>`."""
        process = data.get("process") if isinstance(data.get("process"), Mapping) else {}
        step = data.get("step")
        acting_for = data.get("acting_for")
        return cls(
            id=str(data["id"]),
            reference=str(data["reference"]),
            service=str(data["service"]),
            status=str(data["status"]),
            result=data.get("result") or None,
            applicant_name=str(data.get("applicant_name") or ""),
            principal=str(data.get("principal") or ""),
            acting_for=str(acting_for) if acting_for else None,
            form=str(data.get("form") or "application"),
            form_version=int(data.get("form_version") or 1),
            answers=data.get("answers") if isinstance(data.get("answers"), dict) else {},
            files=tuple(
                f for f in (CaseFile.from_json(x) for x in data.get("files") or () if isinstance(x, Mapping)) if f
            ),
            process_version=process.get("version") if isinstance(process.get("version"), int) else None,
            steps=tuple(Step.from_json(s) for s in process.get("steps") or () if isinstance(s, Mapping)),
            step=Step.from_json(step) if isinstance(step, Mapping) else None,
            assigned_to=Actor.from_json(data.get("assigned_to")),
            submitted_at=_datetime(data.get("submitted_at")),
            due_at=_date(data.get("due_at")),
            timeline=tuple(TimelineEntry.from_json(e) for e in data.get("timeline") or () if isinstance(e, Mapping)),
        )

    @property
    def history(self) -> tuple[TimelineEntry, ...]:
        """Return the timeline without the records of employees opening the case (audited, but not news)."""
        return tuple(entry for entry in self.timeline if entry.kind != "view")

    def last_decision_on(self, step_id: str, person: Identity | None) -> bool:
        """Say whether the newest decision on `step_id` was taken by `person` (e.g. the first of a double click)."""
        on_step = [entry for entry in self.timeline if entry.kind == "decision" and entry.step == step_id]
        return (
            bool(on_step)
            and person is not None
            and on_step[-1].actor is not None
            and on_step[-1].actor.sub == person.sub
        )

    @property
    def is_open(self) -> bool:
        """Say whether the current step can be decided now (not waiting for the applicant, decided or withdrawn)."""
        return self.status in OPEN_STATUSES and self.step is not None

    @property
    def is_overdue(self) -> bool:
        """Say whether the case is still undecided after its due date."""
        return self.due_at is not None and self.status not in ("decided", "withdrawn") and self.due_at < riga_today()

    @property
    def is_first_step(self) -> bool:
        """Say whether the current step is the first of the process (nothing to return the case to)."""
        return bool(self.steps) and self.step is not None and self.steps[0].id == self.step.id

    @property
    def is_last_step(self) -> bool:
        """Say whether the current step decides the application."""
        return self.step is not None and (not self.steps or self.steps[-1].id == self.step.id)

    def is_assigned_to(self, person: Identity | None) -> bool:
        """Say whether `person` has taken this case."""
        return person is not None and self.assigned_to is not None and self.assigned_to.sub == person.sub

    def is_worked_on_by(self, person: Identity | None) -> bool:
        """Say whether the current step belongs to `person`'s institution."""
        return (
            person is not None
            and person.is_employee
            and self.step is not None
            and self.step.institution == person.institution
        )

    def can_be_claimed_by(self, person: Identity | None) -> bool:
        """Say whether `person` may take the case now (open, their institution's step, nobody else has it)."""
        return self.is_open and self.is_worked_on_by(person) and self.assigned_to is None

    def can_be_released_by(self, person: Identity | None) -> bool:
        """Say whether `person` may give the case back to the queue (they have it)."""
        return self.is_open and self.is_assigned_to(person)

    def outcomes_for(self, person: Identity | None) -> tuple[str, ...]:
        """Return the outcomes `person` may choose for the current step, in the order a form offers them.

        The rules of docs/processing.md: approve by a case worker or decision maker, on the last step by a decision
        maker only; refuse by a decision maker; request information by either; return by either, not on the first
        step. Nothing while the case is not open, not their institution's step, or taken by someone else.
        """
        if not self.is_open or person is None or not self.is_worked_on_by(person):
            return ()
        if self.assigned_to is not None and not self.is_assigned_to(person):
            return ()
        roles = set(person.roles)
        allowed = {
            "approve": DECISION_MAKER in roles or (CASE_WORKER in roles and not self.is_last_step),
            "refuse": DECISION_MAKER in roles,
            "request_info": bool(roles & {CASE_WORKER, DECISION_MAKER}),
            "return": bool(roles & {CASE_WORKER, DECISION_MAKER}) and not self.is_first_step,
        }
        return tuple(outcome for outcome in OUTCOMES if allowed[outcome])


def queue(query: StaffQuery) -> Queue:
    """Return one page of the cases waiting for the employee's institution, filtered."""
    data = _client().list_cases(
        identity_token(),
        service=query.service,
        status=query.status,
        overdue=query.overdue,
        assigned_to_me=query.mine,
        page=query.page,
        per_page=PER_PAGE,
    )
    return Queue.from_json(data)


def get_case(case_id: str) -> Case:
    """Return a case of the employee's institution, or abort with 404 (other institutions' cases do not exist)."""
    try:
        return Case.from_json(_client().get_case(identity_token(), case_id))
    except RegistryNotFound:
        abort(404)


def claim(case: Case) -> Case:
    """Take the case (RegistryConflict if someone else has it)."""
    _client().claim(identity_token(), case.id)
    return get_case(case.id)


def colleagues() -> list[Actor]:
    """The employees of the institution a case can be given to (known from its cases), the employee included."""
    return [Actor(sub=c.get("sub", ""), name=c.get("name", "")) for c in _client().colleagues(identity_token())]


def assign(case: Case, to_sub: str) -> None:
    """Give the case to a colleague of the same institution."""
    _client().assign(identity_token(), case.id, to_sub)


def release(case: Case) -> None:
    """Give the case back to the queue."""
    _client().release(identity_token(), case.id)


def decide(case: Case, *, outcome: str, answers: Mapping[str, Any], text: str, idempotency_key: str) -> TimelineEntry:
    """Decide the case's current step exactly once: the same key always gives the same decision.

    Only approving fills in the step form: with any other outcome no answers are sent (the registry refuses them).
    """
    if case.step is None:
        abort(409)
    data = _client().decide(
        identity_token(),
        case.id,
        step=case.step.id,
        outcome=outcome,
        answers=answers if outcome == WITH_STEP_FORM else {},
        text=text,
        idempotency_key=idempotency_key,
    )
    return TimelineEntry.from_json(data)


def download(case_id: str, file_id: str) -> tuple[bytes, Mapping[str, str]]:
    """Return an attachment of a case with the registry's headers, or abort with 404."""
    try:
        return _client().download_file(identity_token(), case_id, file_id)
    except RegistryNotFound:
        abort(404)


def application_form(case: Case) -> FormDefinition:
    """Return the definition of the application form the case was submitted with (its own version)."""
    return applications_api.form_definition(case.service, case.form, case.form_version)


def step_form(case: Case) -> FormDefinition | None:
    """Return the definition of the current step's form, in the version the step uses; None without one."""
    if case.step is None or case.step.form is None:
        return None
    return applications_api.form_definition(case.service, case.step.form, case.step.form_version)


def is_status(value: str) -> bool:
    """Say whether `value` is a case status the queue can filter by."""
    return value in STATUSES
