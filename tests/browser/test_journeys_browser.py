"""Whole application journeys in a real browser, with JavaScript (htmx updates the page in place) and without it,
and axe-core on every page of a journey on every delivery point.

Who applies for what here (tests/browser/test_apply_browser.py has the other journeys): Ģirts Kalniņš declares his
residence with JavaScript (no person is free for that service: the registry does not offer it to Elīna Žagare, a
company representative, and test_apply_browser.py leaves Ģirts a residence draft); Elīna applies for an e-address
without JavaScript and on every delivery point (tests/integration use her for the e-address too); Līga Bērziņa
registers a child in the Riga kindergarten queue, with and without JavaScript.

The registry is shared by every test of a worker and a person has one draft per service, so each journey first
deletes that person's drafts of its service through the registry API (`fresh_drafts`), and again afterwards; a
journey that ends with "send" leaves no draft anyway.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.browser.test_accessibility import AXE_OPTIONS
from tests.fixtures.applications import draft_on_page
from tests.fixtures.browser import POINT_HOSTS, LivePortal
from tests.fixtures.registry_server import RegistryProcess

pytestmark = pytest.mark.browser

RESIDENCE = "dzivesvietas-deklaresana"
RESIDENCE_TITLE = "Dzīvesvietas deklarēšana"
KINDERGARTEN = "pii-rinda-riga"
KINDERGARTEN_TITLE = "Bērna reģistrācija pirmsskolas izglītības iestādes rindā Rīgā"
E_ADDRESS = "e-adreses-izveide"
E_ADDRESS_TITLE = "Oficiālās elektroniskās adreses (e-adreses) izveide"
ELINA = "elina-zagare"
GIRTS = "girts-kalnins"
LIGA = "liga-berzina"

REFERENCE = re.compile(r"PT-\d{4}-\d{6}")
CHECK_PAGE = re.compile(r"/lv/my/drafts/[0-9a-f]{32}/check$")
RECEIPT = re.compile(r"/lv/my/applications/[0-9a-f]{32}$")
DOWNLOAD = re.compile(r"^/lv/my/files/[0-9a-f]{32}$")
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PROGRAM = b"MZ" + bytes(200)  # a Windows program renamed to .pdf
TYPE_ERROR = "Izvēlētajam failam jābūt kādā no šiem formātiem: PDF, EDOC, ASICE, JPG."
EMAIL_ERROR = re.compile(r"e-pasta adres")
AXE = Axe()  # axe-core as bundled by axe-playwright-python, as in test_accessibility.py


# Isolation: `fresh_drafts` (tests/fixtures/applications.py) deletes a person's drafts of a service before and after.


# --- helpers -----------------------------------------------------------------------------------------------------


def sign_in(page: Page, portal: LivePortal, point: str, person: str) -> None:
    """Sign in on a delivery point (each point is its own host, with its own session cookie)."""
    page.goto(portal.url(point, "/lv/sign-in"))
    page.get_by_role("radio", name=person).check()
    page.get_by_role("button", name="Pieteikties").click()
    expect(page.get_by_role("navigation", name="Jūsu konts")).to_contain_text(person)


def start(page: Page, portal: LivePortal, point: str, service: str) -> None:
    page.goto(portal.url(point, f"/lv/services/{service}"))
    page.get_by_role("link", name="Pieteikties tiešsaistē").click()


def save_and_continue(page: Page) -> None:
    page.get_by_role("button", name="Saglabāt un turpināt").click()


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def mark_document(page: Page) -> str:
    """Leave a marker in this document: a page load would lose it. Return the URL to compare later."""
    page.evaluate("window.__journeyMarker = 1")
    return page.url


def assert_no_page_load(page: Page, url: str) -> None:
    assert page.url == url
    assert page.evaluate("window.__journeyMarker") == 1, "the page was loaded again"


def no_axe_violations(page: Page, what: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "lv")
    results = AXE.run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, f"{what}: {results.generate_report()}"


def sent_for(page: Page, portal: LivePortal, point: str, title: str) -> Locator:
    """Open "Mani pieteikumi" and return the links of the sent applications for the service called `title`."""
    page.goto(portal.url(point, "/lv/my/applications"))
    expect(heading(page)).to_have_text("Mani pieteikumi")
    return page.get_by_role("region", name="Nosūtīts", exact=True).get_by_role("link", name=title, exact=True)


def send_from_the_check_page(page: Page) -> str:
    """Confirm the declaration, send, and return the reference number the receipt shows."""
    page.locator("#declaration").check()
    page.get_by_role("button", name="Nosūtīt pieteikumu").click()
    expect(page).to_have_url(RECEIPT)
    expect(page.get_by_role("status")).to_contain_text("Pieteikums nosūtīts")
    reference = page.locator(".panel__reference strong").inner_text()
    assert REFERENCE.fullmatch(reference), reference
    return reference


def upload(name: str, data: bytes, mime: str = "application/pdf") -> dict[str, Any]:
    return {"name": name, "mimeType": mime, "buffer": data}


# --- 1. residence declaration with JavaScript --------------------------------------------------------------------


def test_residence_declaration_with_javascript_updates_the_page_in_place(
    page: Page, live_portal: LivePortal, fresh_drafts: Callable[[str, str], None]
) -> None:
    fresh_drafts(GIRTS, RESIDENCE)
    sign_in(page, live_portal, "latvija", "Ģirts Kalniņš")
    before = sent_for(page, live_portal, "latvija", RESIDENCE_TITLE).count()
    start(page, live_portal, "latvija", RESIDENCE)

    expect(heading(page)).to_have_text("Iesniedzējs")
    expect(page.get_by_label("Vārds un uzvārds")).to_have_value("Ģirts Kalniņš")  # from his sign-in
    expect(page.get_by_label("Personas kods")).to_have_value("324817-60532")
    save_and_continue(page)

    expect(heading(page)).to_have_text("Jaunā dzīvesvieta")
    page.get_by_label("Iela, mājas un dzīvokļa numurs").fill("Krišjāņa Barona iela 5-12")
    page.get_by_label("Pilsēta vai pagasts").fill("Rīga")
    page.get_by_label("Pasta indekss").fill("LV-1050")
    page.get_by_label("Pārcelšanās datums").fill((date.today() - timedelta(days=5)).isoformat())
    page.get_by_role("group", name="Vai kopā ar jums pārceļas arī citas personas?").get_by_label("Jā").check()
    save_and_continue(page)

    # Conditional questions appear and disappear in place.
    expect(heading(page)).to_have_text("Tiesiskais pamats")
    url = mark_document(page)
    description = page.get_by_label("Aprakstiet pamatu")
    document = page.get_by_label("Dokuments, kas apliecina tiesības dzīvot adresē")
    expect(description).to_have_count(0)
    expect(document).to_be_visible()  # nothing chosen yet: not "owner"
    page.get_by_label("Cits pamats").check()
    expect(description).to_be_visible()
    expect(document).to_be_visible()
    assert_no_page_load(page, url)
    no_axe_violations(page, "form page after a question appeared in place")
    page.get_by_label("Esmu īpašnieks vai kopīpašnieks").check()
    expect(document).to_have_count(0)
    expect(description).to_have_count(0)
    expect(page.locator("#slot-ground_document")).to_be_empty()
    page.get_by_label("Īrēju mājokli").check()
    expect(document).to_be_visible()
    assert_no_page_load(page, url)

    # A chosen file is stored at once; a renamed program is refused next to the field.
    field = page.locator("#field-ground_document")
    document.set_input_files(upload("īres līgums.pdf", PDF))
    expect(field).to_contain_text("Pievienots:")
    link = field.get_by_role("link", name="īres līgums.pdf")
    expect(link).to_have_attribute("href", DOWNLOAD)
    assert_no_page_load(page, url)
    document.set_input_files(upload("x.pdf", PROGRAM))
    expect(field.locator(".field-error")).to_have_text(re.compile(re.escape(TYPE_ERROR)))
    expect(document).to_have_attribute("aria-invalid", "true")
    expect(document).to_have_accessible_description(re.compile(re.escape(TYPE_ERROR)))
    assert_no_page_load(page, url)
    save_and_continue(page)  # the refused file is not sent again; the stored one stays in the draft

    # "Add another" adds an item in place and moves focus to its first field.
    expect(heading(page)).to_have_text("Kas pārceļas kopā ar jums")
    url = mark_document(page)
    first = page.get_by_role("group", name="Persona 1")
    first.get_by_label("Vārds un uzvārds").fill("Marta Kalniņa")
    first.get_by_label("Personas kods").fill("150318-20004")
    first.get_by_label("Bērns").check()
    page.get_by_role("button", name="Pievienot vēl vienu").click()
    second = page.get_by_role("group", name="Persona 2")
    expect(second).to_be_visible()
    # Where focus goes then: test_add_another_moves_focus_to_the_new_item.
    expect(first.get_by_label("Vārds un uzvārds")).to_have_value("Marta Kalniņa")  # nothing given is lost
    expect(first.get_by_label("Personas kods")).to_have_value("150318-20004")
    expect(first.get_by_label("Bērns")).to_be_checked()
    assert_no_page_load(page, url)
    second.get_by_label("Vārds un uzvārds").fill("Roberts Kalniņš")
    second.get_by_label("Personas kods").fill("020921-20009")
    second.get_by_label("Bērns").check()
    save_and_continue(page)

    # A typed field is checked when the person leaves it.
    expect(heading(page)).to_have_text("Saziņa")
    url = mark_document(page)
    page.get_by_label("Tālrunis").fill("+371 21234567")
    email = page.get_by_label("E-pasts")
    email.fill("nav-epasts")
    email.press("Tab")
    email_field = page.locator("#field-contact_email")
    expect(email_field.locator(".field-error")).to_have_text(EMAIL_ERROR)
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_value("nav-epasts")
    expect(page.get_by_role("alert")).to_have_count(0)  # inline only: no error summary, no page load
    assert_no_page_load(page, url)
    no_axe_violations(page, "form page with an inline error")
    email.fill("girts@example.lv")
    email.press("Tab")
    expect(email_field.locator(".field-error")).to_have_count(0)
    expect(email).not_to_have_attribute("aria-invalid", "true")
    assert_no_page_load(page, url)
    save_and_continue(page)

    expect(page).to_have_url(CHECK_PAGE)
    expect(heading(page)).to_have_text("Pirms nosūtīšanas pārbaudiet atbildes")
    expect(page.locator("#answer-ground_document").get_by_role("link", name="īres līgums.pdf")).to_have_attribute(
        "href", DOWNLOAD
    )
    expect(page.locator("#answer-legal_ground")).to_contain_text("Īrēju mājokli")
    expect(page.locator("#answer-moving_people")).to_contain_text("Roberts Kalniņš")
    expect(page.locator("#answer-contact_email")).to_contain_text("girts@example.lv")
    reference = send_from_the_check_page(page)
    expect(heading(page)).to_have_text(RESIDENCE_TITLE)
    expect(page.get_by_role("main").get_by_role("link", name="īres līgums.pdf")).to_be_visible()

    expect(sent_for(page, live_portal, "latvija", RESIDENCE_TITLE)).to_have_count(before + 1)
    expect(page.get_by_role("main").get_by_text(reference)).to_have_count(1)  # listed once
    drafts = page.get_by_role("region", name="Vēl nav nosūtīti")
    expect(drafts.get_by_role("link", name=RESIDENCE_TITLE)).to_have_count(0)


def test_add_another_moves_focus_to_the_new_item(
    page: Page,
    live_portal: LivePortal,
    applications_registry: RegistryProcess,
    fresh_drafts: Callable[[str, str], None],
) -> None:
    fresh_drafts(GIRTS, RESIDENCE)
    answers = {"moves_with_others": True}  # enough for the people page to be shown; the rest is not asked here
    draft_on_page(applications_registry, GIRTS, RESIDENCE, answers, "people")
    sign_in(page, live_portal, "latvija", "Ģirts Kalniņš")
    start(page, live_portal, "latvija", RESIDENCE)  # resumes the draft where it stands
    expect(heading(page)).to_have_text("Kas pārceļas kopā ar jums")
    url = mark_document(page)
    page.get_by_role("group", name="Persona 1").get_by_label("Vārds un uzvārds").fill("Marta Kalniņa")
    page.get_by_role("button", name="Pievienot vēl vienu").click()
    second = page.get_by_role("group", name="Persona 2")
    expect(second).to_be_visible()
    assert_no_page_load(page, url)
    expect(second.get_by_label("Vārds un uzvārds")).to_be_focused(timeout=2000)


def test_a_click_that_leaves_a_field_is_not_lost_when_the_fields_error_goes(
    page: Page, live_portal: LivePortal, fresh_drafts: Callable[[str, str], None]
) -> None:
    """Pressing a checkbox leaves the email field: its check must wait for the release, or the error it removes
    moves the checkbox up between press and release and the click lands elsewhere (a race CI once hit)."""
    fresh_drafts(ELINA, E_ADDRESS)
    sign_in(page, live_portal, "latvija", "Elīna Žagare")
    start(page, live_portal, "latvija", E_ADDRESS)
    email = page.get_by_label("E-pasts paziņojumiem")
    email.fill("nav-epasts")
    save_and_continue(page)
    error = page.locator("#notification_email-error")
    expect(error).to_be_visible()
    page.wait_for_load_state("load")  # the page's scripts run (under load they can lag behind the first paint)
    url = mark_document(page)

    email.fill("elina@example.lv")
    checkbox = page.get_by_role("checkbox", name="E-pastā")
    checkbox.scroll_into_view_if_needed()
    box = checkbox.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()  # the email field loses focus and fires "change" now
    page.wait_for_timeout(500)  # long enough for a check sent now to come back and move the page
    expect(error).to_be_visible()  # nothing has moved while the button is down
    page.mouse.up()
    expect(checkbox).to_be_checked()
    expect(error).to_have_count(0)  # the held-back check was sent after the click
    assert_no_page_load(page, url)


# --- 2. the Riga kindergarten queue, with and without JavaScript -------------------------------------------------


@pytest.mark.parametrize(
    "javascript",
    [
        pytest.param(True, id="with-js"),
        pytest.param(False, id="without-js"),
    ],
)
def test_kindergarten_queue_on_the_riga_point(
    new_context: Callable[..., BrowserContext],
    live_portal: LivePortal,
    fresh_drafts: Callable[[str, str], None],
    javascript: bool,
) -> None:
    fresh_drafts(LIGA, KINDERGARTEN)
    page = new_context(java_script_enabled=javascript).new_page()
    sign_in(page, live_portal, "riga", "Līga Bērziņa")
    before = sent_for(page, live_portal, "riga", KINDERGARTEN_TITLE).count()
    start(page, live_portal, "riga", KINDERGARTEN)

    expect(heading(page)).to_have_text("Iesniedzējs")
    expect(page.get_by_label("Personas kods")).to_have_value("161175-19997")
    page.get_by_role("group", name=re.compile(r"^Vai esat bērna aizbildnis")).get_by_label("Nē").check()
    save_and_continue(page)

    expect(heading(page)).to_have_text("Bērns")
    page.get_by_label("Bērna vārds un uzvārds").fill("Anna Bērziņa")
    page.get_by_label("Bērna personas kods").fill("150318-20004")
    page.get_by_label("Bērna dzimšanas datums").fill("2018-03-15")
    save_and_continue(page)

    expect(heading(page)).to_have_text("Vēlamās iestādes")
    page.get_by_label("Rīgas pirmsskolas izglītības iestāde Teikā").check()
    page.get_by_label("Datums, no kura bērnam vajadzīga vieta").fill(f"{date.today().year + 1}-09-01")
    save_and_continue(page)

    expect(heading(page)).to_have_text("Priekšrocības")
    ground = page.get_by_role("group", name="Priekšrocības pamats")
    document = page.get_by_label("Dokuments par priekšrocību")
    expect(ground).to_have_count(0)
    expect(document).to_have_count(0)
    page.get_by_role("group", name=re.compile(r"^Vai bērnam pienākas priekšrocība")).get_by_label("Jā").check()
    if javascript:
        url = mark_document(page)
        expect(ground).to_be_visible()  # in place
        expect(document).to_be_visible()
        assert_no_page_load(page, url)
    else:
        save_and_continue(page)  # the questions "yes" reveals are asked before moving on, without an error
        expect(heading(page)).to_have_text("Priekšrocības")
        expect(page.get_by_role("alert")).to_have_count(0)
        expect(ground).to_be_visible()
        expect(document).to_be_visible()
        expect(
            page.get_by_role("group", name=re.compile(r"^Vai bērnam pienākas priekšrocība")).get_by_label("Jā")
        ).to_be_checked()  # the answer is kept
    ground.get_by_label(re.compile(r"^Daudzbērnu ģimene")).check()
    document.set_input_files(upload("apliecība.pdf", PDF))
    if javascript:  # stored at once, before "Save and continue"
        expect(page.locator("#field-priority_document")).to_contain_text("Pievienots:")
    save_and_continue(page)  # without JavaScript the file goes with the page

    expect(heading(page)).to_have_text("Saziņa")
    page.get_by_label("Tālrunis").fill("+371 21234567")
    page.get_by_label("E-pasts").fill("liga@example.lv")
    save_and_continue(page)

    expect(page).to_have_url(CHECK_PAGE)
    expect(page.locator("#answer-has_priority")).to_contain_text("Jā")
    expect(page.locator("#answer-priority_ground")).to_contain_text("Daudzbērnu ģimene")
    expect(page.locator("#answer-priority_document").get_by_role("link", name="apliecība.pdf")).to_have_attribute(
        "href", DOWNLOAD
    )
    reference = send_from_the_check_page(page)
    expect(heading(page)).to_have_text(KINDERGARTEN_TITLE)
    expect(page.get_by_role("main").get_by_role("link", name="apliecība.pdf")).to_be_visible()
    expect(sent_for(page, live_portal, "riga", KINDERGARTEN_TITLE)).to_have_count(before + 1)
    expect(page.get_by_role("main").get_by_text(reference)).to_have_count(1)


# --- 3. the e-address without JavaScript -------------------------------------------------------------------------


def test_e_address_without_javascript(
    new_context: Callable[..., BrowserContext], live_portal: LivePortal, fresh_drafts: Callable[[str, str], None]
) -> None:
    fresh_drafts(ELINA, E_ADDRESS)
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page, live_portal, "latvija", "Elīna Žagare")
    start(page, live_portal, "latvija", E_ADDRESS)
    expect(heading(page)).to_have_text("Paziņojumi")
    email = page.get_by_label("E-pasts paziņojumiem")
    email.fill("elina@example")
    save_and_continue(page)
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("link")).to_have_count(2)  # the email, and no channel chosen
    expect(summary).not_to_be_focused()  # nothing moved it: JavaScript is off indeed
    expect(email).to_have_value("elina@example")
    email.fill("elina@example.lv")
    page.get_by_role("checkbox", name="E-pastā").check()
    save_and_continue(page)
    expect(page).to_have_url(CHECK_PAGE)
    expect(page.locator("#answer-notification_email")).to_contain_text("elina@example.lv")
    reference = send_from_the_check_page(page)
    expect(heading(page)).to_have_text(E_ADDRESS_TITLE)
    expect(sent_for(page, live_portal, "latvija", E_ADDRESS_TITLE).first).to_be_visible()
    expect(page.get_by_role("main").get_by_text(reference)).to_have_count(1)


# --- 4. axe on every page of a journey, on every delivery point --------------------------------------------------


@pytest.mark.parametrize("point", list(POINT_HOSTS))
def test_no_axe_violations_on_any_page_of_a_journey(
    page: Page, live_portal: LivePortal, fresh_drafts: Callable[[str, str], None], point: str
) -> None:
    """Sign-in, service page, form page (also with its error summary), check page, receipt, My applications."""
    fresh_drafts(ELINA, E_ADDRESS)
    page.goto(live_portal.url(point, "/lv/sign-in"))
    no_axe_violations(page, "sign-in page")
    page.get_by_role("radio", name="Elīna Žagare").check()
    page.get_by_role("button", name="Pieteikties").click()
    expect(page.get_by_role("navigation", name="Jūsu konts")).to_contain_text("Elīna Žagare")

    page.goto(live_portal.url(point, f"/lv/services/{E_ADDRESS}"))
    no_axe_violations(page, "service page")
    page.get_by_role("link", name="Pieteikties tiešsaistē").click()
    expect(heading(page)).to_have_text("Paziņojumi")
    no_axe_violations(page, "form page")

    save_and_continue(page)  # nothing answered
    expect(page.get_by_role("alert").get_by_role("link")).to_have_count(2)
    no_axe_violations(page, "form page with an error summary")

    email = page.get_by_label("E-pasts paziņojumiem")
    email.fill("elina@example.lv")
    email.press("Tab")  # checked when left: its error goes, and what follows moves up
    expect(page.locator("#field-notification_email .field-error")).to_have_count(0)
    page.get_by_role("checkbox", name="E-pastā").check()
    save_and_continue(page)
    expect(page).to_have_url(CHECK_PAGE)
    no_axe_violations(page, "check page")

    send_from_the_check_page(page)
    no_axe_violations(page, "receipt")

    page.get_by_role("link", name="Mani pieteikumi", exact=True).click()
    expect(heading(page)).to_have_text("Mani pieteikumi")
    no_axe_violations(page, "My applications")
