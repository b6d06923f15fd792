"""The applicant's inbox and email against a real registry: a decision makes a message for the applicant only, in
lv and en; the email reaches a real local SMTP server (aiosmtpd); a mail server that is down breaks nothing."""

from __future__ import annotations

import email
import email.policy
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from registry.config import TestConfig
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
        deadline = time.monotonic() + 10
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
    }


@pytest.fixture(scope="module")
def mail_api(tmp_path_factory: pytest.TempPathFactory, mailbox: tuple[Mailbox, int]) -> Iterator[str]:
    """A registry that sends email to the local SMTP server."""
    for registry in start_registry(tmp_path_factory.mktemp("mail-registry"), env=_mail_env(mailbox[1])):
        yield f"{registry.url}/api/v1"


@pytest.fixture(scope="module")
def mail_down(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RegistryProcess, Path]]:
    """A registry whose SMTP server is down (nothing listens on its port), and its log."""
    tmp = tmp_path_factory.mktemp("mail-down-registry")
    for registry in start_registry(tmp, env=_mail_env(free_port())):
        yield registry, tmp / "gunicorn.log"


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


def test_a_mail_server_that_is_down_does_not_break_the_decision(mail_down: tuple[RegistryProcess, Path]) -> None:
    registry, log = mail_down
    api = f"{registry.url}/api/v1"
    case_id, person = new_case(api)
    address = mine(api, person, case_id)["answers"]["contact_email"]
    approved = approve_first_step(api, case_id)
    assert approved.status_code == 201, approved.text
    assert mine(api, person, case_id)["status"] == "in_progress"
    assert requests.get(f"{api}/staff/cases/{case_id}", headers=who(NVA_WORKER), timeout=10).status_code == 200
    assert [m["kind"] for m in inbox(api, person)["items"]] == ["step"]
    logged = log.read_text()
    assert "not sent by email: ConnectionRefusedError" in logged
    assert address not in logged and person["sub"] not in logged
