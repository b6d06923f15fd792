"""The staff area without JavaScript, against a real registry: sign in as an employee, the queue, a case, decide.

Cases are made the way they are in life: a fresh applicant submits an application through the registry API; the
service's process (registry/seed/processes/) puts it in the first step's institution's queue. Other tests submit
applications to the same registry, so these tests look for their own references rather than count the queue.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import requests
from flask import Flask

from app.auth.providers import load_demo_people
from tests.fixtures.applications import (
    RESIDENT_SERVICE,
    form_of,
    fresh_person,
    submission,
    submit,
    upload_file,
    valid_answers,
    who,
)
from tests.fixtures.html_checks import page_problems
from tests.fixtures.portal import POINT_HOSTS, Browser, make_portal
from tests.fixtures.registry_server import RegistryProcess
from tests.integration.test_portal_sign_in import HOST, LIGA, csrf_token, sign_in_as

pytestmark = pytest.mark.integration

UNEMPLOYED = "bezdarbnieka-statusa-pieskirsana"  # NVA's step, then VSAA's
NVA_WORKER = "anna-liepina"  # case worker
VSAA_BOTH = "martins-vitols"  # case worker and decision maker
RIGA_WORKER = "ilze-krumina"  # case worker
RIGA_DECIDER = "edgars-lacis"  # decision maker
PMLP_BOTH = "dace-silina"  # case worker and decision maker
XSS = '"><svg onload=alert(1)>'


@pytest.fixture(scope="module")
def staff_portal(applications_registry: RegistryProcess) -> Flask:
    """The portal over the registry that trusts the portal's identities."""
    return make_portal(applications_registry.url)


def signed_in(portal: Flask, person_id: str) -> Iterator[Browser]:
    # Not `with portal.test_client()`: a client kept open preserves its request context (and `g`, which holds who
    # is signed in) for the next request, and several employees take part in one test.
    browser = Browser(portal.test_client())
    assert sign_in_as(browser, person_id).status_code == 303
    yield browser


@pytest.fixture
def riga_worker(staff_portal: Flask) -> Iterator[Browser]:
    yield from signed_in(staff_portal, RIGA_WORKER)


@pytest.fixture
def riga_decider(staff_portal: Flask) -> Iterator[Browser]:
    yield from signed_in(staff_portal, RIGA_DECIDER)


@pytest.fixture
def nva_worker(staff_portal: Flask) -> Iterator[Browser]:
    yield from signed_in(staff_portal, NVA_WORKER)


@pytest.fixture
def pmlp(staff_portal: Flask) -> Iterator[Browser]:
    yield from signed_in(staff_portal, PMLP_BOTH)


