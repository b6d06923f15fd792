"""Level 5 in a real browser: NVA asks VSAA about an applicant from a case, VSAA answers; axe on every page."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, expect

from tests.browser.test_staff_browser import no_violations, sign_in_as_employee
from tests.integration.test_portal_staff import unemployed_case

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe()


def test_a_question_between_institutions_and_its_answer(
    new_context: Callable[..., BrowserContext], axe: Axe, applications_api: str
) -> None:
    case = unemployed_case(applications_api)
    nva = new_context().new_page()
    sign_in_as_employee(nva, "Anna Liepiņa")
    nva.goto(f"/lv/staff/cases/{case['id']}")
    nva.get_by_role("link", name="Jautāt citai iestādei par iesniedzēju").click()
    expect(nva.locator("h1")).to_have_text("Jautāt citai iestādei")
    nva.get_by_label("Jautājums").fill("Vai persona saņem slimības pabalstu?")
    nva.get_by_role("button", name="Nosūtīt jautājumu").click()
    expect(nva.get_by_role("alert")).to_be_focused()  # no institution chosen: the error summary, text kept
    expect(nva.get_by_label("Jautājums")).to_have_value("Vai persona saņem slimības pabalstu?")
    no_violations(nva, axe)
    nva.get_by_label("Iestāde").select_option("vsaa")
    nva.get_by_role("button", name="Nosūtīt jautājumu").click()
    expect(nva).to_have_url(re.compile(rf"/lv/staff/cases/{case['id']}$"))
    expect(nva.get_by_role("status").first).to_contain_text("Jūsu jautājums nosūtīts")

    vsaa = new_context().new_page()
    sign_in_as_employee(vsaa, "Mārtiņš Vītols")
    vsaa.get_by_role("link", name="Iestāžu jautājumi").click()
    no_violations(vsaa, axe)
    vsaa.get_by_role("link", name="Vai persona saņem slimības pabalstu?").first.click()
    expect(vsaa.locator("h1")).to_contain_text("Jautājums no iestādes")
    no_violations(vsaa, axe)
    vsaa.get_by_label("Atbilde").fill("Nesaņem.")
    vsaa.get_by_role("button", name="Nosūtīt atbildi").click()
    expect(vsaa.get_by_role("status").first).to_contain_text("Jūsu atbilde nosūtīta")

    nva.reload()
    expect(nva.locator(".staff-timeline")).to_contain_text("Cita iestāde atbildēja")
    expect(nva.locator(".staff-timeline")).to_contain_text("Nesaņem.")
    no_violations(nva, axe)
