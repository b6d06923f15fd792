"""The staff area in a real browser: an employee filters the queue (htmx), opens a case and decides it; axe on each.

The live portal runs over `applications_registry`, so a case is made as in life: a fresh applicant submits an
application through the registry API, and the service's process puts it in the municipality's queue.
"""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.test_accessibility import AXE_OPTIONS
from tests.integration.test_portal_staff import RIGA_WORKER, residence_case

pytestmark = pytest.mark.browser

RIGA_WORKER_NAME = "Ilze Krūmiņa"
assert RIGA_WORKER == "ilze-krumina"


@pytest.fixture(scope="session")
def axe() -> Axe:
    """axe-core as bundled by axe-playwright-python (works offline and under the portal's CSP)."""
    return Axe()


def no_violations(page: Page, axe: Axe) -> None:
    results = axe.run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()


def sign_in_as_employee(page: Page, name: str) -> None:
    page.goto("/lv/sign-in")
    page.get_by_role("radio", name=name).check()
    page.get_by_role("button", name="Pieteikties").click()
    expect(page.get_by_role("navigation", name="Jūsu konts")).to_contain_text(name)


def test_employee_filters_the_queue_opens_a_case_and_decides_it(page: Page, axe: Axe, applications_api: str) -> None:
    case = residence_case(applications_api, with_file=True)
    sign_in_as_employee(page, RIGA_WORKER_NAME)
    expect(page).to_have_url(re.compile(r"/lv/staff/$"))  # signing in without `next` lands on the work queue
    no_violations(page, axe)

    # Take the case, so that the filter "assigned to me" finds it whatever else is in the queue.
    page.goto(f"/lv/staff/cases/{case['id']}")
    page.locator("form.staff-action button").click()
    expect(page.locator("form.staff-action button")).to_have_count(1)  # now the button gives it back
    page.locator("a.back-link").click()
    page.wait_for_load_state("load")  # htmx is set up (under load its script can run after the first paint)

    # The filters ask for the results block with htmx, and the address follows.
    page.locator("#mine").check()
    expect(page).to_have_url(re.compile(r"/lv/staff/\?mine=1$"))
    expect(page.locator("#results")).to_contain_text(case["reference"])
    page.locator("#service").select_option("pii-rinda-riga")
    expect(page).to_have_url(re.compile(r"/lv/staff/\?service=pii-rinda-riga&mine=1$"))
    expect(page.locator("#results")).not_to_contain_text(case["reference"])
    expect(page.locator("#results-status")).not_to_be_empty()  # the count is announced
    page.locator("#service").select_option("dzivesvietas-deklaresana")
    expect(page.locator("#results")).to_contain_text(case["reference"])
    no_violations(page, axe)

    page.get_by_role("link", name=case["reference"]).click()
    expect(page.locator("h1")).to_contain_text(case["reference"])
    expect(page.locator('a[href*="/files/"]').first).to_be_visible()  # the attachment, through the portal
    no_violations(page, axe)

    # Approving without the step form's answers: the error summary is read first; nothing typed is lost.
    page.locator('input[name="decision-outcome"][value="approve"]').check()
    page.locator("#address_code").fill("12")
    page.locator("form.staff-decision button[type=submit]").click()
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Kļūda: "))
    expect(page.locator("#address_code")).to_have_value("12")
    no_violations(page, axe)

    summary.locator('a[href="#ground_confirmed"]').click()
    page.locator("#ground_confirmed").check()
    page.locator("#address_code").fill("105000001")
    page.locator("form.staff-decision button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/lv/staff/$"))
    expect(page.locator(".notice--success")).to_contain_text(case["reference"])
    no_violations(page, axe)


def test_staff_pages_in_english_and_at_320_px(page: Page, axe: Axe, applications_api: str) -> None:
    case = residence_case(applications_api)
    sign_in_as_employee(page, RIGA_WORKER_NAME)
    page.set_viewport_size({"width": 320, "height": 640})
    for path in ("/en/staff/", f"/en/staff/cases/{case['id']}"):
        page.goto(path)
        no_violations(page, axe)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{path}: horizontal scroll at 320 px: scrollWidth {width}"
