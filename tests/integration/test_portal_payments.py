"""Paying a state fee without JavaScript, against a real registry: the application page shows what is due, "Pay"
goes to the demonstration bank, and its Pay / Cancel bring the person back with the outcome. Production refuses the
demonstration bank."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask

from app.config import ProductionConfig
from tests.fixtures.applications import demo_claims, form_of, submit, valid_answers, who
from tests.fixtures.portal import Browser, make_portal
from tests.fixtures.registry_server import RegistryProcess
from tests.integration.test_portal_sign_in import ELINA, HOST, csrf_token, sign_in_as

pytestmark = pytest.mark.integration

SERVICE = "komersanta-registracija"


@pytest.fixture(scope="module")
def portal(applications_registry: RegistryProcess) -> Flask:
    return make_portal(applications_registry.url)


@pytest.fixture
def elina(portal: Flask) -> Iterator[Browser]:
    """Elīna, a company's representative, signed in on the state portal."""
    browser = Browser(portal.test_client())
    assert sign_in_as(browser, ELINA).status_code == 303
    yield browser


def apply(api: str) -> str:
    """Elīna applies to register an SIA (the 150 euro fee) through the registry; return the application id."""
    claims = demo_claims(ELINA)
    version, definition = form_of(api, SERVICE)
    body = {"service": SERVICE, "form": "application", "form_version": version}
    response = submit(api, claims, body | {"answers": valid_answers(definition, claims, api)})
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "awaiting_payment"
    return str(response.json()["id"])


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", page)))


def pay_form(page: str) -> tuple[str, str]:
    """The action and CSRF token of the application page's "Pay" form."""
    found = re.search(r'<form class="no-print" method="post" action="([^"]+/pay)">', page)
    assert found, "no Pay button on the page"
    return html_lib.unescape(found[1]), csrf_token(page)


def to_the_bank(browser: Browser, application_id: str) -> tuple[str, str]:
    """Press "Pay" on the application page; return the bank page's path and HTML."""
    page = browser.page(f"/lv/my/applications/{application_id}")
    action, token = pay_form(page)
    response = browser.client.post(action, data={"csrf_token": token}, headers=HOST)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert urlsplit(location).path == "/lv/demo-bank/pay" and "state=" in location
    parts = urlsplit(location)
    bank = browser.page(f"{parts.path}?{parts.query}")
    return parts.path, bank


