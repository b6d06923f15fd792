"""The applicant's inbox and email against a real registry: a decision makes a message for the applicant only, in
lv and en; the email goes through the outbox, committed with the decision, and reaches a real local SMTP server
(aiosmtpd) from the registry's delivery threads, once; a mail server that is down breaks nothing and gets the email
once it is back."""

from __future__ import annotations

import email
import email.policy
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from registry import create_app
from registry.config import TestConfig
from registry.db import make_engine
from registry.models.tables import Application, Message, Outbox
from tests.fixtures.applications import fresh_person, who
from tests.fixtures.registry_server import RegistryProcess, free_port, start_registry
from tests.integration.test_cases_api import (
    NVA_WORKER,
    VSAA_DECIDER,
    decide,
    mine,
    new_case,
    step_answers,
)

pytestmark = pytest.mark.integration

MAIL_FROM = "Pakalpojumu portāls <pazinojumi@example.lv>"


def inbox(api: str, person: dict[str, Any], **params: str) -> dict[str, Any]:
    response = requests.get(f"{api}/me/messages", params=params, headers=who(person), timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    return response.json()


def mark_read(api: str, person: dict[str, Any], message_id: str) -> requests.Response:
    return requests.post(f"{api}/me/messages/{message_id}/read", headers=who(person), timeout=10)


def approve_first_step(api: str, case_id: str) -> requests.Response:
    body = {"step": "nva-status", "outcome": "approve", "answers": step_answers(api, "nva-status")}
    return decide(api, NVA_WORKER, case_id, body)


# --- the inbox -------------------------------------------------------------------------------------------------


def test_each_decision_the_applicant_must_know_makes_one_message_newest_first(applications_api: str) -> None:
    api = applications_api
    case_id, person = new_case(api)
    reference = mine(api, person, case_id)["reference"]
    assert inbox(api, person) == {"items": [], "total": 0, "unread": 0, "page": 1, "per_page": 20}

    # The same decision sent twice (a retry with its key) tells the applicant once.
    body = {"step": "nva-status", "outcome": "approve", "answers": step_answers(api, "nva-status")}
    assert decide(api, NVA_WORKER, case_id, body, key="same-key").status_code == 201
    assert decide(api, NVA_WORKER, case_id, body, key="same-key").headers["Idempotent-Replayed"] == "true"
    passed = inbox(api, person)
    assert passed["total"] == 1 and passed["unread"] == 1
    step = passed["items"][0]
    assert step["kind"] == "step" and step["application_id"] == case_id and step["read"] is False
    assert reference in step["subject"]["lv"] and reference in step["subject"]["en"]
    assert "Valsts sociālās apdrošināšanas aģentūra" in step["body"]["lv"]
    assert "State Social Insurance Agency" in step["subject"]["en"]
    assert "„Bezdarbnieka statusa piešķiršana”" in step["body"]["lv"]
    assert '"Registering as unemployed"' in step["body"]["en"]

    decided = decide(
        api, VSAA_DECIDER, case_id, {"step": "vsaa-benefit", "outcome": "refuse", "text": "Nav apdrošināšanas stāža."}
    )
    assert decided.status_code == 201, decided.text
    listed = inbox(api, person)
    assert listed["total"] == 2 and listed["unread"] == 2
    newest = listed["items"][0]
    assert newest["kind"] == "decision"
    assert "noraidīt" in newest["body"]["lv"] and "Nav apdrošināšanas stāža." in newest["body"]["lv"]
    assert "refused" in newest["body"]["en"] and "Mani pieteikumi" in newest["body"]["lv"]
    assert [m["kind"] for m in listed["items"]] == ["decision", "step"]

    # Paging: one per page, the older one on page 2; the unread count is of all messages.
    second = inbox(api, person, page="2", per_page="1")
    assert [m["id"] for m in second["items"]] == [step["id"]] and second["unread"] == 2 and second["total"] == 2


def test_a_request_for_information_carries_the_institutions_text(applications_api: str) -> None:
    api = applications_api
    case_id, person = new_case(api)
    asked = decide(
        api, NVA_WORKER, case_id, {"step": "nva-status", "outcome": "request_info", "text": "Pievienojiet izziņu."}
    )
    assert asked.status_code == 201
    (message,) = inbox(api, person)["items"]
    assert message["kind"] == "information_request"
    assert "Pievienojiet izziņu." in message["body"]["lv"] and "Pievienojiet izziņu." in message["body"]["en"]
    assert "Atbildiet sadaļā Mani pieteikumi" in message["body"]["lv"]
    assert "Nodarbinātības valsts aģentūra" in message["body"]["lv"]


def test_returning_a_case_to_an_earlier_step_tells_the_applicant_nothing(applications_api: str) -> None:
    api = applications_api
    case_id, person = new_case(api)
    assert approve_first_step(api, case_id).status_code == 201
    returned = decide(api, VSAA_DECIDER, case_id, {"step": "vsaa-benefit", "outcome": "return", "text": "Trūkst."})
    assert returned.status_code == 201
    assert [m["kind"] for m in inbox(api, person)["items"]] == ["step"]


def test_only_the_applicant_reads_and_marks_their_messages(applications_api: str) -> None:
    api = applications_api
    case_id, person = new_case(api)
    assert approve_first_step(api, case_id).status_code == 201
    (message,) = inbox(api, person)["items"]
    stranger = fresh_person()

    assert inbox(api, stranger)["total"] == 0
    assert mark_read(api, stranger, message["id"]).status_code == 404
    assert mark_read(api, person, "0" * 32).status_code == 404
    assert mark_read(api, person, "not-an-id").status_code == 404
    assert inbox(api, person)["unread"] == 1  # the stranger's attempt changed nothing

    employee = requests.get(f"{api}/me/messages", headers=who(NVA_WORKER), timeout=10)
    assert employee.status_code == 403
    assert requests.get(f"{api}/me/messages", timeout=10).status_code == 401
    assert requests.post(f"{api}/me/messages/{message['id']}/read", timeout=10).status_code == 401

    marked = mark_read(api, person, message["id"])
    assert marked.status_code == 204 and marked.headers["Cache-Control"] == "no-store"
    assert mark_read(api, person, message["id"]).status_code == 204  # again is harmless
    after = inbox(api, person)
    assert after["unread"] == 0 and after["items"][0]["read"] is True


# --- email -----------------------------------------------------------------------------------------------------


class Mailbox:
    """What the local SMTP server received (aiosmtpd calls `handle_DATA` for each message)."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def wait_for(self, count: int) -> list[Envelope]:
        deadline = time.monotonic() + 15
        while len(self.envelopes) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.envelopes


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on loopback (aiosmtpd), and its port."""
    handler = Mailbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _mail_env(port: int) -> dict[str, str]:
    return {
        "REGISTRY_IDENTITY_SECRET": TestConfig.IDENTITY_SECRET,
        "REGISTRY_SMTP_HOST": "127.0.0.1",
        "REGISTRY_SMTP_PORT": str(port),
        "REGISTRY_MAIL_FROM": MAIL_FROM,
        # Each gunicorn worker's delivery thread looks often and retries soon, so tests wait little.
        "REGISTRY_OUTBOX_INTERVAL_SECONDS": "0.1",
        "REGISTRY_OUTBOX_RETRY_SECONDS": "0.2",
    }


def poll(condition: Callable[[], bool], seconds: float = 15) -> bool:
    """Wait until `condition()` holds, up to `seconds`; return whether it did."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def outbox_of(database_url: str, application_id: str) -> list[Outbox]:
    engine = make_engine(database_url)
    try:
        with DbSession(engine) as session:
            return list(session.scalars(select(Outbox).where(Outbox.application_id == application_id)))
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def mail_registry(tmp_path_factory: pytest.TempPathFactory, mailbox: tuple[Mailbox, int]) -> Iterator[RegistryProcess]:
    """A registry (two gunicorn workers, each with its delivery thread) that sends email to the local SMTP server."""
    yield from start_registry(tmp_path_factory.mktemp("mail-registry"), env=_mail_env(mailbox[1]))


@pytest.fixture(scope="module")
def mail_api(mail_registry: RegistryProcess) -> str:
    return f"{mail_registry.url}/api/v1"


@pytest.fixture(scope="module")
def mail_down(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RegistryProcess, Path, int]]:
    """A registry whose SMTP server is down (nothing listens on its port yet), its log and that port."""
    tmp = tmp_path_factory.mktemp("mail-down-registry")
    port = free_port()
    for registry in start_registry(tmp, env=_mail_env(port)):
        yield registry, tmp / "gunicorn.log", port


def test_the_applicant_gets_the_message_by_email_in_latvian_and_english(
    mail_api: str, mailbox: tuple[Mailbox, int]
) -> None:
    api, (received, _) = mail_api, mailbox
    before = len(received.envelopes)
    case_id, person = new_case(api)
    application = mine(api, person, case_id)
    address = application["answers"]["contact_email"]
    asked = decide(
        api, NVA_WORKER, case_id, {"step": "nva-status", "outcome": "request_info", "text": "Lūdzu, iesniedziet CV."}
    )
    assert asked.status_code == 201

    envelope = received.wait_for(before + 1)[before]
    assert envelope.rcpt_tos == [address]
    assert envelope.mail_from == "pazinojumi@example.lv"
    mail = email.message_from_bytes(envelope.original_content or b"", policy=email.policy.default)
    assert application["reference"] in str(mail["Subject"])
    assert str(mail["From"]) == MAIL_FROM and address in str(mail["To"])
    assert mail["Auto-Submitted"] == "auto-generated"
    part = mail.get_body(("plain",))
    assert part is not None and part.get_content_charset() == "utf-8"
    text = part.get_content()
    assert "Lūdzu, iesniedziet CV." in text and application["reference"] in text
    assert "vajadzīga papildu informācija" in text and "needs more information" in text
    assert text.index("Atbildiet sadaļā Mani pieteikumi") < text.index("Please answer under My applications")
    # The inbox has the same message.
    listed = inbox(api, person)
    assert listed["unread"] == 1 and "Lūdzu, iesniedziet CV." in listed["items"][0]["body"]["lv"]


def test_a_mail_server_that_is_down_does_not_break_the_decision_and_gets_the_email_once_it_is_back(
    mail_down: tuple[RegistryProcess, Path, int],
) -> None:
    registry, log, port = mail_down
    api = f"{registry.url}/api/v1"
    case_id, person = new_case(api)
    application = mine(api, person, case_id)
    address = application["answers"]["contact_email"]
    approved = approve_first_step(api, case_id)
    assert approved.status_code == 201, approved.text
    assert mine(api, person, case_id)["status"] == "in_progress"
    assert requests.get(f"{api}/staff/cases/{case_id}", headers=who(NVA_WORKER), timeout=10).status_code == 200
    assert [m["kind"] for m in inbox(api, person)["items"]] == ["step"]  # the inbox has it at once

    # The delivery thread tried, failed, and keeps the email for a later attempt.
    assert poll(lambda: "not sent by email: ConnectionRefusedError (attempt 2 of 12" in log.read_text())
    [row] = outbox_of(registry.database_url, case_id)
    assert row.status in ("pending", "sending") and row.attempts >= 2 and row.sent_at is None
    logged = log.read_text()
    assert address not in logged and person["sub"] not in logged

    received = Mailbox()
    controller = Controller(received, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        [envelope] = received.wait_for(1)
        assert envelope.rcpt_tos == [address]
        assert application["reference"] in (envelope.original_content or b"").decode()
        assert poll(lambda: outbox_of(registry.database_url, case_id)[0].status == "sent")
        assert len(received.envelopes) == 1
    finally:
        controller.stop()


def test_each_email_is_sent_once_though_every_registry_worker_delivers(
    mail_registry: RegistryProcess, mailbox: tuple[Mailbox, int]
) -> None:
    api, (received, _) = f"{mail_registry.url}/api/v1", mailbox
    cases = [new_case(api) for _ in range(6)]
    before = len(received.envelopes)
    for case_id, _person in cases:
        body = {"step": "nva-status", "outcome": "request_info", "text": "Lūdzu, iesniedziet CV."}
        assert decide(api, NVA_WORKER, case_id, body).status_code == 201

    def all_sent() -> bool:
        return all([r.status for r in outbox_of(mail_registry.database_url, c)] == ["sent"] for c, _ in cases)

    assert poll(all_sent)  # once every row is marked sent, every send has happened
    subjects = [
        str(email.message_from_bytes(e.original_content or b"", policy=email.policy.default)["Subject"])
        for e in received.envelopes[before:]
    ]
    references = [mine(api, person, case_id)["reference"] for case_id, person in cases]
    assert sorted(ref for ref in references for subject in subjects if ref in subject) == sorted(references)
    assert len(subjects) == len(cases)


# --- the outbox row is part of the decision's transaction -------------------------------------------------------


def test_the_email_is_queued_in_the_decisions_transaction_and_a_failed_decision_queues_nothing(
    applications_registry: RegistryProcess, mailbox: tuple[Mailbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The case is made over HTTP; the decisions go through an in-process registry app on the same database, with
    email configured but no delivery thread, so the rows can be seen before they are sent."""
    import registry.api.staff

    received, port = mailbox
    api = f"{applications_registry.url}/api/v1"
    case_id, person = new_case(api)
    address = mine(api, person, case_id)["answers"]["contact_email"]
    app = create_app(
        {
            "DATABASE_URL": applications_registry.database_url,
            "IDENTITY_SECRET": TestConfig.IDENTITY_SECRET,
            "NOTIFIERS": "inbox,email",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": port,
            "MAIL_FROM": MAIL_FROM,
        }
    )
    client = app.test_client()
    body = {"step": "nva-status", "outcome": "request_info", "text": "Lūdzu, iesniedziet CV."}

    def post_decision() -> Any:
        headers = who(NVA_WORKER, **{"Idempotency-Key": uuid.uuid4().hex})
        return client.post(f"/api/v1/staff/cases/{case_id}/decisions", json=body, headers=headers)

    def stored() -> tuple[str, int, list[Outbox]]:
        engine = make_engine(applications_registry.database_url)
        try:
            with DbSession(engine) as session:
                case = session.get(Application, case_id)
                assert case is not None
                messages = session.scalars(select(Message).where(Message.application_id == case_id)).all()
                return case.status, len(messages), outbox_of(applications_registry.database_url, case_id)
        finally:
            engine.dispose()

    def fail(*_args: Any) -> None:
        raise RuntimeError("the database went away before the commit")

    # Something fails after the decision, its message and its email were added, before the commit: none of it stays.
    with monkeypatch.context() as patch:
        patch.setattr(registry.api.staff, "complete_key", fail)
        assert post_decision().status_code == 500
    assert stored() == ("submitted", 0, [])

    assert post_decision().status_code == 201
    status, messages, [row] = stored()
    assert (status, messages) == ("more_info_requested", 1)
    assert (row.channel, row.status, row.recipient_email, row.attempts) == ("email", "pending", address, 0)
    assert "Lūdzu, iesniedziet CV." in row.body["lv"] and row.reference in row.subject["en"]

    # Nothing is sent until a worker runs: here the command, once.
    before = len(received.envelopes)
    result = app.test_cli_runner().invoke(args=["send-notifications"])
    assert result.output == "sent 1, to retry 0, failed 0 notification(s)\n"
    assert [e.rcpt_tos for e in received.envelopes[before:]] == [[address]]
    assert stored()[2][0].status == "sent"
