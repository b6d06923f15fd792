"""One case through two institutions in a real browser, every person by hand in their own browser context.

Jānis Ozoliņš applies online for the unemployed status (`bezdarbnieka-statusa-pieskirsana`) on the state portal.
Its process has two steps: NVA assesses the status (Anna Liepiņa, a case worker), then VSAA decides the benefit
(Mārtiņš Vītols, a decision maker). With JavaScript, NVA asks for more information first and Jānis answers with
text and a PDF; without JavaScript, the employees take the case and meet the step form's error summary first. The
end is the same: Jānis sees the decision, downloads it as a PDF, and anyone can check its verification code.

Jānis applies for the unemployed status only here (Līga and Ģirts apply for it in other modules), and each test
first deletes his drafts of it (`fresh_drafts`). The registry is shared by every test of a worker, so the
employees find *this* case in their queue by the reference number Jānis is shown after sending.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.browser.test_accessibility import AXE_OPTIONS
from tests.fixtures.browser import LivePortal

pytestmark = pytest.mark.browser

SERVICE = "bezdarbnieka-statusa-pieskirsana"
SERVICE_TITLE = "Bezdarbnieka statusa piešķiršana"
JANIS = "janis-ozolins"
JANIS_NAME = "Jānis Ozoliņš"
NVA_WORKER = "Anna Liepiņa"  # NVA, case worker
VSAA_DECIDER = "Mārtiņš Vītols"  # VSAA, case worker and decision maker

REFERENCE = re.compile(r"PT-\d{4}-\d{6}")
RECEIPT = re.compile(r"/lv/my/applications/[0-9a-f]{32}$")
QUEUE = re.compile(r"/lv/staff/(\?.*)?$")
CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
QUESTION = "Lūdzu, pievienojiet darba devēja izziņu par darba attiecību izbeigšanu."
ANSWER = "Pievienoju darba devēja izziņu."
IBAN = "LV80BANK0000435195001"  # the ECBS example of a Latvian IBAN (valid check digits)
AXE = Axe()  # axe-core as bundled by axe-playwright-python, as in test_accessibility.py


# --- people and their browsers -----------------------------------------------------------------------------------


@pytest.fixture
def people(browser: Browser, live_portal: LivePortal) -> Iterator[Callable[..., Page]]:
    """Call it for each person: a new browser context (own cookies, own session) on the state portal, and a page.

    Every context is closed when the test ends.
    """
    contexts: list[BrowserContext] = []

    def person(*, javascript: bool = True) -> Page:
        context = browser.new_context(
            base_url=live_portal.url("latvija", ""), java_script_enabled=javascript, accept_downloads=True
        )
        contexts.append(context)
        return context.new_page()

    yield person
    for context in contexts:
        context.close()


def sign_in(page: Page, name: str) -> None:
    page.goto("/lv/sign-in")
    page.get_by_role("radio", name=name).check()
    page.get_by_role("button", name="Pieteikties").click()
    expect(page.get_by_role("navigation", name="Jūsu konts")).to_contain_text(name)


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def no_axe_violations(page: Page, what: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "lv")
    results = AXE.run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, f"{what}: {results.generate_report()}"


def status_of(page: Page) -> Locator:
    """The status on the applicant's application page (the first fact of its details list)."""
    return page.locator("dl.details dd").first


# --- the resident ------------------------------------------------------------------------------------------------


