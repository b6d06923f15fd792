"""The applicant's side of a decision, without JavaScript, against a real registry: the decision with redress and its
verification code on the application page, the result document (page and PDF), the public check of a code on any
delivery point, and answering a request for more information with and without files.

Cases are made the way they are in life: the demo person applies through the registry API with their identity, and
employees decide through the registry's staff API (tests/integration/test_cases_api.py).
"""

from __future__ import annotations

import html as html_lib
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask

from tests.fixtures.applications import PDF, demo_claims, form_of, submit, valid_answers, who
from tests.fixtures.html_checks import page_problems
from tests.fixtures.portal import POINT_HOSTS, Browser, make_portal
from tests.fixtures.registry_server import RegistryProcess
from tests.integration.test_cases_api import NVA_WORKER, SERVICE, VSAA_DECIDER, decide, step_answers
from tests.integration.test_portal_sign_in import HOST, LIGA, csrf_token, sign_in_as

pytestmark = pytest.mark.integration

CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")
REASONING = "Jums ir vajadzīgais apdrošināšanas stāžs.\nPabalsts piešķirts no 1. decembra."
REDRESS_EN = "You may contest an NVA decision orally or in writing at an NVA branch"


@pytest.fixture(scope="module")
def portal(applications_registry: RegistryProcess) -> Flask:
    return make_portal(applications_registry.url)


@pytest.fixture
def liga(portal: Flask) -> Iterator[Browser]:
    """Līga, signed in on the state portal."""
    browser = Browser(portal.test_client())
    assert sign_in_as(browser, LIGA).status_code == 303
    yield browser


def apply(api: str) -> str:
    """Līga applies for the unemployed status through the registry; return the application id."""
    claims = demo_claims(LIGA)
    version, definition = form_of(api, SERVICE)
    body = {"service": SERVICE, "form": "application", "form_version": version}
    response = submit(api, claims, body | {"answers": valid_answers(definition, claims, api)})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def pass_first_step(api: str, case_id: str) -> None:
    body = {"step": "nva-status", "outcome": "approve", "answers": step_answers(api, "nva-status")}
    assert decide(api, NVA_WORKER, case_id, body).status_code == 201


def decided(api: str, outcome: str = "approve") -> str:
    """An application of Līga's that NVA passes on and VSAA decides; return its id."""
    case_id = apply(api)
    pass_first_step(api, case_id)
    body: dict[str, Any] = {"step": "vsaa-benefit", "outcome": outcome, "text": REASONING}
    if outcome == "approve":
        body["answers"] = step_answers(api, "vsaa-benefit")
    assert decide(api, VSAA_DECIDER, case_id, body).status_code == 201
    return case_id


def asked(api: str, question: str = "Pievienojiet izziņu par darba stāžu.") -> str:
    """An application of Līga's for which NVA asks for more information; return its id."""
    case_id = apply(api)
    body = {"step": "nva-status", "outcome": "request_info", "text": question}
    assert decide(api, NVA_WORKER, case_id, body).status_code == 201
    return case_id


def mine(api: str, case_id: str) -> dict[str, Any]:
    response = requests.get(f"{api}/me/applications/{case_id}", headers=who(demo_claims(LIGA)), timeout=10)
    assert response.status_code == 200
    return dict(response.json())


def text_of(page: str) -> str:
    """The page's text as a person reads it: tags dropped, spaces collapsed."""
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", page)))


# --- the decision on the application page ------------------------------------------------------------------------


def test_the_application_page_shows_the_decision_redress_and_code(liga: Browser, applications_api: str) -> None:
    case_id = decided(applications_api)
    code = mine(applications_api, case_id)["verification_code"]
    assert CODE.fullmatch(code)
    page = liga.page(f"/en/my/applications/{case_id}", lang="en")
    text = text_of(page)
    assert "Decided" in text and "Approved" in text
    assert "Jums ir vajadzīgais apdrošināšanas stāžs." in text and "Pabalsts piešķirts no 1. decembra." in text
    assert "State Social Insurance Agency" in text or "VSAA" in text  # the institution that decided
    assert VSAA_DECIDER["name"] in text
    assert "How to contest the decision" in text and REDRESS_EN in text
    assert code in text and f"http://localhost/en/verify/{code}" in page
    assert f'href="/en/my/applications/{case_id}/result.pdf"' in page
    # The Latvian page is well formed too, with the Latvian redress.
    latvian = text_of(liga.page(f"/lv/my/applications/{case_id}"))
    assert "NVA lēmumu var apstrīdēt" in latvian and code in latvian
    # The timeline says where the case went on its way: the VSAA step, by its title.
    assert "Izskatīšanā: Bezdarbnieka pabalsta piešķiršana (VSAA)" in latvian


def test_a_refusal_shows_its_reasoning_and_code(liga: Browser, applications_api: str) -> None:
    case_id = decided(applications_api, "refuse")
    text = text_of(liga.page(f"/en/my/applications/{case_id}", lang="en"))
    assert "Refused" in text and "Pabalsts piešķirts" in text
    assert CODE.search(text)


