"""Applying online without JavaScript: sign in, answer page by page, check, submit once, follow, withdraw."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.fixtures.html_checks import page_problems
from tests.fixtures.portal import POINT_HOSTS, Browser, make_portal
from tests.fixtures.registry_server import RegistryProcess
from tests.integration.test_portal_sign_in import HOST, LIGA, csrf_token, sign_in_as

pytestmark = pytest.mark.integration


@pytest.fixture
def person(applications_registry: RegistryProcess) -> Iterator[Browser]:
    """A signed-in person on the state portal, over a registry that accepts the portal's identities."""
    with make_portal(applications_registry.url).test_client() as client:
        browser = Browser(client)
        assert sign_in_as(browser, LIGA).status_code == 303
        yield browser


def browser_host(point: str) -> str:
    return POINT_HOSTS[point]


def post(browser: Browser, path: str, data: dict[str, object]) -> object:
    return browser.client.post(path, data=data, headers=HOST)


def test_anonymous_visitor_is_sent_to_sign_in_and_back(applications_registry: RegistryProcess) -> None:
    with make_portal(applications_registry.url).test_client() as client:
        browser = Browser(client)
        response = browser.get("/lv/services/e-adreses-izveide/apply")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/lv/sign-in?next=")
        signed = sign_in_as(browser, LIGA, next_url="/lv/services/e-adreses-izveide/apply")
        assert signed.headers["Location"] == "/lv/services/e-adreses-izveide/apply"
        assert browser.get("/lv/my/applications").status_code == 200


def test_the_service_page_offers_the_online_form(person: Browser) -> None:
    html = person.page("/lv/services/e-adreses-izveide")
    assert 'href="/lv/services/e-adreses-izveide/apply"' in html


def test_whole_journey_submits_exactly_once(person: Browser) -> None:
    start = person.get("/lv/services/e-adreses-izveide/apply")
    assert start.status_code == 302
    page_url = start.headers["Location"]
    assert re.fullmatch(r"/lv/my/drafts/[0-9a-f]{32}/pages/notifications", page_url)
    draft_url = page_url.rsplit("/pages/", 1)[0]

    html = person.page(page_url)
    assert "1. solis no 1" in html and "E-pasts paziņojumiem" in html

    bad = post(person, page_url, {"csrf_token": csrf_token(html), "notification_email": "nav-epasts"})
    assert bad.status_code == 422
    bad_html = bad.get_data(as_text=True)
    assert "Radusies problēma" in bad_html and 'href="#notification_email"' in bad_html
    assert 'value="nav-epasts"' in bad_html  # nothing typed is lost

    good = post(
        person,
        page_url,
        {"csrf_token": csrf_token(html), "notification_email": "liga@example.lv", "notification_channels": "email"},
    )
    assert good.status_code == 303 and good.headers["Location"] == f"{draft_url}/check"

    # Resuming from the service page lands on the check page: the draft remembers where the person was.
    assert person.get("/lv/services/e-adreses-izveide/apply").headers["Location"] == f"{draft_url}/check"

    check = person.page(f"{draft_url}/check")
    assert "liga@example.lv" in check and "E-pastā" in check and "Mainīt" in check
    no_declaration = post(person, f"{draft_url}/check", {"csrf_token": csrf_token(check)})
    assert no_declaration.status_code == 422
    assert "apstipriniet" in no_declaration.get_data(as_text=True).lower()

    token = csrf_token(check)
    first = post(person, f"{draft_url}/check", {"csrf_token": token, "declaration": "y"})
    assert first.status_code == 303
    application_url = first.headers["Location"]
    assert re.fullmatch(r"/lv/my/applications/[0-9a-f]{32}", application_url)

    receipt = person.page(application_url)
    reference = re.search(r"PT-\d{4}-\d{6}", receipt)
    assert reference and "liga@example.lv" in receipt

    mine = person.page("/lv/my/applications")
    assert mine.count(reference[0]) == 1
    assert "Oficiālās elektroniskās adreses (e-adreses) izveide" in mine

    # The back button and a second click post the check page again: the draft is gone, nothing new is created.
    again = post(person, f"{draft_url}/check", {"csrf_token": token, "declaration": "y"})
    assert again.status_code == 404
    assert person.page("/lv/my/applications").count(reference[0]) == 1

    withdraw = post(person, f"{application_url}/withdraw", {"csrf_token": csrf_token(receipt)})
    assert withdraw.status_code == 303
    assert "Atsaukts" in person.page(application_url)