def apply_for_unemployed_status(page: Page, *, javascript: bool) -> str:
    """Fill the application in page by page, send it, and return the reference number the receipt shows."""
    page.goto(f"/lv/services/{SERVICE}")
    page.get_by_role("link", name="Pieteikties tiešsaistē").click()
    save = page.get_by_role("button", name="Saglabāt un turpināt")

    expect(heading(page)).to_have_text("Iesniedzējs un saziņa")
    expect(page.get_by_label("Vārds un uzvārds")).to_have_value(JANIS_NAME)  # from his sign-in
    expect(page.get_by_label("Personas kods")).to_have_value("180565-05610")
    page.get_by_label("Tālrunis").fill("+371 21234567")
    page.get_by_label("E-pasts").fill("janis@example.lv")
    save.click()

    expect(heading(page)).to_have_text("Izglītība")
    page.get_by_label("Augstākā iegūtā izglītība").select_option(label="Vispārējā vidējā izglītība")
    save.click()

    expect(heading(page)).to_have_text("Iepriekšējais darbs")
    page.get_by_role("group", name="Vai jums iepriekš ir bijušas darba attiecības?").get_by_label("Jā").check()
    if not javascript:
        save.click()  # the questions "yes" reveals are asked on the same page before moving on
        expect(heading(page)).to_have_text("Iepriekšējais darbs")
    page.get_by_label("Pēdējais darba devējs").fill("SIA “Saulrieti”")
    page.get_by_label("Darba attiecību beigu datums").fill((date.today() - timedelta(days=3)).isoformat())
    page.get_by_role("group", name="Kāpēc darba attiecības beidzās?").get_by_label("Pusēm vienojoties").check()
    save.click()

    expect(heading(page)).to_have_text("Bezdarbnieka pabalsts")
    benefit = page.get_by_role("group", name="Vai vienlaikus piesakāties arī bezdarbnieka pabalstam?")
    benefit.get_by_label("Jā").check()
    if not javascript:
        save.click()
        expect(heading(page)).to_have_text("Bezdarbnieka pabalsts")
    page.get_by_label("Bankas konta numurs (IBAN) pabalsta izmaksai").fill(IBAN)
    save.click()

    expect(heading(page)).to_have_text("Pirms nosūtīšanas pārbaudiet atbildes")
    page.locator("#declaration").check()
    page.get_by_role("button", name="Nosūtīt pieteikumu").click()
    expect(page).to_have_url(RECEIPT)
    expect(page.get_by_role("status").first).to_contain_text("Pieteikums nosūtīts")
    reference = page.locator(".panel__reference strong").inner_text()
    assert REFERENCE.fullmatch(reference), reference
    expect(status_of(page)).to_have_text("Iesniegts")
    return reference


# --- the employees -----------------------------------------------------------------------------------------------


def open_from_queue(page: Page, reference: str, *, javascript: bool, mine: bool = False) -> None:
    """In the work queue, show this service's cases (and only the employee's own), page on to `reference`, open it."""
    page.get_by_role("navigation", name="Jūsu konts").get_by_role("link", name="Darba rinda").click()
    expect(heading(page)).to_have_text("Darba rinda")
    page.wait_for_load_state("load")  # htmx is set up (under load its script can run after the first paint)
    page.get_by_label("Pakalpojums").select_option(SERVICE)
    if mine:
        page.get_by_label("Tikai man piešķirtās").check()
    if not javascript:
        page.get_by_role("button", name="Rādīt lietas").click()
    expect(page).to_have_url(re.compile(rf"[?&]service={SERVICE}" + ("&mine=1" if mine else "")))
    for _ in queue_pages(page, SERVICE_TITLE):
        link = page.locator("#results").get_by_role("link", name=reference, exact=True)
        if link.count():
            link.click()
            expect(heading(page)).to_have_text(f"Lieta {reference}")
            return
    raise AssertionError(f"{reference} is not in the work queue")


def queue_pages(page: Page, service_title: str) -> Iterator[int]:
    """Go through the pages of a work queue filtered to one service (20 a page, oldest due date first)."""
    rows = page.locator("#results tbody tr")
    for number in range(1, 50):
        expect(rows.filter(has_not_text=service_title)).to_have_count(0)  # the filtered results are in
        yield number
        following = page.get_by_role("link", name="Nākamā lapa")
        if not following.count():
            return
        following.click()
        expect(page).to_have_url(re.compile(rf"[?&]page={number + 1}(&|$)"))
    raise AssertionError("the work queue has more than 49 pages")


def take(page: Page) -> None:
    page.get_by_role("button", name="Paņemt šo lietu").click()
    expect(page.get_by_role("button", name="Atdot rindā")).to_be_visible()
    expect(page.locator("dl.staff-facts")).to_contain_text("Jūs")


def choose(page: Page, outcome: str) -> None:
    page.get_by_role("group", name="Lēmums").get_by_label(outcome, exact=True).check()


def record(page: Page) -> None:
    page.get_by_role("button", name="Reģistrēt lēmumu").click()


def expect_recorded(page: Page, reference: str) -> None:
    expect(page).to_have_url(QUEUE)
    expect(page.locator(".notice--success")).to_contain_text(f"Lēmums lietā {reference} ir reģistrēts.")


def expect_error_summary(page: Page, field_id: str, *, javascript: bool) -> None:
    """The decision came back with an error summary that links to the empty required question."""
    summary = page.get_by_role("alert")
    expect(summary.locator(f'a[href="#{field_id}"]')).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Kļūda: "))
    if javascript:
        expect(summary).to_be_focused()  # read first
    else:
        expect(summary).not_to_be_focused()  # nothing moved it: JavaScript is off indeed
    expect(page.locator(f"#{field_id}")).to_have_attribute("aria-invalid", "true")


