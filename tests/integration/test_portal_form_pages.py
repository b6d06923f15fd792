"""Form pages against a real registry: file uploads (with and without JavaScript), htmx's in-place updates,
questions revealed on the same page, and error summaries that name their questions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO
from typing import Any

import pytest
import requests

from identity import sign_identity
from registry.config import TestConfig
from tests.fixtures.applications import delete_drafts, demo_claims
from tests.fixtures.portal import Browser, make_portal
from tests.fixtures.registry_server import RegistryProcess
from tests.integration.test_portal_sign_in import HOST, csrf_token, sign_in_as

pytestmark = pytest.mark.integration

SERVICE = "dzivesvietas-deklaresana"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)
HTMX = {**HOST, "HX-Request": "true"}


def _registry_headers() -> dict[str, str]:
    return {"X-Portal-Identity": sign_identity(TestConfig.IDENTITY_SECRET, demo_claims("janis-ozolins"))}


@pytest.fixture
def janis(applications_registry: RegistryProcess) -> Iterator[Browser]:
    """Jānis, signed in, with no draft of the residence declaration, before and after (browser tests use him too)."""
    delete_drafts(applications_registry, "janis-ozolins", SERVICE)
    with make_portal(applications_registry.url).test_client() as client:
        browser = Browser(client)
        assert sign_in_as(browser, "janis-ozolins").status_code == 303
        yield browser
    delete_drafts(applications_registry, "janis-ozolins", SERVICE)


def draft_url(browser: Browser) -> str:
    return browser.get(f"/lv/services/{SERVICE}/apply").headers["Location"].rsplit("/pages/", 1)[0]


def saved_answers(registry: RegistryProcess, url: str) -> dict[str, Any]:
    draft_id = url.rsplit("/", 1)[1]
    response = requests.get(f"{registry.url}/api/v1/me/drafts/{draft_id}", headers=_registry_headers(), timeout=10)
    return response.json()["answers"]


def post(browser: Browser, path: str, data: dict[str, Any], headers: dict[str, str] = HOST) -> Any:
    return browser.client.post(path, data=data, headers=headers, content_type="multipart/form-data")


def ground_page(browser: Browser) -> tuple[str, str]:
    url = f"{draft_url(browser)}/pages/legal-ground"
    return url, browser.page(url)


def post_ground(browser: Browser, url: str, html: str, content: bytes, name: str, kind: str = "application/pdf") -> Any:
    """Post the legal-ground page as a tenant with a file for the document question."""
    data = {"csrf_token": csrf_token(html), "legal_ground": "tenant", "ground_document": (BytesIO(content), name, kind)}
    return post(browser, url, data)


# --- uploads without JavaScript ----------------------------------------------------------------------------------


def test_a_file_is_stored_with_the_page_and_kept_on_later_saves(
    janis: Browser, applications_registry: RegistryProcess
) -> None:
    url, html = ground_page(janis)
    saved = post_ground(janis, url, html, PDF, "īres līgums.pdf")
    assert saved.status_code == 303
    stored = saved_answers(applications_registry, url.rsplit("/pages/", 1)[0])["ground_document"]
    assert stored["name"] == "īres līgums.pdf" and stored["size"] == len(PDF)
    assert stored["content_type"] == "application/pdf" and re.fullmatch(r"[0-9a-f]{32}", stored["file_id"])

    again = janis.page(url)
    assert "Pievienots:" in again and "īres līgums.pdf" in again
    link = f"/lv/my/files/{stored['file_id']}"
    assert f'href="{link}"' in again
    # Saving the page again without choosing a file keeps the one stored.
    resaved = post(janis, url, {"csrf_token": csrf_token(again), "legal_ground": "tenant"})
    assert resaved.status_code == 303
    assert saved_answers(applications_registry, url.rsplit("/pages/", 1)[0])["ground_document"] == stored

    download = janis.get(link)
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert download.headers["Cache-Control"] == "no-store"
    assert download.headers["X-Content-Type-Options"] == "nosniff"

    with make_portal(applications_registry.url).test_client() as other_client:
        other = Browser(other_client)
        sign_in_as(other, "girts-kalnins")
        assert other.get(link).status_code == 404
        assert other.get("/lv/my/files/not-a-file-id").status_code == 404


def test_a_program_renamed_to_pdf_is_refused_and_the_other_answers_kept(janis: Browser) -> None:
    url, html = ground_page(janis)
    refused = post_ground(janis, url, html, EXE, "līgums.pdf")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Izvēlētajam failam jābūt kādā no šiem formātiem: PDF, EDOC, ASICE, JPG." in page
    assert re.search(r'value="tenant"\s+checked|checked[^>]*value="tenant"', page)


def test_a_file_of_a_type_the_question_refuses_is_refused_before_it_is_stored(janis: Browser) -> None:
    url, html = ground_page(janis)
    refused = post_ground(janis, url, html, b"hello", "piezimes.txt", "text/plain")
    assert refused.status_code == 422
    assert "PDF, EDOC, ASICE, JPG" in refused.get_data(as_text=True)


def test_an_attached_file_can_be_removed(janis: Browser, applications_registry: RegistryProcess) -> None:
    url, html = ground_page(janis)
    post_ground(janis, url, html, PDF, "a.pdf")
    file_id = saved_answers(applications_registry, url.rsplit("/pages/", 1)[0])["ground_document"]["file_id"]
    html = janis.page(url)
    removed = post(
        janis, url, {"csrf_token": csrf_token(html), "legal_ground": "tenant", "remove_file": "ground_document"}
    )
    assert removed.status_code == 303 and removed.headers["Location"] == url
    assert "ground_document" not in saved_answers(applications_registry, url.rsplit("/pages/", 1)[0])
    assert janis.get(f"/lv/my/files/{file_id}").status_code == 404  # the upload is deleted too


# --- a question revealed on the same page ------------------------------------------------------------------------


def test_a_question_revealed_by_an_answer_is_asked_before_moving_on(janis: Browser) -> None:
    url, html = ground_page(janis)
    assert 'name="asked"' in html
    # The page showed legal_ground and ground_document; choosing "other" reveals legal_ground_other.
    first = post(
        janis, url, {"csrf_token": csrf_token(html), "asked": "legal_ground ground_document", "legal_ground": "other"}
    )
    assert first.status_code == 303 and first.headers["Location"] == url  # stays, without an error
    html = janis.page(url)
    assert 'name="legal_ground_other"' in html
    # Shown and answered (JavaScript showed it in place, so it was in `asked`): the person moves on.
    second = post(
        janis,
        url,
        {
            "csrf_token": csrf_token(html),
            "asked": "legal_ground legal_ground_other ground_document",
            "legal_ground": "other",
            "legal_ground_other": "Patapinājuma līgums",
        },
    )
    assert second.status_code == 303 and second.headers["Location"] != url


def test_the_error_summary_names_each_question(janis: Browser) -> None:
    url = f"{draft_url(janis)}/pages/contact"
    html = janis.page(url)
    bad = post(janis, url, {"csrf_token": csrf_token(html), "contact_phone": "123", "contact_email": "nav"})
    assert bad.status_code == 422
    summary = re.search(r'<div class="error-summary".*?</div>', bad.get_data(as_text=True), re.S)
    assert summary
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary[0])
    assert [target for target, _ in links] == ["contact_phone", "contact_email"]
    assert all(": " in text for _, text in links), links  # "Tālrunis: ..."


# --- the same page with htmx -------------------------------------------------------------------------------------


def live(browser: Browser, url: str, data: dict[str, Any]) -> str:
    response = post(browser, f"{url}/live", data, headers=HTMX)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def test_choosing_an_answer_shows_and_hides_questions_in_place(janis: Browser) -> None:
    url, html = ground_page(janis)
    token = csrf_token(html)
    # From nothing chosen (the document is asked for) to "owner": the document's slot is emptied.
    owner = live(
        janis,
        url,
        {
            "csrf_token": token,
            "asked": "legal_ground ground_document",
            "legal_ground": "owner",
            "_changed": "legal_ground",
        },
    )
    assert 'id="slot-ground_document" hx-swap-oob="true"' in owner
    assert 'name="ground_document"' not in owner
    assert 'id="asked-questions" value="legal_ground"' in owner
    # From "owner" to "other": the description and the document appear; legal_ground itself is not re-rendered.
    other = live(
        janis, url, {"csrf_token": token, "asked": "legal_ground", "legal_ground": "other", "_changed": "legal_ground"}
    )
    assert 'name="legal_ground_other"' in other and 'name="ground_document"' in other
    assert 'id="slot-legal_ground"' not in other
    assert 'value="ground_document legal_ground legal_ground_other"' in other


def test_a_typed_field_is_checked_when_the_person_leaves_it(janis: Browser) -> None:
    url = f"{draft_url(janis)}/pages/contact"
    token = csrf_token(janis.page(url))
    data = {"csrf_token": token, "asked": "contact_phone contact_email", "contact_email": "nav-epasts"}
    checked = live(janis, url, {**data, "_changed": "contact_email"})
    assert 'id="field-contact_email" hx-swap-oob="true"' in checked
    assert "e-pasta adresi" in checked and 'value="nav-epasts"' in checked
    # Only the field that was left is checked: the empty phone is not reported yet.
    assert "field-contact_phone" not in checked
    # Still typing (a date input fires change mid-way): nothing is checked.
    assert "field-contact_email" not in live(janis, url, {**data, "_changed": "contact_email", "_focused": "1"})


def test_a_chosen_file_is_stored_at_once(janis: Browser, applications_registry: RegistryProcess) -> None:
    url, html = ground_page(janis)
    stored = live(
        janis,
        url,
        {
            "csrf_token": csrf_token(html),
            "asked": "legal_ground ground_document",
            "legal_ground": "tenant",
            "_changed": "ground_document",
            "ground_document": (BytesIO(PDF), "līgums.pdf", "application/pdf"),
        },
    )
    assert 'id="field-ground_document" hx-swap-oob="true"' in stored and "līgums.pdf" in stored
    answers = saved_answers(applications_registry, url.rsplit("/pages/", 1)[0])
    assert answers["ground_document"]["name"] == "līgums.pdf"
    refused = live(
        janis,
        url,
        {
            "csrf_token": csrf_token(html),
            "asked": "legal_ground ground_document",
            "_changed": "ground_document",
            "ground_document": (BytesIO(EXE), "programma.pdf", "application/pdf"),
        },
    )
    assert "Izvēlētajam failam jābūt" in refused
    assert "Pievienots:" in refused and "līgums.pdf" in refused  # the file attached before is still the answer
    # The refused file did not replace the stored one.
    assert (
        saved_answers(applications_registry, url.rsplit("/pages/", 1)[0])["ground_document"]
        == answers["ground_document"]
    )


def test_add_another_returns_the_group_with_one_more_item(janis: Browser) -> None:
    base = draft_url(janis)
    address = f"{base}/pages/new-address"
    html = janis.page(address)
    post(
        janis,
        address,
        {
            "csrf_token": csrf_token(html),
            "address-street": "Brīvības iela 10-2",
            "address-city": "Rīga",
            "address-postal_code": "LV-1010",
            "moving_date": "2026-11-01",
            "moves_with_others": "yes",
        },
    )
    url = f"{base}/pages/people"
    html = janis.page(url)
    assert 'name="moving_people-0-name"' in html and 'name="moving_people-1-name"' not in html
    added = live(
        janis,
        url,
        {
            "csrf_token": csrf_token(html),
            "asked": "moving_people",
            "moving_people-0-name": "Anna",
            "add_item": "moving_people",
        },
    )
    assert 'id="slot-moving_people" hx-swap-oob="true"' in added
    assert 'name="moving_people-1-name"' in added and 'value="Anna"' in added


def test_live_is_for_htmx_only_and_for_the_owner(janis: Browser, applications_registry: RegistryProcess) -> None:
    url, html = ground_page(janis)
    plain = post(janis, f"{url}/live", {"csrf_token": csrf_token(html)})
    assert plain.status_code == 303 and plain.headers["Location"] == url
    with make_portal(applications_registry.url).test_client() as other_client:
        other = Browser(other_client)
        sign_in_as(other, "girts-kalnins")
        token = csrf_token(other.page("/lv/"))
        assert post(other, f"{url}/live", {"csrf_token": token}, headers=HTMX).status_code == 404


def test_bad_and_tampered_input_gets_messages_and_loses_nothing(
    janis: Browser, applications_registry: RegistryProcess
) -> None:
    url, html = ground_page(janis)
    bad = post(
        janis,
        url,
        {
            "csrf_token": csrf_token(html),
            "asked": "legal_ground legal_ground_other ground_document no_such_question",
            "legal_ground": "other",
            "legal_ground_other": "ļ" * 10_000,
            "no_such_question": "ignored",
        },
    )
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert "Atbilde ir par garu. Rakstzīmju skaits nedrīkst pārsniegt 200." in page
    assert re.search(r'value="other"\s+checked|checked[^>]*value="other"', page)
    assert "ļ" * 10_000 in page  # what was typed comes back to be shortened
    assert "no_such_question" not in saved_answers(applications_registry, url.rsplit("/pages/", 1)[0])
    # A file posted for a question the answers hide (owner: no document needed) is neither stored nor saved.
    hidden = post(
        janis,
        url,
        {
            "csrf_token": csrf_token(html),
            "asked": "legal_ground ground_document",
            "legal_ground": "owner",
            "ground_document": (BytesIO(PDF), "a.pdf", "application/pdf"),
        },
    )
    assert hidden.status_code == 303
    assert "ground_document" not in saved_answers(applications_registry, url.rsplit("/pages/", 1)[0])
    # Without the CSRF token nothing is saved: the themed 400 page, never a 500.
    forged = post(janis, url, {"legal_ground": "tenant"})
    assert forged.status_code == 400


def test_resuming_lands_on_a_page_that_answers_showed(janis: Browser) -> None:
    base = draft_url(janis)
    address = f"{base}/pages/new-address"
    post(
        janis,
        address,
        {
            "csrf_token": csrf_token(janis.page(address)),
            "address-street": "Brīvības iela 10-2",
            "address-city": "Rīga",
            "address-postal_code": "LV-1010",
            "moving_date": "2026-11-01",
            "moves_with_others": "yes",  # shows the "people" page
        },
    )
    ground = f"{base}/pages/legal-ground"
    moved_on = post(janis, ground, {"csrf_token": csrf_token(janis.page(ground)), "legal_ground": "owner"})
    assert moved_on.headers["Location"] == f"{base}/pages/people"
    # Coming back from the service page (another day, another device) continues on that page, not on page 1.
    assert janis.get(f"/lv/services/{SERVICE}/apply").headers["Location"] == f"{base}/pages/people"


def test_a_company_representative_is_told_the_service_is_for_private_persons(
    applications_registry: RegistryProcess,
) -> None:
    with make_portal(applications_registry.url).test_client() as client:
        elina = Browser(client)
        sign_in_as(elina, "elina-zagare")
        page = elina.page(f"/lv/services/{SERVICE}")
        assert 'id="not-for-you"' in page and f"/lv/services/{SERVICE}/apply" not in page
        assert "Šim pakalpojumam piesakās tikai privātpersonas." in page
        refused = elina.get(f"/lv/services/{SERVICE}/apply")
        assert refused.status_code == 403
        assert "SIA „Ozolkalni”" in refused.get_data(as_text=True)
        # A service for companies still offers her the online application.
        assert "/lv/services/komersanta-registracija/apply" in elina.page("/lv/services/komersanta-registracija")


def test_a_file_over_the_questions_limit_gets_its_message(janis: Browser) -> None:
    url, html = ground_page(janis)
    too_big = PDF + b"0" * (10 * 1024 * 1024)  # the question takes at most 10 MB
    refused = post_ground(janis, url, html, too_big, "liels.pdf")
    assert refused.status_code == 422
    assert "Izvēlētajam failam jābūt mazākam par 10 MB." in refused.get_data(as_text=True)
