"""Level 5 in the staff area: NVA asks VSAA a kind of question about an applicant from a case, VSAA answers with the
kind's answer form (built by the forms package, Latvian messages), the answer shows on the case as a summary; a
free-text question still works; nobody else sees the question; errors keep what was typed; with htmx, a changed
answer brings back only the part of the form it shows or hides, and records nothing.

New portal strings are checked on English pages (their Latvian translations are added to the catalogue separately);
Latvian pages are checked with texts that come from the registry's data and the forms package."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
import requests
from flask import Flask

from tests.fixtures.applications import demo_claims, who
from tests.fixtures.portal import Browser, make_portal
from tests.fixtures.registry_server import RegistryProcess
from tests.integration.test_cases_api import step_answers
from tests.integration.test_portal_sign_in import HOST, csrf_token
from tests.integration.test_portal_staff import NVA_WORKER, PMLP_BOTH, VSAA_BOTH, signed_in, unemployed_case

pytestmark = pytest.mark.integration

VSAA_KIND = "Vai persona saņem VSAA pabalstu vai pensiju?"
RESIDENCE_KIND = "Personas deklarētā dzīvesvieta"
HTMX = {"HX-Request": "true", **HOST}


@pytest.fixture(scope="module")
def staff_portal(applications_registry: RegistryProcess) -> Flask:
    return make_portal(applications_registry.url)


def post(browser: Browser, path: str, data: dict[str, Any], **headers: str) -> Any:
    return browser.client.post(path, data=data, headers={**HOST, **headers})


def case_requests(api: str, case_id: str) -> list[dict[str, Any]]:
    """The requests asked from a case, read from the registry as NVA's demo employee."""
    response = requests.get(
        f"{api}/staff/cases/{case_id}/data-requests", headers=who(demo_claims(NVA_WORKER)), timeout=10
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def question_link(listing: str, title: str) -> str:
    found = re.search(rf'href="(/(?:lv|en)/staff/requests/[0-9a-f]{{32}})">{re.escape(title)}', listing)
    assert found, f"no link to {title!r}"
    return found[1]


def test_a_kind_is_asked_answered_with_its_form_and_read_on_the_case(
    staff_portal: Flask, applications_registry: RegistryProcess
) -> None:
    api = f"{applications_registry.url}/api/v1"
    case = unemployed_case(api)
    nva = next(signed_in(staff_portal, NVA_WORKER))
    ask_url = f"/lv/staff/cases/{case['id']}/ask"
    assert f'href="{ask_url}"' in nva.page(f"/lv/staff/cases/{case['id']}")

    form = nva.page(ask_url)
    # Offered: what other institutions answer and NVA may ask; never NVA's own kind, nor one NVA may not ask.
    assert VSAA_KIND in form and RESIDENCE_KIND in form
    assert "Vai personai ir bezdarbnieka statuss?" not in form and "nodokļu parādi" not in form
    assert 'value="other"' in form and 'name="to_institution"' in form  # without JavaScript, always there

    token = csrf_token(form)
    nothing = post(nva, ask_url, {"csrf_token": token, "text": "Vai saņem arī slimības pabalstu?"})
    assert nothing.status_code == 422  # no kind chosen: the summary, the text kept
    assert "Vai saņem arī slimības pabalstu?" in nothing.get_data(as_text=True)
    assert 'class="error-summary"' in nothing.get_data(as_text=True)
    sent = post(
        nva, ask_url, {"csrf_token": token, "kind": "vsaa-benefits", "text": "Vai saņem arī slimības pabalstu?"}
    )
    assert sent.status_code == 303 and sent.headers["Location"] == f"/lv/staff/cases/{case['id']}"
    [asked] = case_requests(api, case["id"])
    assert (asked["kind"], asked["to_institution"], asked["status"]) == ("vsaa-benefits", "vsaa", "open")
    waiting = nva.page(f"/lv/staff/cases/{case['id']}")
    assert VSAA_KIND in waiting and "Gaida atbildi" in waiting

    vsaa = next(signed_in(staff_portal, VSAA_BOTH))
    link = question_link(vsaa.page("/lv/staff/requests"), VSAA_KIND)
    question = vsaa.page(link)
    assert case["reference"] not in question and f"/lv/staff/cases/{case['id']}" not in question  # not the case
    assert "Vai saņem arī slimības pabalstu?" in question  # the note
    assert "Persona pašlaik saņem VSAA izmaksātu pabalstu vai pensiju" in question  # the answer form, in Latvian
    token = csrf_token(question)

    # The forms package checks the answers, in Latvian, and keeps what was typed.
    missing = post(vsaa, link, {"csrf_token": token, "receives": "yes", "monthly_amount": "412,50"})
    assert missing.status_code == 422
    page = missing.get_data(as_text=True)
    assert "Atbildiet uz šo jautājumu." in page and 'value="412,50"' in page  # benefits: required once shown
    wrong = post(
        vsaa, link, {"csrf_token": token, "receives": "yes", "benefits": "unemployment", "monthly_amount": "daudz"}
    )
    assert wrong.status_code == 422 and "Ievadiet summu eiro, piemēram, 1234,50." in wrong.get_data(as_text=True)
    assert case_requests(api, case["id"])[0]["status"] == "open"  # nothing was sent

    answered = post(
        vsaa,
        link,
        {
            "csrf_token": token,
            "receives": "yes",
            "benefits": ["unemployment", "family"],
            "monthly_amount": "412,50",
            "granted_until": "2027-03-31",
        },
    )
    assert answered.status_code == 303 and answered.headers["Location"] == "/lv/staff/requests"
    [stored] = case_requests(api, case["id"])
    assert stored["answers"] == {
        "receives": True,
        "benefits": ["unemployment", "family"],
        "monthly_amount": "412.50",
        "granted_until": "2027-03-31",
    }
    done = vsaa.page(link)
    assert "Bezdarbnieka pabalsts" in done and 'name="receives"' not in done  # read back, no form any more
    # A second answer (a form still open in another tab) is refused with a message, and changes nothing.
    again = post(vsaa, link, {"csrf_token": token, "receives": "no"})
    assert again.status_code == 303 and "Uz jautājumu jau ir atbildēts." in vsaa.page("/lv/staff/requests")
    assert case_requests(api, case["id"])[0]["answers"]["receives"] is True

    pmlp = next(signed_in(staff_portal, PMLP_BOTH))
    assert pmlp.get(link).status_code == 404
    assert VSAA_KIND not in pmlp.page("/lv/staff/requests")

    # The asking institution reads the answer on the case: a summary, who answered, which institution, when.
    after = nva.page(f"/lv/staff/cases/{case['id']}")
    section = after.split('id="data-requests-heading"')[1].split("</section>")[0]
    for text in ("Bezdarbnieka pabalsts", "Ģimenes valsts pabalsts", "412,50\xa0€", "2027. gada 31. marts"):
        assert text in section, text
    assert "Mārtiņš Vītols" in section and "Valsts sociālās apdrošināšanas aģentūra" in section
    assert "Cita iestāde atbildēja" in after  # and the audit trail says so
    assert "Atbildēts" in nva.page("/lv/staff/requests")


def test_a_free_text_question_to_an_institution_the_employee_chooses(
    staff_portal: Flask, applications_registry: RegistryProcess
) -> None:
    api = f"{applications_registry.url}/api/v1"
    case = unemployed_case(api)
    nva = next(signed_in(staff_portal, NVA_WORKER))
    ask_url = f"/lv/staff/cases/{case['id']}/ask"
    token = csrf_token(nva.page(ask_url))
    empty = post(nva, ask_url, {"csrf_token": token, "kind": "other", "to_institution": "", "text": "Vai saņem?"})
    assert empty.status_code == 422
    page = empty.get_data(as_text=True)
    assert "Izvēlieties iestādi, kurai jautāt." in page and "Vai saņem?" in page  # nothing typed is lost
    sent = post(nva, ask_url, {"csrf_token": token, "kind": "other", "to_institution": "vsaa", "text": "Vai saņem?"})
    assert sent.status_code == 303

    vsaa = next(signed_in(staff_portal, VSAA_BOTH))
    link = question_link(vsaa.page("/lv/staff/requests"), "Vai saņem?")
    question = vsaa.page(link)
    assert 'name="text"' in question and 'name="receives"' not in question
    refreshed = post(vsaa, link, {"csrf_token": csrf_token(question), "text": "Nē."}, **HTMX)
    assert refreshed.status_code == 200 and case_requests(api, case["id"])[0]["status"] == "open"  # not an answer
    assert post(vsaa, link, {"csrf_token": csrf_token(question), "text": "Nē, nesaņem."}).status_code == 303
    assert "Nē, nesaņem." in vsaa.page(link) and 'name="text"' not in vsaa.page(link)
    after = nva.page(f"/lv/staff/cases/{case['id']}")
    assert "Nē, nesaņem." in after.split('id="data-requests-heading"')[1]


def test_english_pages_and_refusals_keep_what_was_typed(
    staff_portal: Flask, applications_registry: RegistryProcess
) -> None:
    api = f"{applications_registry.url}/api/v1"
    case = unemployed_case(api)
    nva = next(signed_in(staff_portal, NVA_WORKER))
    ask_url = f"/en/staff/cases/{case['id']}/ask"
    form = nva.page(ask_url, lang="en")
    assert "What do you want to know?" in form
    assert "Does the person receive a VSAA benefit or pension? (answered by State Social Insurance Agency)" in form
    assert "Another question (free text)" in form
    token = csrf_token(form)
    nothing = post(nva, ask_url, {"csrf_token": token, "kind": "nva-status", "text": "Kopš kura laika?"})
    assert nothing.status_code == 422  # NVA's own kind is not among the choices
    assert "Choose what to ask." in nothing.get_data(as_text=True)
    assert "Kopš kura laika?" in nothing.get_data(as_text=True)
    no_question = post(nva, ask_url, {"csrf_token": token, "kind": "other", "to_institution": "pmlp", "text": " "})
    assert no_question.status_code == 422 and "Write the text." in no_question.get_data(as_text=True)

    # The case moves on between showing the form and sending it: the registry refuses, the note is kept.
    body = {"step": "nva-status", "outcome": "approve", "answers": step_answers(api, "nva-status")}
    approved = requests.post(
        f"{api}/staff/cases/{case['id']}/decisions",
        json=body,
        headers=who(demo_claims(NVA_WORKER), **{"Idempotency-Key": uuid.uuid4().hex}),
        timeout=10,
    )
    assert approved.status_code == 201, approved.text
    late = post(nva, ask_url, {"csrf_token": token, "kind": "vsaa-benefits", "text": "Mans piezīmes teksts"})
    assert late.status_code == 422
    page = late.get_data(as_text=True)
    assert "The registry did not accept the question: the case may have moved on." in page
    assert "Mans piezīmes teksts" in page
    assert case_requests(api, case["id"]) == []


def test_with_htmx_a_changed_answer_brings_back_only_what_it_shows_and_sends_nothing(
    staff_portal: Flask, applications_registry: RegistryProcess
) -> None:
    api = f"{applications_registry.url}/api/v1"
    case = unemployed_case(api)
    nva = next(signed_in(staff_portal, NVA_WORKER))
    ask_url = f"/en/staff/cases/{case['id']}/ask"
    token = csrf_token(nva.page(ask_url, lang="en"))

    kind = post(nva, ask_url, {"csrf_token": token, "kind": "vsaa-benefits", "text": "Piezīme"}, **HTMX)
    assert kind.status_code == 200 and "HX-Request" in kind.headers.get("Vary", "")
    fragment = kind.get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="ask-details">') and "<html" not in fragment
    assert 'name="to_institution"' not in fragment and "Note for the institution (optional)" in fragment
    assert "Piezīme" in fragment  # what was typed stays
    other = post(nva, ask_url, {"csrf_token": token, "kind": "other"}, **HTMX).get_data(as_text=True)
    assert 'name="to_institution"' in other and ">Question</label>" in other
    assert case_requests(api, case["id"]) == []  # asking again for the fields sends nothing

    assert post(nva, ask_url, {"csrf_token": token, "kind": "vsaa-benefits"}).status_code == 303
    vsaa = next(signed_in(staff_portal, VSAA_BOTH))
    link = question_link(
        vsaa.page("/en/staff/requests", lang="en"), "Does the person receive a VSAA benefit or pension?"
    )
    question = vsaa.page(link, lang="en")
    assert 'hx-post="' in question and 'name="benefits"' not in question  # shown once "yes" is chosen
    token = csrf_token(question)
    yes = post(vsaa, link, {"csrf_token": token, "receives": "yes"}, **HTMX)
    assert yes.status_code == 200
    fragment = yes.get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="answer-questions">') and "<html" not in fragment
    assert 'name="benefits"' in fragment and "Unemployment benefit" in fragment
    assert "field-error" not in fragment  # asking again is not a submission: no errors yet
    no = post(vsaa, link, {"csrf_token": token, "receives": "no"}, **HTMX).get_data(as_text=True)
    assert 'name="benefits"' not in no and 'name="note"' in no
    assert case_requests(api, case["id"])[0]["status"] == "open"


def test_only_the_institution_at_the_step_is_offered_to_ask(
    staff_portal: Flask, applications_registry: RegistryProcess
) -> None:
    api = f"{applications_registry.url}/api/v1"
    case = unemployed_case(api)
    vsaa = next(signed_in(staff_portal, VSAA_BOTH))
    assert vsaa.get(f"/lv/staff/cases/{case['id']}/ask").status_code == 404  # not VSAA's case (yet)