def test_someone_elses_draft_is_not_found(person: Browser, applications_registry: RegistryProcess) -> None:
    page_url = person.get("/lv/services/e-adreses-izveide/apply").headers["Location"]
    with make_portal(applications_registry.url).test_client() as other_client:
        other = Browser(other_client)
        sign_in_as(other, "janis-ozolins")
        assert other.get(page_url).status_code == 404
        assert other.get(page_url.rsplit("/pages/", 1)[0] + "/check").status_code == 404


def test_a_page_that_does_not_exist_or_is_hidden_is_not_found(person: Browser) -> None:
    page_url = person.get("/lv/services/e-adreses-izveide/apply").headers["Location"]
    assert person.get(page_url.rsplit("/", 1)[0] + "/no-such-page").status_code == 404


def test_services_without_an_online_form_cannot_be_applied_for(person: Browser) -> None:
    assert person.get("/lv/services/mirsanas-fakta-registracija-valmiera/apply").status_code == 404
    assert person.get("/lv/services/no-such-service/apply").status_code == 404


def test_known_data_is_prefilled_from_the_signed_identity(person: Browser) -> None:
    page_url = person.get("/lv/services/dzivesvietas-deklaresana/apply").headers["Location"]
    html = person.page(page_url)
    assert 'value="161175-19997"' in html  # Līga's personal code, from her identity
    assert "Līga Bērziņa" in html


@pytest.mark.parametrize("point", ["latvija", "viss", "riga", "valmiera"])
@pytest.mark.parametrize("lang", ["lv", "en"])
def test_journey_pages_are_well_formed_on_every_point(
    applications_registry: RegistryProcess, point: str, lang: str
) -> None:
    with make_portal(applications_registry.url).test_client() as client:
        browser = Browser(client)
        html = browser.page(f"/{lang}/sign-in", point, lang=lang)
        signed = browser.client.post(
            f"/{lang}/sign-in",
            data={"csrf_token": csrf_token(html), "person": "elina-zagare"},
            headers={"Host": browser_host(point)},
        )
        assert signed.status_code == 303
        page_url = browser.get(f"/{lang}/services/e-adreses-izveide/apply", point).headers["Location"]
        form_html = browser.page(page_url, point, lang=lang)
        invalid = browser.client.post(
            page_url, data={"csrf_token": csrf_token(form_html)}, headers={"Host": browser_host(point)}
        )
        assert invalid.status_code == 422
        assert page_problems(invalid.get_data(as_text=True), lang=lang) == []
        browser.client.post(
            page_url,
            data={
                "csrf_token": csrf_token(form_html),
                "notification_email": "elina@example.lv",
                "notification_channels": "email",
            },
            headers={"Host": browser_host(point)},
        )
        browser.page(f"/{lang}/my/applications", point, lang=lang)
        # Send it, so the next point starts a new draft of this person's e-address application.
        check = browser.page(page_url.rsplit("/pages/", 1)[0] + "/check", point, lang=lang)
        sent = browser.client.post(
            page_url.rsplit("/pages/", 1)[0] + "/check",
            data={"csrf_token": csrf_token(check), "declaration": "y"},
            headers={"Host": browser_host(point)},
        )
        assert sent.status_code == 303
        browser.page(sent.headers["Location"], point, lang=lang)


def test_an_internet_bank_sign_in_is_asked_for_eid_where_the_service_needs_it(
    applications_registry: RegistryProcess,
) -> None:
    """Jānis signed in with an internet bank (acr substantial); the e-address lists only eID card and eParaksts."""
    with make_portal(applications_registry.url).test_client() as client:
        browser = Browser(client)
        assert sign_in_as(browser, "janis-ozolins").status_code == 303
        refused = browser.get("/lv/services/e-adreses-izveide/apply")
        html = refused.get_data(as_text=True)
        assert refused.status_code == 403
        assert "Nepieciešams drošāks pieteikšanās veids" in html and "eID karti vai eParakstu" in html
        assert 'href="/lv/sign-in?acr=high&amp;next=/lv/services/e-adreses-izveide/apply"' in html
        assert page_problems(html, lang="lv") == []