def residence_case(api: str, *, with_file: bool = False, **changes: Any) -> dict[str, Any]:
    """Submit a residence declaration as a fresh person (a tenant with a document); return the application."""
    person = fresh_person()
    if with_file:
        changes |= {"legal_ground": "tenant", "ground_document": upload_file(api, person, ("pdf",))}
    body = submission(api, form_of(api, RESIDENT_SERVICE), person, **changes)
    response = submit(api, person, body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def unemployed_case(api: str) -> dict[str, Any]:
    """Submit an application for the unemployed status as a fresh person."""
    person = fresh_person()
    version, definition = form_of(api, UNEMPLOYED)
    answers = valid_answers(definition, person, api)
    body = {"service": UNEMPLOYED, "form": "application", "form_version": version, "answers": answers}
    response = submit(api, person, body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def staff_case(api: str, person_id: str, case_id: str) -> dict[str, Any]:
    """Read a case directly from the registry, as the demo employee `person_id`."""
    from tests.fixtures.applications import demo_claims

    response = requests.get(f"{api}/staff/cases/{case_id}", headers=who(demo_claims(person_id)), timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


def decisions(case: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry for entry in case["timeline"] if entry["kind"] == "decision"]


def in_queue(browser: Browser, reference: str, path: str = "/lv/staff/", point: str = "latvija") -> bool:
    """Say whether `reference` is in the queue at `path`, on any of its pages (other tests add cases too)."""
    lang = path.split("/")[1]
    while True:
        html = browser.page(path, point, lang=lang)
        results = html.split('id="results"', 1)[1]
        if f">{reference}</a>" in results:
            return True
        following = re.search(r'<a rel="next" href="([^"]+)"', results)
        if following is None:
            return False
        path = following[1].replace("&amp;", "&")


def post(browser: Browser, path: str, data: dict[str, str], **headers: str) -> Any:
    return browser.client.post(path, data=data, headers={**HOST, **headers})


def decision_fields(html: str, **fields: str) -> dict[str, str]:
    """The decision form as a browser sends it: its CSRF token, its step, and `fields`."""
    token = re.search(r'name="decision-csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="decision-csrf_token" value="([^"]+)"', html
    )
    step = re.search(r'name="decision-step" type="hidden" value="([^"]*)"', html) or re.search(
        r'name="decision-step" value="([^"]*)"', html
    )
    assert token and step, "no decision form on the page"
    return {"decision-csrf_token": token[1], "decision-step": step[1], **fields}


# --- who may come in ---------------------------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_sign_in_and_back(staff_portal: Flask) -> None:
    with staff_portal.test_client() as client:
        browser = Browser(client)
        response = browser.get("/lv/staff/?overdue=1")
        assert response.status_code == 302
        assert response.headers["Location"] == "/lv/sign-in?next=/lv/staff/?overdue%3D1"
        htmx = browser.get("/lv/staff/", **{"HX-Request": "true"})
        assert htmx.status_code == 204 and htmx.headers["HX-Redirect"].startswith("/lv/sign-in?next=")
        signed = sign_in_as(browser, RIGA_WORKER, next_url="/lv/staff/?overdue=1")
        assert signed.headers["Location"] == "/lv/staff/?overdue=1"


def test_a_person_who_is_not_an_employee_gets_403(staff_portal: Flask, applications_api: str) -> None:
    case = residence_case(applications_api)
    for browser in signed_in(staff_portal, LIGA):
        html = browser.page("/en/staff/", lang="en", status=403)
        assert "This is not open to you" in html
        assert browser.get(f"/lv/staff/cases/{case['id']}").status_code == 403
        claim = post(browser, f"/lv/staff/cases/{case['id']}/claim", {"csrf_token": "x"})
        assert claim.status_code in (400, 403)


def test_an_employee_signs_in_to_the_work_queue_and_never_applies(staff_portal: Flask) -> None:
    for browser in signed_in(staff_portal, NVA_WORKER):
        # Signing in without `next` lands on "My applications", which is the work queue for an employee.
        landing = browser.get("/lv/my/applications")
        assert landing.status_code == 302 and landing.headers["Location"] == "/lv/staff/"
        html = browser.page("/en/staff/", lang="en")
        assert "<h1>Work queue</h1>" in html and "State Employment Agency" in html
        assert 'href="/en/staff/" aria-current="page">Work queue</a>' in html  # the account menu
        refused = browser.page("/en/services/e-adreses-izveide/apply", lang="en", status=403)
        assert "Employees do not apply for services here" in refused and 'href="/en/staff/"' in refused
        service = browser.page("/lv/services/e-adreses-izveide")
        assert "/apply" not in service and 'href="/lv/staff/"' in service


def test_sign_in_page_lists_employees_apart_with_institution_and_roles(staff_portal: Flask) -> None:
    with staff_portal.test_client() as client:
        html = Browser(client).page("/en/sign-in", lang="en")
        applicants, employees = html.split("Employees of institutions", 1)
        assert "Līga Bērziņa" in applicants and "Anna Liepiņa" not in applicants
        assert "Anna Liepiņa" in employees and "State Employment Agency: case worker, personal code" in employees
        assert "State Social Insurance Agency: case worker and decision maker" in employees
        assert "Riga State City Municipality: decision maker" in employees or ": decision maker" in employees
        # One radio group: the arrow keys go from the applicants to the employees.
        assert len(re.findall(r'type="radio" id="person-[a-z-]+" name="person"', html)) == len(load_demo_people())


# --- the queue -------------------------------------------------------------------------------------------------


def test_queue_shows_only_the_institutions_cases(
    riga_worker: Browser, nva_worker: Browser, applications_api: str
) -> None:
    riga_case = residence_case(applications_api)
    nva_case = unemployed_case(applications_api)
    assert in_queue(riga_worker, riga_case["reference"]) and not in_queue(riga_worker, nva_case["reference"])
    assert in_queue(nva_worker, nva_case["reference"]) and not in_queue(nva_worker, riga_case["reference"])
    # Another institution's case does not exist for them.
    assert nva_worker.get(f"/lv/staff/cases/{riga_case['id']}").status_code == 404
    assert nva_worker.get("/lv/staff/cases/not-a-case").status_code == 404
    english = riga_worker.page("/en/staff/", lang="en")
    assert re.search(r"\d+ open cases?<", english) and in_queue(riga_worker, riga_case["reference"], "/en/staff/")


def test_queue_is_personal_never_cached_or_framed(riga_worker: Browser) -> None:
    response = riga_worker.get("/lv/staff/")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Security-Policy"].endswith("frame-ancestors 'none'")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "HX-Request" in response.headers["Vary"]
    assert 'hx-history="false"' in response.get_data(as_text=True)


def test_filters_work_as_a_plain_form_and_with_htmx(riga_worker: Browser, applications_api: str) -> None:
    case = residence_case(applications_api)
    assert in_queue(riga_worker, case["reference"], f"/lv/staff/?service={RESIDENT_SERVICE}")
    assert not in_queue(riga_worker, case["reference"], "/lv/staff/?service=pii-rinda-riga")
    assert not in_queue(riga_worker, case["reference"], "/lv/staff/?mine=1")
    assert not in_queue(riga_worker, case["reference"], "/lv/staff/?status=more_info_requested")
    # Values no form offers go back to the clean address.
    for bad in ("status=bogus", "page=0", "overdue=yes", "service=..%2Fx", "page=" + "9" * 30):
        response = riga_worker.get(f"/lv/staff/?{bad}")
        assert response.status_code == 302 and response.headers["Location"] == "/lv/staff/", bad
    full = riga_worker.page(f"/lv/staff/?service={RESIDENT_SERVICE}")
    fragment = riga_worker.get(f"/lv/staff/?service={RESIDENT_SERVICE}&status=", **{"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html and html.lstrip().startswith('<section id="results"')
    references = re.findall(r">(PT-[0-9-]+)</a>", html)
    assert references and references == re.findall(r">(PT-[0-9-]+)</a>", full)  # the same block as the page
    assert fragment.headers["HX-Push-Url"] == f"/lv/staff/?service={RESIDENT_SERVICE}"


def test_taking_a_case_puts_it_in_mine_and_releasing_gives_it_back(riga_worker: Browser, applications_api: str) -> None:
    case = residence_case(applications_api)
    url = f"/lv/staff/cases/{case['id']}"
    html = riga_worker.page(url)
    assert "Take this case" in riga_worker.page(url.replace("/lv/", "/en/"), lang="en")
    taken = post(riga_worker, f"{url}/claim", {"csrf_token": csrf_token(html)})
    assert taken.status_code == 303 and taken.headers["Location"] == url
    assert in_queue(riga_worker, case["reference"], "/lv/staff/?mine=1")
    html = riga_worker.page(url)
    assert "Give it back to the queue" in riga_worker.page(url.replace("/lv/", "/en/"), lang="en")
    assert post(riga_worker, f"{url}/claim", {}).status_code == 400  # no CSRF token
    released = post(riga_worker, f"{url}/release", {"csrf_token": csrf_token(html)})
    assert released.status_code == 303
    assert not in_queue(riga_worker, case["reference"], "/lv/staff/?mine=1")


# --- a case and its decision -----------------------------------------------------------------------------------


def test_case_page_shows_answers_files_process_and_escapes_everything(
    riga_worker: Browser, applications_api: str
) -> None:
    case = residence_case(applications_api, with_file=True, applicant_name=XSS)
    html = riga_worker.page(f"/lv/staff/cases/{case['id']}")
    assert case["reference"] in html
    assert XSS not in html and "&#34;&gt;&lt;svg onload=alert(1)&gt;" in html
    assert "Tiesiskā pamata pārbaude (pašvaldība)" in html and "Ieraksts Fizisko personu reģistrā" in html
    links = re.findall(rf'href="(/lv/staff/cases/{case["id"]}/files/[0-9a-f]{{32}})"', html)
    assert links, "the attachment is a link through the portal"
    download = riga_worker.get(links[0])
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["Content-Security-Policy"] == "default-src 'none'; sandbox; frame-ancestors 'none'"
    assert download.headers["Cache-Control"] == "no-store"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    # A case worker on the first step: approve and request information; no refusal, nothing to return to.
    assert 'value="approve"' in html and 'value="request_info"' in html
    assert 'value="refuse"' not in html and 'value="return"' not in html


def test_decide_without_javascript_keeps_answers_on_errors_then_moves_the_case(
    riga_worker: Browser, pmlp: Browser, applications_api: str
) -> None:
    case = residence_case(applications_api)
    url = f"/lv/staff/cases/{case['id']}"
    html = riga_worker.page(url)

    bad = post(riga_worker, url, decision_fields(html, **{"decision-outcome": "approve", "address_code": "12"}))
    assert bad.status_code == 422
    bad_html = bad.get_data(as_text=True)
    assert page_problems(bad_html, lang="lv") == []
    assert "<title>Kļūda: " in bad_html and "Radusies problēma" in bad_html
    assert 'href="#ground_confirmed"' in bad_html and 'href="#address_code"' in bad_html
    assert 'value="12"' in bad_html  # nothing typed is lost
    assert (
        'value="approve" checked' in bad_html
        or 'checked type="radio" value="approve"' in bad_html
        or (re.search(r'<input[^>]*checked[^>]*value="approve"', bad_html))
    )

    no_reason = post(riga_worker, url, decision_fields(html, **{"decision-outcome": "request_info"}))
    assert no_reason.status_code == 422
    assert 'href="#decision-text"' in no_reason.get_data(as_text=True)

    fields = {"decision-outcome": "approve", "ground_confirmed": "register", "address_code": "105000001"}
    good = post(riga_worker, url, decision_fields(html, **fields))
    assert good.status_code == 303 and good.headers["Location"] == "/lv/staff/"
    queue = riga_worker.page("/lv/staff/")
    assert 'class="notice notice--success"' in queue
    assert not in_queue(riga_worker, case["reference"])  # not in the municipality's queue any more

    # The case is now PMLP's; the municipality still sees it (it worked on it) but decides nothing.
    after = riga_worker.page(url.replace("/lv/", "/en/"), lang="en")
    assert 'name="decision-outcome"' not in after and "Approved" in after
    assert in_queue(pmlp, case["reference"])
    stored = staff_case(applications_api, PMLP_BOTH, case["id"])
    assert stored["step"]["id"] == "pmlp-register"
    entry = decisions(stored)[0]
    assert entry["answers"] == {"ground_confirmed": "register", "address_code": "105000001"}
    assert entry["actor"]["name"] == "Ilze Krūmiņa" and entry["institution"] == "riga-municipality"


def test_a_double_submitted_decision_is_one_decision(
    riga_worker: Browser, pmlp: Browser, applications_api: str
) -> None:
    case = residence_case(applications_api)
    url = f"/lv/staff/cases/{case['id']}"
    html = riga_worker.page(url)
    fields = {"decision-outcome": "approve", "ground_confirmed": "register", "address_code": "105000001"}
    assert post(riga_worker, url, decision_fields(html, **fields)).status_code == 303

    html = pmlp.page(url)
    assert 'value="refuse"' in html and 'value="return"' in html  # a decision maker on the second step
    fields = {"decision-outcome": "approve", "registered_from": date.today().isoformat()}
    with pmlp.client.session_transaction() as session:
        before = dict(session)  # the browser's cookie as it was when both clicks left
    first = post(pmlp, url, decision_fields(html, **fields))
    assert first.status_code == 303
    with pmlp.client.session_transaction() as session:
        session.clear()
        session.update(before)
    second = post(pmlp, url, decision_fields(html, **fields))
    assert second.status_code == 303 and second.headers["Location"] == "/lv/staff/"
    stored = staff_case(applications_api, PMLP_BOTH, case["id"])
    assert stored["status"] == "decided" and stored["result"] == "approved"
    assert [d["step"] for d in decisions(stored)] == ["municipality-check", "pmlp-register"]
    # A reload of the old form after the decision says what happened instead of deciding again.
    third = post(pmlp, url, decision_fields(html, **fields))
    assert third.status_code == 409
    assert len(decisions(staff_case(applications_api, PMLP_BOTH, case["id"]))) == 2


def test_refusing_needs_a_decision_maker_and_a_reason(
    riga_worker: Browser, riga_decider: Browser, applications_api: str
) -> None:
    case = residence_case(applications_api)
    url = f"/lv/staff/cases/{case['id']}"
    worker_html = riga_worker.page(url)
    # Forged: the case worker's form never offers it, and the portal does not send it.
    forged = post(
        riga_worker, url, decision_fields(worker_html, **{"decision-outcome": "refuse", "decision-text": "x"})
    )
    assert forged.status_code == 422
    html = riga_decider.page(url)
    missing = post(riga_decider, url, decision_fields(html, **{"decision-outcome": "refuse", "address_code": "1"}))
    assert missing.status_code == 422
    missing_html = missing.get_data(as_text=True)
    assert 'href="#decision-text"' in missing_html and 'value="1"' in missing_html
    reason = "Adrese neeksistē Adrešu reģistrā."
    refused = post(riga_decider, url, decision_fields(html, **{"decision-outcome": "refuse", "decision-text": reason}))
    assert refused.status_code == 303
    stored = staff_case(applications_api, RIGA_DECIDER, case["id"])
    assert stored["status"] == "decided" and stored["result"] == "refused"
    assert decisions(stored)[0]["text"] == reason and decisions(stored)[0]["answers"] == {}
    page = riga_decider.page(url)
    assert reason in page and "Edgars Lācis" in page


@pytest.mark.parametrize("point", list(POINT_HOSTS))
@pytest.mark.parametrize("lang", ["lv", "en"])
def test_staff_pages_on_every_delivery_point(staff_portal: Flask, applications_api: str, point: str, lang: str) -> None:
    case = residence_case(applications_api)
    browser = Browser(staff_portal.test_client())
    host = {"Host": POINT_HOSTS[point]}
    html = browser.page(f"/{lang}/sign-in", point, lang=lang)
    signed = browser.client.post(
        f"/{lang}/sign-in", data={"csrf_token": csrf_token(html), "person": RIGA_WORKER}, headers=host
    )
    assert signed.status_code == 303
    assert in_queue(browser, case["reference"], f"/{lang}/staff/", point)
    page = browser.page(f"/{lang}/staff/cases/{case['id']}", point, lang=lang)
    assert case["reference"] in page and 'name="decision-outcome"' in page


def test_a_case_is_given_to_a_colleague_without_javascript(
    staff_portal: Flask, applications_registry: RegistryProcess
) -> None:
    api = f"{applications_registry.url}/api/v1"
    case = residence_case(api)
    decider = next(signed_in(staff_portal, RIGA_DECIDER))
    worker = next(signed_in(staff_portal, RIGA_WORKER))
    # Ilze takes the case, so the registry knows her as one of Riga's people; Edgars then gives it back to her.
    worker.client.post(
        f"/lv/staff/cases/{case['id']}/claim",
        data={"csrf_token": csrf_token(worker.page(f"/lv/staff/cases/{case['id']}"))},
        headers=HOST,
    )
    page = decider.page(f"/lv/staff/cases/{case['id']}")
    assert 'name="to"' in page and "Ilze Krūmiņa" in page
    sub = re.search(r'<option value="([^"]+)"[^>]*>Ilze Krūmiņa</option>', page)
    assert sub
    given = decider.client.post(
        f"/lv/staff/cases/{case['id']}/assign", data={"csrf_token": csrf_token(page), "to": sub[1]}, headers=HOST
    )
    assert given.status_code == 303
    after = decider.page(f"/lv/staff/cases/{case['id']}")
    assert "Lieta nodota jūsu izvēlētajam kolēģim." in after
    refused = decider.client.post(
        f"/lv/staff/cases/{case['id']}/assign",
        data={"csrf_token": csrf_token(after), "to": "010101-10101"},
        headers=HOST,
    )
    assert refused.status_code == 303
    assert "Lietu nevarēja nodot" in decider.page(f"/lv/staff/cases/{case['id']}")
    assert staff_case(api, RIGA_WORKER, case["id"])["assigned_to"]["name"] == "Ilze Krūmiņa"