def test_the_result_document_is_the_owners_only_and_never_stored(
    liga: Browser, portal: Flask, applications_api: str
) -> None:
    case_id = decided(applications_api)
    code = mine(applications_api, case_id)["verification_code"]
    page_response = liga.get(f"/en/my/applications/{case_id}/result")
    assert page_response.status_code == 200 and page_response.headers["Cache-Control"] == "no-store"
    page = liga.page(f"/en/my/applications/{case_id}/result", lang="en")
    assert code in page and REDRESS_EN in text_of(page) and "Approved" in page

    pdf = liga.get(f"/lv/my/applications/{case_id}/result.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Cache-Control"] == "no-store"
    assert re.fullmatch(r'attachment; filename="PT-\d{4}-\d{6}-result\.pdf"', pdf.headers["Content-Disposition"])
    assert pdf.get_data().startswith(b"%PDF-") and b"/Lang (lv)" in pdf.get_data()

    other = Browser(portal.test_client())
    sign_in_as(other, "janis-ozolins")
    assert other.get(f"/en/my/applications/{case_id}/result").status_code == 404
    assert other.get(f"/en/my/applications/{case_id}/result.pdf").status_code == 404
    anonymous = Browser(portal.test_client()).get(f"/en/my/applications/{case_id}/result.pdf")
    assert anonymous.status_code == 302 and "/sign-in" in anonymous.headers["Location"]


def test_an_undecided_application_has_no_result_document(liga: Browser, applications_api: str) -> None:
    case_id = apply(applications_api)
    assert liga.get(f"/en/my/applications/{case_id}/result").status_code == 404
    assert liga.get(f"/en/my/applications/{case_id}/result.pdf").status_code == 404
    assert "How to contest" not in liga.page(f"/en/my/applications/{case_id}", lang="en")


# --- the public check ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("point", ["latvija", "riga"])
def test_anyone_checks_a_code_on_any_delivery_point(portal: Flask, applications_api: str, point: str) -> None:
    case_id = decided(applications_api)
    application = mine(applications_api, case_id)
    code = application["verification_code"]
    visitor = Browser(portal.test_client())  # nobody signed in
    page = visitor.page(f"/en/verify/{code}", point, lang="en")
    text = text_of(page)
    assert "The document is genuine" in text
    assert application["reference"] in text and "Approved" in text
    assert "Unemployed" in text or "unemployed" in text  # the service's title
    # Nothing about the person, their answers or the official.
    for personal in (demo_claims(LIGA)["name"], demo_claims(LIGA)["sub"], VSAA_DECIDER["name"], "apdrošināšanas"):
        assert personal not in text
    assert visitor.get(f"/en/verify/{code}", point).headers["Cache-Control"] == "no-store"
    # Typed in small letters, without dashes: one address per code, as printed.
    typed = visitor.get(f"/en/verify/{code.replace('-', '').lower()}", point)
    assert typed.status_code == 302 and typed.headers["Location"] == f"/en/verify/{code}"
    assert code in visitor.page(f"/lv/verify/{code}", point)


def test_the_code_is_typed_into_a_form(portal: Flask, applications_api: str) -> None:
    case_id = decided(applications_api)
    code = mine(applications_api, case_id)["verification_code"]
    visitor = Browser(portal.test_client())
    form = visitor.page("/lv/verify")
    assert 'action="/lv/verify"' in form and 'name="code"' in form and 'method="get"' in form
    sent = visitor.get(f"/lv/verify?code={code.lower().replace('-', ' ')}")
    assert sent.status_code == 302 and sent.headers["Location"] == f"/lv/verify/{code}"

    wrong = visitor.get("/en/verify?code=12345")
    assert wrong.status_code == 400
    html = wrong.get_data(as_text=True)
    assert page_problems(html, lang="en") == []
    assert 'href="#code"' in html and 'value="12345"' in html and 'aria-invalid="true"' in html


@pytest.mark.parametrize("point", ["latvija", "valmiera"])
def test_an_unknown_code_is_a_clear_not_found_with_the_form_again(portal: Flask, point: str) -> None:
    visitor = Browser(portal.test_client())
    page = visitor.page("/en/verify/ZZZZ-ZZZZ-ZZZZ", point, status=404, lang="en")
    assert "No decision has this verification code" in page and "ZZZZ-ZZZZ-ZZZZ" in page
    assert 'name="code"' in page
    assert visitor.get("/en/verify/not-a-code-at-all", point).status_code == 404
    hostile = visitor.get('/en/verify/"><svg onload=alert(1)>', point)
    assert hostile.status_code == 404 and "<svg" not in hostile.get_data(as_text=True)
    assert visitor.get("/xx/verify/ZZZZ-ZZZZ-ZZZZ", point).status_code == 302  # another language: Latvian


# --- answering a request for more information --------------------------------------------------------------------