def approve_nva_step(page: Page, *, javascript: bool, check_axe: bool = False) -> None:
    """Approve NVA's step: first with "status from" empty (an error; nothing typed is lost), then filled in."""
    choose(page, "Apstiprināt")
    registered = page.get_by_role("group", name="Persona reģistrēta kā darba meklētājs").get_by_label("Jā")
    registered.check()
    consultation = (date.today() + timedelta(days=7)).isoformat()
    page.get_by_label("Pirmās konsultācijas datums").fill(consultation)
    page.get_by_label("Pamatojums vai ziņa").fill("Reģistrēts NVA Rīgas filiālē.")
    record(page)

    expect_error_summary(page, "status_from", javascript=javascript)
    expect(registered).to_be_checked()
    expect(page.get_by_label("Pirmās konsultācijas datums")).to_have_value(consultation)
    expect(page.get_by_label("Pamatojums vai ziņa")).to_have_value("Reģistrēts NVA Rīgas filiālē.")
    expect(page.get_by_role("group", name="Lēmums").get_by_label("Apstiprināt", exact=True)).to_be_checked()
    if check_axe:
        no_axe_violations(page, "decision form with an error")
    page.get_by_label("Bezdarbnieka statuss no").fill(date.today().isoformat())
    record(page)


def approve_vsaa_step(page: Page, *, javascript: bool, with_error: bool) -> None:
    """Decide the benefit (the last step); optionally first without the amount (an error, nothing typed lost)."""
    choose(page, "Apstiprināt")
    months = page.get_by_label(re.compile(r"^Apdrošināšanas stāžs pēdējos 16 mēnešos"))
    months.fill("12")
    until = (date.today() + timedelta(days=240)).isoformat()
    page.get_by_label("Pabalstu izmaksā līdz").fill(until)
    amount = page.get_by_label("Pabalsta apmērs mēnesī (EUR)")
    if with_error:
        record(page)
        expect_error_summary(page, "monthly_amount", javascript=javascript)
        expect(months).to_have_value("12")
        expect(page.get_by_label("Pabalstu izmaksā līdz")).to_have_value(until)
    amount.fill("450")
    record(page)


# --- 1. with JavaScript: a request for more information, two institutions, the result and its check ------------


