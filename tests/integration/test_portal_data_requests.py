"""Level 5 in the staff area without JavaScript: NVA asks VSAA about an applicant from a case, VSAA answers, the
answer shows on the case; nobody else sees the question; errors keep what was typed."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from tests.fixtures.portal import Browser, make_portal
from tests.fixtures.registry_server import RegistryProcess
from tests.integration.test_portal_sign_in import HOST, csrf_token
from tests.integration.test_portal_staff import NVA_WORKER, PMLP_BOTH, VSAA_BOTH, signed_in, unemployed_case

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def staff_portal(applications_registry: RegistryProcess) -> Flask:
    return make_portal(applications_registry.url)


def post(browser: Browser, path: str, data: dict[str, str]) -> object:
    return browser.client.post(path, data=data, headers=HOST)


def test_an_institution_asks_another_and_reads_the_answer_on_the_case(
    staff_portal: Flask, applications_registry: RegistryProcess
) -> None:
    api = f"{applications_registry.url}/api/v1"
    case = unemployed_case(api)
    nva = next(signed_in(staff_portal, NVA_WORKER))
    case_page = nva.page(f"/lv/staff/cases/{case['id']}")
    ask_url = f"/lv/staff/cases/{case['id']}/ask"
    assert f'href="{ask_url}"' in case_page

    form = nva.page(ask_url)
    empty = post(nva, ask_url, {"csrf_token": csrf_token(form), "to_institution": "", "text": "Vai saņem pabalstu?"})
    assert empty.status_code == 422
    page = empty.get_data(as_text=True)
    assert "Izvēlieties iestādi, kurai jautāt." in page and "Vai saņem pabalstu?" in page  # nothing typed is lost
    sent = post(nva, ask_url, {"csrf_token": csrf_token(form), "to_institution": "vsaa", "text": "Vai saņem pabalstu?"})
    assert sent.status_code == 303 and sent.headers["Location"] == f"/lv/staff/cases/{case['id']}"

    vsaa = next(signed_in(staff_portal, VSAA_BOTH))
    listing = vsaa.page("/lv/staff/requests")
    link = re.search(r'href="(/lv/staff/requests/[0-9a-f]{32})">Vai saņem pabalstu\?', listing)
    assert link, "VSAA does not see the question"
    question = vsaa.page(link[1])
    assert case["reference"] not in question and f"/lv/staff/cases/{case['id']}" not in question  # not the case
    answered = post(vsaa, link[1], {"csrf_token": csrf_token(question), "text": "Nē, nesaņem."})
    assert answered.status_code == 303
    assert "Nē, nesaņem." in vsaa.page(link[1]) and 'name="text"' not in vsaa.page(link[1])

    pmlp = next(signed_in(staff_portal, PMLP_BOTH))
    assert pmlp.get(link[1]).status_code == 404
    assert "Vai saņem pabalstu?" not in pmlp.page("/lv/staff/requests")

    after = nva.page(f"/lv/staff/cases/{case['id']}")
    assert "Nē, nesaņem." in after and "Cita iestāde atbildēja" in after
    assert "Atbildēts" in nva.page("/lv/staff/requests")


def test_only_the_institution_at_the_step_is_offered_to_ask(
    staff_portal: Flask, applications_registry: RegistryProcess
) -> None:
    api = f"{applications_registry.url}/api/v1"
    case = unemployed_case(api)
    vsaa = next(signed_in(staff_portal, VSAA_BOTH))
    assert vsaa.get(f"/lv/staff/cases/{case['id']}/ask").status_code == 404  # not VSAA's case (yet)
