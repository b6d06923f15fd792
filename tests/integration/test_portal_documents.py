"""The PDF receipt of a submitted application and the printable form of level 2 services, over a real registry."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
import requests

from forms.loader import load_definition_file
from tests.fixtures.applications import demo_claims, who
from tests.fixtures.portal import Browser, make_portal
from tests.fixtures.registry_server import RegistryProcess
from tests.integration.test_portal_sign_in import HOST, LIGA, csrf_token, sign_in_as

pytestmark = pytest.mark.integration

SEED_FORMS = Path(__file__).resolve().parents[2] / "registry" / "seed" / "forms"
LEVEL_2_WITH_FORM = ["socialas-palidzibas-pabalsts-valmiera", "laulibas-registracija-riga"]


@pytest.fixture
def person(applications_registry: RegistryProcess) -> Iterator[Browser]:
    """A signed-in person on the state portal, over a registry that accepts the portal's identities."""
    with make_portal(applications_registry.url).test_client() as client:
        browser = Browser(client)
        assert sign_in_as(browser, LIGA).status_code == 303
        yield browser


def submit_e_address(browser: Browser) -> str:
    """Apply for an e-address (a one-page form) and return the address of the submitted application."""
    page_url = browser.get("/lv/services/e-adreses-izveide/apply").headers["Location"]
    draft_url = page_url.rsplit("/pages/", 1)[0]
    html = browser.page(page_url)
    answers = {
        "csrf_token": csrf_token(html),
        "notification_email": "liga@example.lv",
        "notification_channels": "email",
    }
    assert browser.client.post(page_url, data=answers, headers=HOST).status_code == 303
    check = browser.page(f"{draft_url}/check")
    sent = browser.client.post(
        f"{draft_url}/check", data={"csrf_token": csrf_token(check), "declaration": "y"}, headers=HOST
    )
    assert sent.status_code == 303
    return str(sent.headers["Location"])