def test_unemployed_status_case_through_nva_and_vsaa_with_javascript(
    people: Callable[..., Page], fresh_drafts: Callable[[str, str], None]
) -> None:
    fresh_drafts(JANIS, SERVICE)
    janis = people()
    sign_in(janis, JANIS_NAME)
    reference = apply_for_unemployed_status(janis, javascript=True)
    application_url = janis.url

    # NVA: find the case in the queue, take it, ask for more information.
    anna = people()
    sign_in(anna, NVA_WORKER)
    expect(anna).to_have_url(QUEUE)  # signing in without `next` lands on the work queue
    open_from_queue(anna, reference, javascript=True)
    no_axe_violations(anna, "case page")
    expect(anna.locator("dl.staff-facts")).to_contain_text(JANIS_NAME)
    expect(anna.locator('[aria-current="step"]')).to_contain_text("Bezdarbnieka statusa izvērtēšana (NVA)")
    take(anna)
    choose(anna, "Pieprasīt iesniedzējam papildu informāciju")
    anna.get_by_label("Pamatojums vai ziņa").fill(QUESTION)
    record(anna)
    expect_recorded(anna, reference)
    no_axe_violations(anna, "work queue")

    # Jānis: the application waits for his answer; the question is on its page and in his messages.
    janis.goto(application_url)
    expect(status_of(janis)).to_have_text("Pieprasīta papildu informācija")
    request = janis.get_by_role("region", name="Iestādei vajag papildu informāciju")
    expect(request.locator("blockquote")).to_have_text(QUESTION)
    no_axe_violations(janis, "application page with the information request form")

    account = janis.get_by_role("navigation", name="Jūsu konts")
    account.get_by_role("link", name=re.compile(r"^Paziņojumi")).click()
    expect(heading(janis)).to_have_text("Paziņojumi")
    message = janis.get_by_role("article", name=f"Pieteikumam {reference} vajadzīga papildu informācija")
    expect(message).to_contain_text(QUESTION)
    expect(message).to_contain_text("Nav izlasīts")
    no_axe_violations(janis, "inbox")
    message.get_by_role("link", name=re.compile(r"^Atvērt pieteikumu")).click()
    expect(janis).to_have_url(re.compile(re.escape(application_url) + "$"))

    request.get_by_label("Jūsu atbilde").fill(ANSWER)
    request.get_by_label("Dokumenti (nav obligāti)").set_input_files(
        {"name": "izziņa.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    request.get_by_role("button", name="Nosūtīt atbildi").click()
    expect(status_of(janis)).to_have_text("Izskatīšanā")
    expect(janis.get_by_role("region", name="Iestādei vajag papildu informāciju")).to_have_count(0)

    # NVA: the answer and the file are on the case; she approves her step with the step form.
    open_from_queue(anna, reference, javascript=True, mine=True)
    timeline = anna.get_by_role("region", name="Gaita")
    expect(timeline).to_contain_text("Iesniedzējs atbildēja")
    expect(timeline).to_contain_text(ANSWER)
    expect(anna.get_by_role("region", name="Pielikumi").get_by_role("link", name="izziņa.pdf")).to_be_visible()
    approve_nva_step(anna, javascript=True, check_axe=True)
    expect_recorded(anna, reference)
    expect(anna.locator("#results").get_by_role("link", name=reference, exact=True)).to_have_count(0)  # VSAA's now

    # VSAA: the case is in Mārtiņš's queue at the benefit step; he takes it and approves: the application is decided.
    martins = people()
    sign_in(martins, VSAA_DECIDER)
    open_from_queue(martins, reference, javascript=True)
    expect(martins.locator('[aria-current="step"]')).to_contain_text("Bezdarbnieka pabalsta piešķiršana (VSAA)")
    take(martins)
    approve_vsaa_step(martins, javascript=True, with_error=False)
    expect_recorded(martins, reference)

    # Jānis: the decision, its PDF, and its verification code.
    janis.reload()
    expect(status_of(janis)).to_have_text("Lēmums pieņemts")
    decision = janis.get_by_role("region", name="Lēmums", exact=True)
    expect(decision).to_contain_text("Apstiprināts")
    code = decision.locator(".verification-code").inner_text()
    assert CODE.fullmatch(code), code

    pdf_link = decision.get_by_role("link", name="Lejupielādēt lēmumu (PDF)")
    with janis.expect_response(re.compile(r"/result\.pdf$")) as response_info, janis.expect_download() as download_info:
        pdf_link.click()
    response = response_info.value
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'attachment; filename="{reference}-result.pdf"'
    download = download_info.value
    assert download.suggested_filename == f"{reference}-result.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF-")
    assert response.headers["cache-control"] == "no-store"

    decision.get_by_role("link", name="Atvērt lēmumu kā dokumentu").click()
    expect(janis.locator(".verification-code")).to_have_text(code)
    no_axe_violations(janis, "result page")

    # Anyone (no sign-in) checks the code on the public verification page.
    visitor = people()
    visitor.goto("/lv/verify")
    visitor.get_by_label("Pārbaudes kods").fill(code)
    visitor.get_by_role("button", name="Pārbaudīt dokumentu").click()
    expect(heading(visitor)).to_have_text("Dokuments ir īsts")
    expect(visitor.get_by_role("status")).to_contain_text(code)
    facts = visitor.locator("dl.details")
    expect(facts).to_contain_text(reference)
    expect(facts).to_contain_text(SERVICE_TITLE)
    expect(facts).to_contain_text("Apstiprināts")
    expect(facts).not_to_contain_text(JANIS_NAME)
    no_axe_violations(visitor, "verification page")


# --- 2. the staff side without JavaScript ------------------------------------------------------------------------


def test_employees_take_and_decide_the_case_without_javascript(
    people: Callable[..., Page], fresh_drafts: Callable[[str, str], None]
) -> None:
    fresh_drafts(JANIS, SERVICE)
    janis = people(javascript=False)
    sign_in(janis, JANIS_NAME)
    reference = apply_for_unemployed_status(janis, javascript=False)
    application_url = janis.url

    anna = people(javascript=False)
    sign_in(anna, NVA_WORKER)
    open_from_queue(anna, reference, javascript=False)
    take(anna)
    approve_nva_step(anna, javascript=False)
    expect_recorded(anna, reference)

    janis.goto(application_url)
    expect(status_of(janis)).to_have_text("Izskatīšanā")

    martins = people(javascript=False)
    sign_in(martins, VSAA_DECIDER)
    open_from_queue(martins, reference, javascript=False)
    take(martins)
    approve_vsaa_step(martins, javascript=False, with_error=True)
    expect_recorded(martins, reference)

    janis.reload()
    expect(status_of(janis)).to_have_text("Lēmums pieņemts")
    decision = janis.get_by_role("region", name="Lēmums", exact=True)
    expect(decision).to_contain_text("Apstiprināts")
    expect(decision.locator(".verification-code")).to_have_text(CODE)
