"""Applying online in a real browser: with JavaScript, without it, and continuing a draft on another device.

The live portal runs over `applications_registry` (tests/fixtures/browser.py), which every test of a session (of an
xdist worker) shares, integration tests included, and a person has one draft per service. So each journey has a
(person, service) pair of its own: Ģirts Kalniņš applies for an e-address with JavaScript; Jānis Ozoliņš declares
his residence without it (an internet bank is not enough for the e-address); Līga Bērziņa leaves a residence
draft to continue on another device (tests/integration use her for the e-address only); Ģirts's residence draft
shows a known gap. A journey that ends with "send" leaves no draft behind.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from playwright.sync_api import BrowserContext, Page, Request, expect

from tests.browser.test_accessibility import tab_to

pytestmark = pytest.mark.browser

E_ADDRESS = "/lv/services/e-adreses-izveide"
E_ADDRESS_TITLE = "Oficiālās elektroniskās adreses (e-adreses) izveide"
RESIDENCE = "/lv/services/dzivesvietas-deklaresana"
RESIDENCE_TITLE = "Dzīvesvietas deklarēšana"
REFERENCE = re.compile(r"PT-\d{4}-\d{6}")
DRAFT_PAGE = re.compile(r"/lv/my/drafts/[0-9a-f]{32}/pages/[a-z-]+$")
CHECK_PAGE = re.compile(r"/lv/my/drafts/[0-9a-f]{32}/check$")
RECEIPT = re.compile(r"/lv/my/applications/[0-9a-f]{32}$")
# Made-up people of app/auth/demo_people.toml, and personal codes that pass the checksum (forms.validators).
JANIS = ("Jānis Ozoliņš", "180565-05610")
CHILDREN = (("Anna Ozoliņa", "150318-20004"), ("Kārlis Ozoliņš", "020921-20009"))
RECORD_SUBMITS = """window.addEventListener("submit", (event) => sessionStorage.setItem(
  "submits", (sessionStorage.getItem("submits") || "") + (event.defaultPrevented ? "P" : "S")))"""


def sign_in(page: Page, person: str) -> None:
    """Sign in as a demo person with the mouse."""
    page.goto("/lv/sign-in")
    page.get_by_role("radio", name=person).check()
    page.get_by_role("button", name="Pieteikties").click()
    expect(page.get_by_role("navigation", name="Jūsu konts")).to_contain_text(person)


def sign_in_with_the_keyboard(page: Page, person: str) -> None:
    """Sign in as a demo person with Tab, the arrow keys and Enter only."""
    page.goto("/lv/sign-in")
    first = page.get_by_role("radio", name="Līga Bērziņa")  # the first person; Tab enters the group there
    tab_to(page, first)
    page.keyboard.press("Space")
    wanted = page.get_by_role("radio", name=person)
    for _ in range(5):
        if wanted.is_checked():
            break
        page.keyboard.press("ArrowDown")
    expect(wanted).to_be_checked()
    tab_to(page, page.get_by_role("button", name="Pieteikties"), limit=2)
    page.keyboard.press("Enter")
    expect(page.get_by_role("navigation", name="Jūsu konts")).to_contain_text(person)


def open_my_applications(page: Page) -> None:
    """Open "Mani pieteikumi" from the account menu."""
    page.get_by_role("navigation", name="Jūsu konts").get_by_role("link", name="Mani pieteikumi").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mani pieteikumi")


def sent_for(page: Page, title: str) -> int:
    """Open "Mani pieteikumi"; return how many sent applications it lists for the service called `title`."""
    open_my_applications(page)
    return page.get_by_role("region", name="Nosūtīts", exact=True).get_by_role("link", name=title).count()


def save_and_continue(page: Page) -> None:
    page.get_by_role("button", name="Saglabāt un turpināt").click()


def test_apply_with_javascript_shows_focused_errors_and_sends_once_on_a_double_click(page: Page) -> None:
    sign_in_with_the_keyboard(page, "Ģirts Kalniņš")
    before = sent_for(page, E_ADDRESS_TITLE)

    page.goto(E_ADDRESS)
    page.get_by_role("link", name="Pieteikties tiešsaistē").click()
    expect(page).to_have_url(re.compile(r"/lv/my/drafts/[0-9a-f]{32}/pages/notifications$"))  # a new draft
    expect(page.get_by_role("heading", level=1)).to_have_text("Paziņojumi")

    email = page.get_by_label("E-pasts paziņojumiem")
    email.fill("nav-epasts")
    page.get_by_role("checkbox", name="E-pastā").check()
    save_and_continue(page)

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Radusies problēma")
    expect(summary).to_be_focused()  # portal.js moves focus there on load: it is read first
    assert summary.evaluate("element => element === document.activeElement")
    expect(page).to_have_title(re.compile(r"^Kļūda: Paziņojumi – "))
    link = summary.get_by_role("link")
    expect(link).to_have_attribute("href", "#notification_email")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description(re.compile(r"Kļūda:"))
    expect(email).to_have_value("nav-epasts")  # nothing typed is lost
    expect(page.get_by_role("checkbox", name="E-pastā")).to_be_checked()
    link.click()
    expect(email).to_be_focused()

    email.fill("girts@example.lv")
    save_and_continue(page)
    expect(page).to_have_url(CHECK_PAGE)
    expect(page.get_by_role("heading", level=1)).to_have_text("Pirms nosūtīšanas pārbaudiet atbildes")
    expect(page.locator("#answer-notification_email")).to_contain_text("girts@example.lv")
    expect(page.locator("#answer-notification_channels")).to_contain_text("E-pastā")

    page.get_by_role("checkbox", name=re.compile(r"^Piekrītu e-adreses lietošanas noteikumiem")).check()
    sends: list[Request] = []
    page.on("request", lambda request: sends.append(request) if request.method == "POST" else None)
    # Record each submit event after portal.js has seen it (S: sent, P: prevented); sessionStorage outlives the load.
    page.evaluate(RECORD_SUBMITS)
    page.get_by_role("button", name="Nosūtīt pieteikumu").dblclick()
    expect(page).to_have_url(RECEIPT)
    expect(page.get_by_role("status")).to_contain_text("Pieteikums nosūtīts")
    reference = page.locator(".panel__reference strong").inner_text()
    assert REFERENCE.fullmatch(reference), reference
    assert page.evaluate("sessionStorage.getItem('submits')") == "SP"  # both clicks submitted; portal.js stopped one
    assert len(sends) == 1, [r.url for r in sends]

    assert sent_for(page, E_ADDRESS_TITLE) == before + 1  # exactly one new application
    expect(page.get_by_role("main").get_by_text(reference)).to_have_count(1)


def test_apply_without_javascript_across_pages_with_a_conditional_page_and_a_group(
    new_context: Callable[..., BrowserContext],
) -> None:
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page, JANIS[0])
    before = sent_for(page, RESIDENCE_TITLE)
    page.goto(RESIDENCE)
    page.get_by_role("link", name="Pieteikties tiešsaistē").click()
    caption = page.locator(".caption")

    expect(page.get_by_role("heading", level=1)).to_have_text("Iesniedzējs")
    expect(caption).to_contain_text("1. solis no 4")
    page.get_by_label("Vārds un uzvārds").fill(JANIS[0])
    page.get_by_label("Personas kods").fill(JANIS[1])
    save_and_continue(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Jaunā dzīvesvieta")
    expect(caption).to_contain_text("2. solis no 4")
    page.get_by_label("Iela, mājas un dzīvokļa numurs").fill("Jēkaba iela 11-5")
    page.get_by_label("Pilsēta vai pagasts").fill("Rīga")
    page.get_by_label("Pasta indekss").fill("LV-1050")
    page.get_by_label("Pārcelšanās datums").fill((date.today() - timedelta(days=10)).isoformat())
    page.get_by_role("group", name="Vai kopā ar jums pārceļas arī citas personas?").get_by_label("Jā").check()
    save_and_continue(page)

    # "Yes, others move with me" adds the page about them: four steps became five.
    expect(page.get_by_role("heading", level=1)).to_have_text("Tiesiskais pamats")
    expect(caption).to_contain_text("3. solis no 5")
    page.get_by_label("Esmu īpašnieks vai kopīpašnieks").check()
    save_and_continue(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Kas pārceļas kopā ar jums")
    expect(caption).to_contain_text("4. solis no 5")
    first = page.get_by_role("group", name="Persona 1")
    first.get_by_label("Vārds un uzvārds").fill(CHILDREN[0][0])
    first.get_by_label("Personas kods").fill(CHILDREN[0][1])
    first.get_by_label("Bērns").check()
    page.get_by_role("button", name="Pievienot vēl vienu").click()
    second = page.get_by_role("group", name="Persona 2")
    expect(second).to_be_visible()
    expect(first.get_by_label("Vārds un uzvārds")).to_have_value(CHILDREN[0][0])  # nothing given is lost
    expect(first.get_by_label("Personas kods")).to_have_value(CHILDREN[0][1])
    expect(first.get_by_label("Bērns")).to_be_checked()
    second.get_by_label("Vārds un uzvārds").fill(CHILDREN[1][0])
    second.get_by_label("Personas kods").fill(CHILDREN[1][1])
    save_and_continue(page)  # the second person's relation is not chosen yet

    summary = page.get_by_role("alert")
    expect(summary).not_to_be_focused()  # nothing moved it: JavaScript is off indeed
    expect(summary.get_by_role("link")).to_have_count(1)
    summary.get_by_role("link").click()  # a plain in-page link to the first option: no script needed
    expect(second.get_by_label("Bērns")).to_be_focused()
    expect(first.get_by_label("Vārds un uzvārds")).to_have_value(CHILDREN[0][0])
    page.keyboard.press("Space")
    expect(second.get_by_label("Bērns")).to_be_checked()
    save_and_continue(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Saziņa")
    phone = page.get_by_label("Tālrunis")
    phone.fill("12345")
    page.get_by_label("E-pasts").fill("janis@example.lv")
    save_and_continue(page)
    expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute("href", "#contact_phone")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(phone).to_have_value("12345")
    phone.fill("+371 21234567")
    save_and_continue(page)

    expect(page).to_have_url(CHECK_PAGE)
    people = page.locator("#answer-moving_people")
    for name, code in CHILDREN:
        expect(people).to_contain_text(name)
        expect(people).to_contain_text(code)
    expect(page.locator("#answer-moves_with_others")).to_contain_text("Jā")
    expect(page.locator("#answer-address")).to_contain_text("Jēkaba iela 11-5")
    expect(page.locator(".field-error")).to_have_count(0)
    page.get_by_role("checkbox", name=re.compile(r"^Apliecinu, ka sniegtās ziņas ir patiesas")).check()
    page.get_by_role("button", name="Nosūtīt pieteikumu").click()

    expect(page).to_have_url(RECEIPT)
    expect(page.get_by_role("status")).to_contain_text("Pieteikums nosūtīts")
    expect(page.get_by_role("heading", level=1)).to_have_text(RESIDENCE_TITLE)
    expect(page.get_by_role("main")).to_contain_text(CHILDREN[1][0])
    reference = page.locator(".panel__reference strong").inner_text()
    assert REFERENCE.fullmatch(reference), reference
    assert sent_for(page, RESIDENCE_TITLE) == before + 1
    expect(page.get_by_role("main").get_by_text(reference)).to_have_count(1)
    drafts = page.get_by_role("region", name="Vēl nav nosūtīti")
    expect(drafts.get_by_role("link", name=RESIDENCE_TITLE)).to_have_count(0)  # sending used the draft up


def test_a_draft_continues_on_another_device(new_context: Callable[..., BrowserContext]) -> None:
    number = uuid.uuid4().int
    street = f"Tērbatas iela {number % 1000}-{number // 1000 % 100}"  # only this run gives it
    moved = (date.today() - timedelta(days=3)).isoformat()

    laptop = new_context()
    page = laptop.new_page()
    sign_in(page, "Līga Bērziņa")
    page.goto(RESIDENCE)
    page.get_by_role("link", name="Pieteikties tiešsaistē").click()
    page.get_by_label("Vārds un uzvārds").fill("Līga Bērziņa")
    page.get_by_label("Personas kods").fill("161175-19997")
    save_and_continue(page)
    page.get_by_label("Iela, mājas un dzīvokļa numurs").fill(street)
    page.get_by_label("Pilsēta vai pagasts").fill("Rīga")
    page.get_by_label("Pasta indekss").fill("LV-1011")
    page.get_by_label("Pārcelšanās datums").fill(moved)
    page.get_by_role("group", name="Vai kopā ar jums pārceļas arī citas personas?").get_by_label("Nē").check()
    save_and_continue(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Tiesiskais pamats")
    laptop.close()  # the person walks away: nothing of this browser is left

    phone = new_context()  # another device: no cookies, a new sign-in
    page = phone.new_page()
    sign_in(page, "Līga Bērziņa")
    open_my_applications(page)
    drafts = page.get_by_role("region", name="Vēl nav nosūtīti")
    expect(drafts).to_contain_text("Turpināt, kur apstājāties")
    drafts.get_by_role("link", name=RESIDENCE_TITLE).click()

    expect(page).to_have_url(DRAFT_PAGE)
    expect(page.get_by_role("heading", level=1)).to_have_text("Tiesiskais pamats")  # where she stopped
    expect(page.locator(".caption")).to_contain_text("3. solis no 4")  # "no one moves with me" is remembered
    page.get_by_role("link", name="Atpakaļ").click()
    expect(page.get_by_label("Iela, mājas un dzīvokļa numurs")).to_have_value(street)
    expect(page.get_by_label("Pilsēta vai pagasts")).to_have_value("Rīga")
    expect(page.get_by_label("Pasta indekss")).to_have_value("LV-1011")
    expect(page.get_by_label("Pārcelšanās datums")).to_have_value(moved)
    expect(page.get_by_label("Nē")).to_be_checked()
    page.get_by_role("link", name="Atpakaļ").click()
    expect(page.get_by_label("Personas kods")).to_have_value("161175-19997")


def test_a_question_shown_by_an_answer_on_the_same_page_is_asked_before_moving_on(
    new_context: Callable[..., BrowserContext],
) -> None:
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page, "Ģirts Kalniņš")  # his residence draft is used nowhere else
    page.goto(RESIDENCE)
    page.get_by_role("link", name="Pieteikties tiešsaistē").click()
    page.get_by_label("Vārds un uzvārds").fill("Ģirts Kalniņš")
    page.get_by_label("Personas kods").fill("324817-60532")
    save_and_continue(page)
    page.get_by_label("Iela, mājas un dzīvokļa numurs").fill("Brīvības iela 1-1")
    page.get_by_label("Pilsēta vai pagasts").fill("Rīga")
    page.get_by_label("Pasta indekss").fill("LV-1010")
    page.get_by_label("Pārcelšanās datums").fill((date.today() - timedelta(days=1)).isoformat())
    page.get_by_label("Nē").check()
    save_and_continue(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Tiesiskais pamats")
    page.get_by_label("Cits pamats").check()
    grounds = page.get_by_label("Aprakstiet pamatu")
    if not grounds.is_visible():  # not shown with the choice: then the same page again, now asking for it
        save_and_continue(page)
    expect(grounds).to_be_visible(timeout=1000)
    expect(page.get_by_role("heading", level=1)).to_have_text("Tiesiskais pamats")