def answer(browser: Browser, case_id: str, data: dict[str, Any], lang: str = "en") -> Any:
    page = browser.page(f"/{lang}/my/applications/{case_id}", lang=lang)
    return browser.client.post(
        f"/{lang}/my/applications/{case_id}/information",
        data={"csrf_token": csrf_token(page), **data},
        headers=HOST,
        content_type="multipart/form-data",
    )


def test_the_question_is_shown_and_answered_without_a_file(liga: Browser, applications_api: str) -> None:
    case_id = asked(applications_api, 'Pievienojiet izziņu. "><svg onload=alert(1)>')
    page = liga.page(f"/en/my/applications/{case_id}", lang="en")
    assert "More information requested" in page
    assert "&#34;&gt;&lt;svg onload=alert(1)&gt;" in page or "&quot;&gt;&lt;svg" in page  # escaped
    assert "<svg" not in page
    assert 'enctype="multipart/form-data"' in page and 'name="text"' in page and 'name="files"' in page

    sent = answer(liga, case_id, {"text": "Izziņu nosūtīšu pa pastu."})
    assert sent.status_code == 303 and sent.headers["Location"] == f"/en/my/applications/{case_id}"
    after = liga.page(f"/en/my/applications/{case_id}", lang="en")
    assert "Status In progress" in text_of(after) and 'name="text"' not in after
    assert mine(applications_api, case_id)["status"] == "in_progress"
    # Sending again (a double click) just shows the application.
    assert answer_again(liga, case_id).status_code == 303


def answer_again(browser: Browser, case_id: str) -> Any:
    page = browser.page(f"/en/my/applications/{case_id}", lang="en")
    return browser.client.post(
        f"/en/my/applications/{case_id}/information",
        data={"csrf_token": csrf_token(page), "text": "Vēlreiz"},
        headers=HOST,
    )


def test_an_answer_with_a_file_reaches_the_case(liga: Browser, applications_api: str) -> None:
    case_id = asked(applications_api)
    sent = answer(liga, case_id, {"text": "Izziņa pielikumā.", "files": [(io.BytesIO(PDF), "izzina.pdf")]})
    assert sent.status_code == 303
    case = requests.get(f"{applications_api}/staff/cases/{case_id}", headers=who(NVA_WORKER), timeout=10).json()
    information = [e for e in case["timeline"] if e["kind"] == "information"]
    assert information[-1]["text"] == "Izziņa pielikumā." and len(information[-1]["answers"]["files"]) == 1
    assert "izzina.pdf" in [f["name"] for f in case["files"]]


def test_errors_keep_the_text_and_the_files(liga: Browser, applications_api: str) -> None:
    case_id = asked(applications_api)
    # No text, but a file: the file is kept for the next try, the error names the field.
    missing = answer(liga, case_id, {"text": "  ", "files": [(io.BytesIO(PDF), "izzina.pdf")]})
    assert missing.status_code == 422
    html = missing.get_data(as_text=True)
    assert page_problems(html, lang="en") == []
    assert 'href="#information-text"' in html and "Enter your answer to the institution" in html
    assert "<title>Error:" in html
    kept = re.search(r'name="kept_file" value="([0-9a-f]{32}) izzina.pdf"', html)
    assert kept

    # Too long: what was typed comes back in the field.
    long_text = "Garš teksts. " * 400
    too_long = answer(liga, case_id, {"text": long_text, "kept_file": f"{kept[1]} izzina.pdf"})
    assert too_long.status_code == 422
    html = too_long.get_data(as_text=True)
    assert html_lib.escape(long_text.strip()[:200], quote=False) in html and "5,000" in html
    assert f'value="{kept[1]} izzina.pdf"' in html

    # A file the registry refuses (not what its name says) is shown next to the files field; the text stays.
    refused = answer(
        liga, case_id, {"text": "Izziņa pielikumā.", "files": [(io.BytesIO(b"MZ not a pdf"), "izzina.pdf")]}
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'href="#information-files"' in html and "izzina.pdf: The selected file must be one of these types" in html
    assert "Izziņa pielikumā.</textarea>" in html

    # Corrected: the kept file goes with the answer.
    done = answer(liga, case_id, {"text": "Izziņa pielikumā.", "kept_file": f"{kept[1]} izzina.pdf"})
    assert done.status_code == 303
    assert mine(applications_api, case_id)["status"] == "in_progress"


def test_answering_needs_the_csrf_token_and_a_sign_in(portal: Flask, liga: Browser, applications_api: str) -> None:
    case_id = asked(applications_api)
    no_token = liga.client.post(f"/en/my/applications/{case_id}/information", data={"text": "x"}, headers=HOST)
    assert no_token.status_code == 400
    anonymous = Browser(portal.test_client()).client.post(
        f"/en/my/applications/{case_id}/information", data={"text": "x"}, headers={"Host": POINT_HOSTS["latvija"]}
    )
    assert anonymous.status_code in (302, 303, 400)
    assert mine(applications_api, case_id)["status"] == "more_info_requested"