def press(browser: Browser, path: str, bank: str, result: str, lang: str = "lv") -> str:
    """Press a button of the demonstration bank; follow it back and return the application page."""
    state = html_lib.unescape(re.search(r'name="state" value="([^"]+)"', bank)[1])  # type: ignore[index]
    response = browser.client.post(
        path, data={"csrf_token": csrf_token(bank), "state": state, "result": result}, headers=HOST
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    back = urlsplit(response.headers["Location"]).path
    assert back.startswith("/lv/my/applications/")
    return browser.page(back.replace("/lv/", f"/{lang}/", 1), lang=lang)


def status_of(api: str, application_id: str) -> str:
    response = requests.get(f"{api}/me/applications/{application_id}", headers=who(demo_claims(ELINA)), timeout=10)
    return str(response.json()["status"])


def test_paying_the_fee_sends_the_application_on(elina: Browser, applications_api: str) -> None:
    application_id = apply(applications_api)
    # Latvian money format and the registry's own text; the portal's words are checked in English (their Latvian
    # comes with the catalogue).
    page = text_of(elina.page(f"/lv/my/applications/{application_id}"))
    assert "150,00 €" in page and "Valsts nodeva: SIA" in page
    page = text_of(elina.page(f"/en/my/applications/{application_id}", lang="en"))
    assert "Status Awaiting payment" in page and "Amount due €150.00" in page and "Pay €150.00" in page
    assert "Awaiting payment" in text_of(elina.page("/en/my/applications", lang="en"))

    path, bank = to_the_bank(elina, application_id)
    shown = text_of(bank)
    assert "Uzņēmumu reģistrs" in shown and "150,00 €" in shown and "Valsts nodeva: SIA" in shown

    # The bank was opened in Latvian: the message is Latvian, shown on the (Latvian) application page.
    back = text_of(press(elina, path, bank, "paid"))
    assert "Maksājums ir saņemts" in back and "Maksājuma statuss Samaksāts" in back
    assert "Statuss Iesniegts" in back and "Maksāt 150,00 €" not in back
    assert status_of(applications_api, application_id) == "submitted"


def test_cancelling_keeps_the_application_waiting(elina: Browser, applications_api: str) -> None:
    application_id = apply(applications_api)
    path, bank = to_the_bank(elina, application_id)
    back = text_of(press(elina, path, bank, "cancelled"))
    assert "Jūs atcēlāt maksājumu" in back and "Statuss Gaida apmaksu" in back and "Maksāt 150,00 €" in back
    assert status_of(applications_api, application_id) == "awaiting_payment"
    # And it can be paid after all; a failed attempt first changes nothing either.
    path, bank = to_the_bank(elina, application_id)
    assert "Maksājums neizdevās" in text_of(press(elina, path, bank, "failed"))
    assert status_of(applications_api, application_id) == "awaiting_payment"
    path, bank = to_the_bank(elina, application_id)
    press(elina, path, bank, "paid")
    assert status_of(applications_api, application_id) == "submitted"


def test_the_bank_refuses_a_forged_state(elina: Browser) -> None:
    page = elina.page("/en/demo-bank/pay?state=forged.state.value", status=400, lang="en")
    assert "This payment link does not work" in text_of(page)


def test_without_demo_payments_there_is_no_bank(applications_registry: RegistryProcess) -> None:
    portal = make_portal(applications_registry.url, DEMO_PAYMENTS=False)
    assert portal.test_client().get("/lv/demo-bank/pay?state=x", headers=HOST).status_code == 404


def test_production_refuses_demo_payments() -> None:
    settings = {
        "SECRET_KEY": "x" * 40,
        "IDENTITY_SECRET": "y" * 40,
        "DEMO_SIGN_IN": False,
        "DEMO_PAYMENTS": True,
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REGISTRY_URL", "https://registry.example")
        with pytest.raises(RuntimeError, match="DEMO_PAYMENTS"):
            ProductionConfig.check(settings)
        ProductionConfig.check(settings | {"DEMO_PAYMENTS": False})
    assert ProductionConfig.DEMO_PAYMENTS is False


def test_a_fee_after_the_decision_holds_the_result_document_until_paid(elina: Browser, applications_api: str) -> None:
    from tests.integration.test_cases_api import decide
    from tests.integration.test_fee_after_decision_api import RIGA, step_answers
    from tests.integration.test_fee_after_decision_api import SERVICE as PERMIT

    claims = demo_claims(ELINA)
    version, definition = form_of(applications_api, PERMIT)
    answers = valid_answers(definition, claims, applications_api) | {"trading_period": "one_day"}
    body = {"service": PERMIT, "form": "application", "form_version": version, "answers": answers}
    created = submit(applications_api, claims, body)
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    for step in ("trading-check", "permit-decision"):
        decision = {"step": step, "outcome": "approve", "answers": step_answers(applications_api, step)}
        assert decide(applications_api, RIGA, application_id, decision).status_code == 201

    page = text_of(elina.page(f"/en/my/applications/{application_id}", lang="en"))
    assert "Your application has been approved. The result document is issued once the fee is paid." in page
    assert "will be here once the fee is paid" in page and "Pay €5.00" in page
    assert "Open the decision as a document" not in page
    result = elina.client.get(f"/en/my/applications/{application_id}/result", headers=HOST)
    assert result.status_code == 404

    path, bank = to_the_bank(elina, application_id)
    back = text_of(press(elina, path, bank, "paid", lang="en"))
    assert "Open the decision as a document" in back and "Pay €5.00" not in back
    document = text_of(elina.page(f"/en/my/applications/{application_id}/result", lang="en"))
    code = requests.get(f"{applications_api}/me/applications/{application_id}", headers=who(claims), timeout=10).json()[
        "verification_code"
    ]
    assert code and code in document
