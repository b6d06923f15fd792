"""The inbox in the portal, without JavaScript, against a real registry: the unread badge in the account menu, the
list of messages newest first, marking one read with a POST form, and nobody else's messages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask

from tests.fixtures.applications import demo_claims, form_of, submit, valid_answers, who
from tests.fixtures.portal import Browser, make_portal
from tests.fixtures.registry_server import RegistryProcess
from tests.integration.test_cases_api import NVA_WORKER, SERVICE, decide, step_answers
from tests.integration.test_portal_sign_in import HOST, csrf_token, sign_in_as

pytestmark = pytest.mark.integration

APPLICANT = "girts-kalnins"
# The account menu's link to the inbox, with the unread count (interface text is checked in English: the Latvian
# catalogue is updated separately, and the registry's message texts are Latvian either way).
BADGE = re.compile(r'href="/(?:lv|en)/my/messages"[^>]*>[^<]+<span class="badge">(\d+)<span class="visually-hidden">')


@pytest.fixture(scope="module")
def portal(applications_registry: RegistryProcess) -> Flask:
    return make_portal(applications_registry.url)


@pytest.fixture
def applicant(portal: Flask) -> Iterator[Browser]:
    browser = Browser(portal.test_client())
    assert sign_in_as(browser, APPLICANT).status_code == 303
    yield browser


def unread(api: str, claims: dict[str, Any]) -> int:
    response = requests.get(f"{api}/me/messages", headers=who(claims), timeout=10)
    assert response.status_code == 200
    count: int = response.json()["unread"]
    return count


def case_passed_on(api: str) -> dict[str, Any]:
    """The applicant applies (through the registry), NVA approves its step: the case passes to VSAA."""
    claims = demo_claims(APPLICANT)
    version, definition = form_of(api, SERVICE)
    body = {"service": SERVICE, "form": "application", "form_version": version}
    submitted = submit(api, claims, body | {"answers": valid_answers(definition, claims, api)})
    assert submitted.status_code == 201, submitted.text
    application: dict[str, Any] = submitted.json()
    step = {"step": "nva-status", "outcome": "approve", "answers": step_answers(api, "nva-status")}
    assert decide(api, NVA_WORKER, application["id"], step).status_code == 201
    return application


def test_the_inbox_lists_the_message_with_a_badge_and_marks_it_read(
    applications_registry: RegistryProcess, applicant: Browser
) -> None:
    api = f"{applications_registry.url}/api/v1"
    application = case_passed_on(api)
    count = unread(api, demo_claims(APPLICANT))
    assert count >= 1

    home = applicant.page("/en/my/applications", lang="en")
    badge = BADGE.search(home)
    assert badge is not None and int(badge[1]) == count
    assert f"({count} unread)" in home

    html = applicant.page("/lv/my/messages")
    assert f"Pieteikums {application['reference']} nodots nākamajai iestādei" in html
    assert "Valsts sociālās apdrošināšanas aģentūra" in html
    assert f'href="/lv/my/applications/{application["id"]}"' in html
    assert '<a href="/lv/my/messages" aria-current="page">' in html
    first = re.search(r'<li id="message-([0-9a-f]{32})">', html)
    assert first is not None
    message_id = first[1]
    assert '<span class="badge">' in html[first.start() :].split("</article>")[0]  # marked unread
    assert f'action="/lv/my/messages/{message_id}/read"' in html

    # Showing the page changed nothing: only the form marks a message read.
    assert unread(api, demo_claims(APPLICANT)) == count
    no_token = applicant.client.post(f"/lv/my/messages/{message_id}/read", headers=HOST)
    assert no_token.status_code == 400
    marked = applicant.client.post(
        f"/lv/my/messages/{message_id}/read", data={"csrf_token": csrf_token(html), "page": "1"}, headers=HOST
    )
    assert marked.status_code == 303
    assert marked.headers["Location"] == f"/lv/my/messages#message-{message_id}"
    assert unread(api, demo_claims(APPLICANT)) == count - 1
    after = applicant.page("/lv/my/messages")
    assert '<span class="badge">' not in after.split(f'<li id="message-{message_id}">')[1].split("</article>")[0]
    badge = BADGE.search(after)
    assert (int(badge[1]) if badge else 0) == count - 1

    english = applicant.page("/en/my/messages", lang="en")
    assert "<h1>Messages</h1>" in english and "Open the application" in english
    assert f"Your application {application['reference']} has passed to State Social Insurance Agency" in english


def test_nobody_else_reads_or_marks_the_message(
    applications_registry: RegistryProcess, portal: Flask, applicant: Browser
) -> None:
    api = f"{applications_registry.url}/api/v1"
    case_passed_on(api)
    html = applicant.page("/lv/my/messages")
    found = re.search(r'<li id="message-([0-9a-f]{32})">', html)
    assert found is not None
    message_id = found[1]

    other = Browser(portal.test_client())
    assert sign_in_as(other, "janis-ozolins").status_code == 303
    other_html = other.page("/lv/my/messages")
    assert message_id not in other_html
    token = csrf_token(other_html) if 'name="csrf_token"' in other_html else csrf_token(other.page("/lv/sign-in"))
    refused = other.client.post(f"/lv/my/messages/{message_id}/read", data={"csrf_token": token}, headers=HOST)
    assert refused.status_code == 404
    malformed = other.client.post("/lv/my/messages/not-an-id/read", data={"csrf_token": token}, headers=HOST)
    assert malformed.status_code == 404


def test_the_inbox_needs_an_applicant(portal: Flask) -> None:
    anonymous = Browser(portal.test_client())
    response = anonymous.get("/lv/my/messages")
    assert response.status_code == 302 and response.headers["Location"].startswith("/lv/sign-in?next=")

    employee = Browser(portal.test_client())
    assert sign_in_as(employee, "anna-liepina").status_code == 303
    assert employee.get("/lv/my/messages").status_code == 403
