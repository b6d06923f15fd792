"""Level 5 in a real browser: NVA asks VSAA a kind of question about an applicant from a case, VSAA answers with
the kind's answer form (a controlling answer shows more questions through htmx), NVA reads the answer on the case;
axe on every page."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, expect

from tests.browser.test_staff_browser import no_violations, sign_in_as_employee
from tests.integration.test_portal_staff import unemployed_case

pytestmark = pytest.mark.browser

VSAA_KIND = "Vai persona saņem VSAA pabalstu vai pensiju?"


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe()


def test_a_kind_of_question_between_institutions_and_its_answer_form(
    new_context: Callable[..., BrowserContext], axe: Axe, applications_api: str
) -> None:
    case = unemployed_case(applications_api)
    nva = new_context().new_page()
    sign_in_as_employee(nva, "Anna Liepiņa")
    nva.goto(f"/lv/staff/cases/{case['id']}")
    nva.get_by_role("link", name="Jautāt citai iestādei par iesniedzēju").click()
    expect(nva.locator("h1")).to_have_text("Jautāt citai iestādei")
    nva.locator("textarea[name=text]").fill("Vai saņem arī slimības pabalstu?")
    nva.get_by_role("button", name="Nosūtīt jautājumu").click()
    expect(nva.get_by_role("alert")).to_be_focused()  # nothing chosen: the error summary, the note kept
    expect(nva.locator("textarea[name=text]")).to_have_value("Vai saņem arī slimības pabalstu?")
    expect(nva.locator("select[name=to_institution]")).to_be_visible()  # whole page: whom to ask is there
    no_violations(nva, axe)
    nva.get_by_label(re.compile(re.escape(VSAA_KIND))).check()
    # htmx asks again for the details: a kind says whom to ask, so the choice of institution goes away.
    expect(nva.locator("select[name=to_institution]")).to_have_count(0)
    expect(nva.locator("textarea[name=text]")).to_have_value("Vai saņem arī slimības pabalstu?")
    no_violations(nva, axe)
    nva.get_by_role("button", name="Nosūtīt jautājumu").click()
    expect(nva).to_have_url(re.compile(rf"/lv/staff/cases/{case['id']}$"))
    expect(nva.locator("#data-requests-heading")).to_be_visible()
    expect(nva.locator(".staff-data-request")).to_contain_text(VSAA_KIND)

    vsaa = new_context().new_page()
    sign_in_as_employee(vsaa, "Mārtiņš Vītols")
    vsaa.get_by_role("link", name="Iestāžu jautājumi").click()
    no_violations(vsaa, axe)
    vsaa.get_by_role("link", name=VSAA_KIND).first.click()
    expect(vsaa.locator("h1")).to_contain_text("Jautājums no iestādes")
    expect(vsaa.locator("main")).to_contain_text("Vai saņem arī slimības pabalstu?")
    no_violations(vsaa, axe)
    question = vsaa.locator("#field-receives")
    expect(vsaa.get_by_label("Bezdarbnieka pabalsts")).to_have_count(0)  # shown once "yes" is answered
    question.get_by_label("Jā").check()
    expect(vsaa.get_by_label("Bezdarbnieka pabalsts")).to_be_visible()  # htmx brought the questions "yes" shows
    expect(question.get_by_label("Jā")).to_be_focused()  # the swap kept the focus where it was
    vsaa.get_by_label("Izmaksa kopā mēnesī").fill("daudz")
    vsaa.get_by_role("button", name="Nosūtīt atbildi").click()
    expect(vsaa.get_by_role("alert")).to_be_focused()  # Latvian messages from the forms package, answers kept
    expect(vsaa.get_by_role("alert")).to_contain_text("Atbildiet uz šo jautājumu.")
    expect(vsaa.get_by_role("alert")).to_contain_text("Ievadiet summu eiro, piemēram, 1234,50.")
    expect(vsaa.get_by_label("Izmaksa kopā mēnesī")).to_have_value("daudz")
    no_violations(vsaa, axe)
    vsaa.get_by_label("Bezdarbnieka pabalsts").check()
    vsaa.get_by_label("Izmaksa kopā mēnesī").fill("412,50")
    vsaa.get_by_role("button", name="Nosūtīt atbildi").click()
    expect(vsaa).to_have_url(re.compile(r"/lv/staff/requests$"))
    expect(vsaa.get_by_role("status").first).to_contain_text("Jūsu atbilde nosūtīta")

    nva.reload()
    answer = nva.locator(".staff-data-request")
    expect(answer).to_contain_text("Bezdarbnieka pabalsts")
    expect(answer).to_contain_text("412,50")
    expect(answer).to_contain_text("Mārtiņš Vītols")
    expect(nva.locator(".staff-timeline")).to_contain_text("Cita iestāde atbildēja")
    no_violations(nva, axe)
