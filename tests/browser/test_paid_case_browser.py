"""A resident applies and pays the state fee, and the case passes between two institutions, in a real browser.

Ģirts Kalniņš asks Riga for a replacement civil status certificate
(`atkartotas-civilstavokla-akta-apliecibas-izsniegsana-riga`) on the state portal. The service's EUR 7 state fee is
paid online before processing (docs/processing.md, Payments): after sending, the application waits for payment
and its case is in no queue; he pays at the demonstration bank and comes back to a submitted application. Its
process has three steps: the Riga registry office checks the right (Ilze Krūmiņa, a case worker, who first asks
Ģirts for more information), PMLP checks the Register of Natural Persons (Dace Siliņa), and the registry office
issues the certificate (Edgars Lācis: the last step needs a decision maker). Ģirts then sees the decision,
downloads it as a PDF, and anyone can check its verification code.

Ģirts applies for this service only here (grep: no other test uses it), and the test first deletes his drafts of it
(`fresh_drafts`). The registry is shared by every test of a worker, so the employees find *this* case in their
queue by the reference number Ģirts is shown after sending. The people, sign-in and decision helpers are those of
tests/browser/test_case_browser.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_case_browser import (
    CODE,
    QUEUE,
    RECEIPT,
    REFERENCE,
    choose,
    expect_recorded,
    heading,
    no_axe_violations,
    people,  # noqa: F401 - the fixture: one browser context per person
    queue_pages,
    record,
    sign_in,
    status_of,
    take,
)

pytestmark = pytest.mark.browser

SERVICE = "atkartotas-civilstavokla-akta-apliecibas-izsniegsana-riga"
SERVICE_TITLE = "Atkārtotas civilstāvokļa akta reģistrācijas apliecības izsniegšana Rīgā"
GIRTS = "girts-kalnins"
GIRTS_NAME = "Ģirts Kalniņš"
RIGA_WORKER = "Ilze Krūmiņa"  # Riga municipality, case worker
RIGA_DECIDER = "Edgars Lācis"  # Riga municipality, decision maker
PMLP_WORKER = "Dace Siliņa"  # PMLP, case worker and decision maker

FEE = "7,00\N{NO-BREAK SPACE}€"
QUESTION = "Lūdzu, norādiet, kurā gadā mainījāt uzvārdu, ja to esat mainījis."
ANSWER = "Uzvārdu neesmu mainījis."
ENTRY_NUMBER = "DZ-1984-001234"
CERTIFICATE_NUMBER = "AA 0123456"


def apply_for_replacement_certificate(page: Page) -> str:
    """Fill the request in page by page and send it; return the reference number its page shows."""
    page.goto(f"/lv/services/{SERVICE}")
    page.get_by_role("link", name="Pieteikties tiešsaistē").click()
    save = page.get_by_role("button", name="Saglabāt un turpināt")

    expect(heading(page)).to_have_text("Pieprasītājs")
    expect(page.get_by_label("Vārds un uzvārds")).to_have_value(GIRTS_NAME)  # from his sign-in
    expect(page.get_by_label("Personas kods")).to_have_value("324817-60532")
    page.get_by_label("E-pasts").fill("girts@example.lv")
    save.click()

    expect(heading(page)).to_have_text("Apliecība")
    page.get_by_role("group", name="Kāda apliecība vajadzīga?").get_by_label("Dzimšanas apliecība").check()
    page.get_by_role("group", name="Par ko ir ieraksts?").get_by_label("Par mani").check()
    page.get_by_label("Notikuma datums").fill((date.today() - timedelta(days=365 * 40)).isoformat())
    page.get_by_label("Kur notikums reģistrēts").fill("Rīgas dzimtsarakstu nodaļa")
    save.click()

    expect(heading(page)).to_have_text("Saņemšana")
    delivery = page.get_by_role("group", name="Kā vēlaties saņemt apliecību?")
    delivery.get_by_label("Dzimtsarakstu nodaļā").check()
    save.click()

    expect(heading(page)).to_have_text("Pirms nosūtīšanas pārbaudiet atbildes")
    page.locator("#declaration").check()
    page.get_by_role("button", name="Nosūtīt pieteikumu").click()
    expect(page).to_have_url(RECEIPT)
    reference = page.locator(".panel__reference strong").inner_text()
    assert REFERENCE.fullmatch(reference), reference
    return reference


def pay_the_fee(page: Page, reference: str) -> None:
    """On the application page: "Pay", the demonstration bank, "Pay" there, and back to the application."""
    application_url = page.url
    fee = page.get_by_role("region", name="Valsts nodeva")
    expect(fee).to_contain_text("Valsts nodeva par atkārtotu apliecību")
    expect(fee).to_contain_text(FEE)
    expect(fee).to_contain_text("Vēl nav samaksāts")
    no_axe_violations(page, "the application page with the fee due")
    fee.get_by_role("button", name=f"Maksāt {FEE}").click()

    expect(page).to_have_url(re.compile(r"/lv/demo-bank/pay\?state="))
    expect(page.locator(".notice--demo")).to_contain_text("Demonstrācija")
    expect(heading(page)).to_have_text("Valsts nodevas samaksa")
    bank = page.locator("dl.details")
    expect(bank).to_contain_text(reference)
    expect(bank).to_contain_text(FEE)
    expect(bank).not_to_contain_text(GIRTS_NAME)  # the provider learns no personal data
    no_axe_violations(page, "the demonstration bank")
    page.get_by_role("button", name="Maksāt", exact=True).click()

    expect(page).to_have_url(re.compile(re.escape(application_url) + "$"))
    fee = page.get_by_role("region", name="Valsts nodeva")
    expect(fee.get_by_role("status")).to_contain_text("Maksājums ir saņemts")
    expect(fee).to_contain_text("Samaksāts")
    expect(fee.get_by_role("button", name=re.compile(r"^Maksāt"))).to_have_count(0)
    expect(status_of(page)).to_have_text("Iesniegts")


def filtered_queue(page: Page) -> None:
    """Open the work queue filtered to this service (the filter itself, htmx and plain GET, is tested in
    test_staff_browser.py; here the filtered address is enough)."""
    page.get_by_role("navigation", name="Jūsu konts").get_by_role("link", name="Darba rinda").click()
    expect(heading(page)).to_have_text("Darba rinda")
    page.goto(f"/lv/staff/?service={SERVICE}")
    expect(page.locator("#service")).to_have_value(SERVICE)


def open_from_queue(page: Page, reference: str) -> None:
    """In the work queue of this service, page on to `reference` and open it."""
    filtered_queue(page)
    for _ in queue_pages(page, SERVICE_TITLE):
        link = page.locator("#results").get_by_role("link", name=reference, exact=True)
        if link.count():
            link.click()
            expect(heading(page)).to_have_text(f"Lieta {reference}")
            return
    raise AssertionError(f"{reference} is not in the work queue")


def not_in_queue(page: Page, reference: str) -> None:
    """The work queue filtered by the service has no link to `reference` on any page."""
    filtered_queue(page)
    for _ in queue_pages(page, SERVICE_TITLE):
        expect(page.locator("#results").get_by_role("link", name=reference, exact=True)).to_have_count(0)


def current_step(page: Page, title: str) -> None:
    expect(page.locator('[aria-current="step"]')).to_contain_text(title)


def test_resident_pays_the_fee_and_the_case_passes_riga_pmlp_riga(
    people: Callable[..., Page],  # noqa: F811 - the fixture imported from test_case_browser
    fresh_drafts: Callable[[str, str], None],
) -> None:
    fresh_drafts(GIRTS, SERVICE)
    girts = people()
    sign_in(girts, GIRTS_NAME)
    reference = apply_for_replacement_certificate(girts)
    application_url = girts.url

    # Sent, but waiting for the fee: no institution sees it yet.
    expect(status_of(girts)).to_have_text("Gaida apmaksu")
    ilze = people()
    sign_in(ilze, RIGA_WORKER)
    expect(ilze).to_have_url(QUEUE)
    not_in_queue(ilze, reference)

    pay_the_fee(girts, reference)

    # Riga: the paid case is in the queue at the first step; Ilze takes it and asks for more information.
    open_from_queue(ilze, reference)
    expect(ilze.locator("dl.staff-facts")).to_contain_text(GIRTS_NAME)
    current_step(ilze, "Tiesību pārbaude dzimtsarakstu nodaļā")
    take(ilze)
    choose(ilze, "Pieprasīt iesniedzējam papildu informāciju")
    ilze.get_by_label("Pamatojums vai ziņa").fill(QUESTION)
    record(ilze)
    expect_recorded(ilze, reference)

    # Ģirts: the question is on his application page; he answers with text.
    girts.goto(application_url)
    expect(status_of(girts)).to_have_text("Pieprasīta papildu informācija")
    request = girts.get_by_role("region", name="Iestādei vajag papildu informāciju")
    expect(request.locator("blockquote")).to_have_text(QUESTION)
    request.get_by_label("Jūsu atbilde").fill(ANSWER)
    request.get_by_role("button", name="Nosūtīt atbildi").click()
    expect(status_of(girts)).to_have_text("Izskatīšanā")
    expect(girts.get_by_role("region", name="Iestādei vajag papildu informāciju")).to_have_count(0)

    # Riga: the answer is on the case; Ilze approves her step with its step form.
    open_from_queue(ilze, reference)
    timeline = ilze.get_by_role("region", name="Gaita")
    expect(timeline).to_contain_text("Iesniedzējs atbildēja")
    expect(timeline).to_contain_text(ANSWER)
    choose(ilze, "Apstiprināt")
    right = ilze.get_by_role("group", name="Pieprasītājam ir tiesības saņemt apliecību")
    right.get_by_label("Jā").check()
    ilze.get_by_label("Civilstāvokļa akta ieraksta numurs").fill(ENTRY_NUMBER)
    record(ilze)
    expect_recorded(ilze, reference)
    expect(ilze.locator("#results").get_by_role("link", name=reference, exact=True)).to_have_count(0)  # PMLP's now

    # PMLP: Dace finds the case at the register step and approves it.
    dace = people()
    sign_in(dace, PMLP_WORKER)
    open_from_queue(dace, reference)
    current_step(dace, "Ziņu pārbaude Fizisko personu reģistrā (PMLP)")
    take(dace)
    choose(dace, "Apstiprināt")
    dace.get_by_role("group", name="Ziņas reģistrā sakrīt ar pieprasījumu").get_by_label("Jā").check()
    record(dace)
    expect_recorded(dace, reference)

    # Riga again: Edgars, a decision maker, issues the certificate: the last step decides the application.
    edgars = people()
    sign_in(edgars, RIGA_DECIDER)
    open_from_queue(edgars, reference)
    current_step(edgars, "Apliecības izsniegšana")
    take(edgars)
    choose(edgars, "Apstiprināt")
    edgars.get_by_label("Apliecības sērija un numurs").fill(CERTIFICATE_NUMBER)
    edgars.get_by_label("Izsniegšanas datums").fill(date.today().isoformat())
    record(edgars)
    expect_recorded(edgars, reference)

    # Ģirts: the decision, its PDF, and its verification code.
    girts.reload()
    expect(status_of(girts)).to_have_text("Lēmums pieņemts")
    decision = girts.get_by_role("region", name="Lēmums", exact=True)
    expect(decision).to_contain_text("Apstiprināts")
    code = decision.locator(".verification-code").inner_text()
    assert CODE.fullmatch(code), code
    expect(girts.get_by_role("region", name="Valsts nodeva")).to_contain_text("Samaksāts")

    pdf_link = decision.get_by_role("link", name="Lejupielādēt lēmumu (PDF)")
    with girts.expect_response(re.compile(r"/result\.pdf$")) as response_info, girts.expect_download() as download_info:
        pdf_link.click()
    response = response_info.value
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'attachment; filename="{reference}-result.pdf"'
    download = download_info.value
    assert download.suggested_filename == f"{reference}-result.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF-")

    # Anyone (no sign-in) checks the code on the public verification page.
    visitor = people()
    visitor.goto("/lv/verify")
    visitor.get_by_label("Pārbaudes kods").fill(code)
    visitor.get_by_role("button", name="Pārbaudīt dokumentu").click()
    expect(heading(visitor)).to_have_text("Dokuments ir īsts")
    facts = visitor.locator("dl.details")
    expect(facts).to_contain_text(reference)
    expect(facts).to_contain_text(SERVICE_TITLE)
    expect(facts).to_contain_text("Apstiprināts")
    expect(facts).not_to_contain_text(GIRTS_NAME)