def test_receipt_downloads_as_a_personal_pdf(person: Browser) -> None:
    application_url = submit_e_address(person)
    page = person.page(application_url)
    reference = re.search(r"PT-\d{4}-\d{6}", page)
    assert reference
    assert f'href="{application_url}/receipt.pdf"' in page

    response = person.get(f"{application_url}/receipt.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{reference[0]}.pdf"'
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = response.get_data()
    assert body.startswith(b"%PDF-") and b"/Lang (lv)" in body and b"DejaVuSans" in body

    english = person.get(f"{application_url.replace('/lv/', '/en/', 1)}/receipt.pdf")
    assert english.status_code == 200 and b"/Lang (en)" in english.get_data()


def test_someone_elses_receipt_is_not_found(person: Browser, applications_registry: RegistryProcess) -> None:
    application_url = submit_e_address(person)
    with make_portal(applications_registry.url).test_client() as other_client:
        other = Browser(other_client)
        sign_in_as(other, "janis-ozolins")
        assert other.get(f"{application_url}/receipt.pdf").status_code == 404
    assert person.get("/lv/my/applications/" + "0" * 32 + "/receipt.pdf").status_code == 404


def test_anonymous_visitor_is_sent_to_sign_in_for_a_receipt(applications_registry: RegistryProcess) -> None:
    with make_portal(applications_registry.url).test_client() as client:
        response = Browser(client).get("/lv/my/applications/" + "a" * 32 + "/receipt.pdf")
    assert response.status_code == 302
    assert unquote(response.headers["Location"]) == f"/lv/sign-in?next=/lv/my/applications/{'a' * 32}/receipt.pdf"


@pytest.mark.parametrize("service_id", LEVEL_2_WITH_FORM)
@pytest.mark.parametrize("lang", ["lv", "en"])
def test_printable_form_shows_every_question(browser: Browser, service_id: str, lang: str) -> None:
    point = "valmiera" if service_id.endswith("valmiera") else "riga"
    page = browser.page(f"/{lang}/services/{service_id}/form", point, lang=lang)
    text = html_lib.unescape(page)
    definition = load_definition_file(SEED_FORMS / f"{service_id}.application.yaml")
    assert f"<h1>{html_lib.escape(definition.title.get(lang), quote=False)}</h1>" in page
    for question in definition.questions():
        for asked in (question, *question.questions):
            if asked.label is not None:
                assert asked.label.get(lang) in text, asked.id
    for page_of_form in definition.pages:
        assert page_of_form.title.get(lang) in text
    assert f'href="/{lang}/services/{service_id}/form.pdf"' in page
    assert "<form" not in page  # a print view: nothing to submit here


def test_printable_form_marks_conditions_groups_and_boxes(browser: Browser) -> None:
    page = browser.page("/en/services/socialas-palidzibas-pabalsts-valmiera/form", lang="en")
    text = html_lib.unescape(page)
    assert "Answer only if the answer to “Do you actually live at another address?” is “Yes”." in text
    assert all(f"Household member {n}" in text for n in (1, 2, 3))
    assert "Household member 4" not in text
    assert page.count('class="printable-boxes__box"') >= 21 + 11 * 4  # IBAN, and a personal code per person
    assert "Signature" in text and "Valmiera Municipality" in text


@pytest.mark.parametrize("service_id", LEVEL_2_WITH_FORM)
def test_printable_form_downloads_as_a_pdf(browser: Browser, service_id: str) -> None:
    response = browser.get(f"/lv/services/{service_id}/form.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{service_id}-lv.pdf"'
    assert "public" in response.headers["Cache-Control"]
    body = response.get_data()
    assert body.startswith(b"%PDF-") and b"/Lang (lv)" in body and b"DejaVuSans" in body


@pytest.mark.parametrize(
    ("path", "point"),
    [
        ("/lv/services/no-such-service/form", "latvija"),
        ("/lv/services/no-such-service/form.pdf", "latvija"),
        ("/lv/services/laulibas-registracija-liepaja/form", "latvija"),  # level 2 without a form
        ("/lv/services/laulibas-registracija-liepaja/form.pdf", "latvija"),
        ("/lv/services/e-adreses-izveide/form", "latvija"),  # level 4: applied for online, no paper form
        ("/lv/services/dzivesvietas-deklaresana/form.pdf", "latvija"),
        ("/lv/services/laulibas-registracija-riga/form", "valmiera"),  # another municipality's service
    ],
)
def test_no_printable_form_is_not_found(browser: Browser, path: str, point: str) -> None:
    assert browser.get(path, point).status_code == 404


def test_unknown_language_gets_the_latvian_form(browser: Browser) -> None:
    response = browser.get("/de/services/laulibas-registracija-riga/form")
    assert response.status_code == 302
    assert response.headers["Location"] == "/lv/services/laulibas-registracija-riga/form"


def test_level_2_services_with_a_form_are_still_not_applied_for_online(person: Browser) -> None:
    page = person.page("/lv/services/socialas-palidzibas-pabalsts-valmiera")
    assert "/apply" not in page
    assert person.get("/lv/services/socialas-palidzibas-pabalsts-valmiera/apply").status_code == 404


def test_the_service_page_of_a_level_2_service_links_its_printable_form(browser: Browser) -> None:
    page = browser.page("/lv/services/socialas-palidzibas-pabalsts-valmiera", "valmiera")
    assert 'href="/lv/services/socialas-palidzibas-pabalsts-valmiera/form.pdf"' in page
    assert 'href="/lv/services/socialas-palidzibas-pabalsts-valmiera/form"' in page
    # A level 2 service without a form of ours keeps its own channels and no such link.
    other = browser.page("/lv/services/nekustama-ipasuma-nodokla-atvieglojumi-liepaja")
    assert "/form.pdf" not in other


def test_the_registry_refuses_online_drafts_of_level_2_services(applications_registry: RegistryProcess) -> None:
    headers = who(demo_claims("janis-ozolins"))
    body = {"service": "socialas-palidzibas-pabalsts-valmiera", "form": "application"}
    refused = requests.post(f"{applications_registry.url}/api/v1/me/drafts", json=body, headers=headers, timeout=10)
    assert refused.status_code == 404
