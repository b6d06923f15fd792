"""Every page type on every delivery point, in both languages, against a real registry."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.portal import POINT_HOSTS, Browser

pytestmark = pytest.mark.integration

POINTS = list(POINT_HOSTS)
LANGS = ["lv", "en"]
PAGES = [
    "/{lang}/",
    "/{lang}/services",
    "/{lang}/services?q=pabalsts",
    "/{lang}/services?audience=businesses&level=4",
    "/{lang}/services?life_event=birth-of-child",
    "/{lang}/services/dzivesvietas-deklaresana",
    "/{lang}/services/fizisko-personu-registra-datu-apmaina",
    "/{lang}/services/mirsanas-fakta-registracija-valmiera",
    "/{lang}/institutions/vsaa",
    "/{lang}/embed/services",
    "/{lang}/embed/services/pases-izsniegsana",
]


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_well_formed(browser: Browser, point: str, lang: str, path: str) -> None:
    if point == "riga" and "valmiera" in path:
        pytest.skip("Riga's portal does not offer Valmiera's services (tested below)")
    browser.page(path.format(lang=lang), point, lang=lang)


def test_root_redirects_to_latvian(browser: Browser) -> None:
    response = browser.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/lv/"


def test_unknown_host_gets_a_plain_404(browser: Browser) -> None:
    response = browser.get("/lv/", "evil.example")
    assert response.status_code == 404
    assert response.mimetype == "text/plain"


@pytest.mark.parametrize("point", POINTS)
def test_pages_are_themed_per_point(browser: Browser, point: str) -> None:
    html = browser.page("/lv/", point)
    assert f'class="point-{point}"' in html
    tokens = browser.get("/theme/tokens.css", point)
    assert tokens.status_code == 200 and "--color-brand" in tokens.get_data(as_text=True)
    assert "Host" in tokens.headers["Vary"]


def test_themes_differ_in_data_only(browser: Browser) -> None:
    colours = {
        p: re.search(r"--color-brand: (#\w+)", browser.get("/theme/tokens.css", p).get_data(as_text=True))
        for p in POINTS
    }
    assert len({m.group(1) for m in colours.values() if m}) == len(POINTS)


def test_municipal_point_shows_its_own_and_nationwide_services_only(browser: Browser) -> None:
    riga = browser.page("/lv/services?q=pirmsskola", "riga")
    assert "/lv/services/pii-rinda-riga" in riga
    assert "pii-rinda-valmiera" not in riga and "pii-rinda-liepaja" not in riga
    browser.page("/lv/services/pii-rinda-valmiera", "riga", status=404)
    browser.page("/lv/services/pases-izsniegsana", "riga")  # nationwide
    state = browser.page("/lv/services?q=pirmsskola", "latvija")
    assert all(f"pii-rinda-{m}" in state for m in ("riga", "valmiera", "liepaja"))


def test_viss_shows_integration_details(browser: Browser) -> None:
    viss = browser.page("/en/services/adresu-registra-datu-pakalpe", "viss", lang="en")
    assert "For integrators" in viss and ".jsonld" in viss
    state = browser.page("/en/services/adresu-registra-datu-pakalpe", "latvija", lang="en")
    assert "For integrators" not in state


def test_service_page_tells_everything_before_sign_in(browser: Browser) -> None:
    html = browser.page("/lv/services/dzivesvietas-deklaresana")
    for text in (
        "Pakalpojuma sniedzējs",
        "Soļi",
        "Kas jums vajadzīgs",
        "Maksa",
        "Izpildes termiņš",
        "Kā apstrīdēt lēmumu",
        "Ja iestāde neatbild laikā",
        "Valodas",
        "Ko jūs saņemat",
        "Kur un kā",
        "Pieteikšanās",
        "4,27",
        "Pieteikties tiešsaistē",
        "4. līmenis",
    ):
        assert text in html, text
    assert '"@type": "GovernmentService"' in html


@pytest.mark.parametrize(
    ("service_id", "action"),
    [
        ("mirsanas-fakta-registracija-valmiera", "Šo pakalpojumu saņem iestādē"),
        ("laulibas-registracija-riga", "Lejupielādēt iesnieguma veidlapu (PDF)"),  # our printable form
        ("nekustama-ipasuma-nodokla-atvieglojumi-liepaja", "Lejupielādēt veidlapu"),  # its own
        ("pases-izsniegsana", "Pieteikties tiešsaistē"),
        ("adresu-registra-datu-pakalpe", "Iestādes šo pakalpojumu izmanto"),
    ],
)
def test_call_to_action_matches_the_level(browser: Browser, service_id: str, action: str) -> None:
    assert action in browser.page(f"/lv/services/{service_id}")


def test_latvian_counts_use_latvian_plural_forms(browser: Browser) -> None:
    assert "Atrasts 1 pakalpojums" in browser.page("/lv/services?q=deklaresana&institution=pmlp")
    many = browser.page("/lv/services?q=pabalsts")
    assert re.search(r"Atrasti \d+ pakalpojumi", many)
    assert "Nav atrasts neviens pakalpojums" in browser.page("/lv/services?q=zzzyyyxxx")
    assert "1 service found" in browser.page("/en/services?q=deklaresana&institution=pmlp", lang="en")


def test_money_is_formatted_per_language(browser: Browser) -> None:
    assert "4,27\xa0€" in browser.page("/lv/services/dzivesvietas-deklaresana")
    assert "€4.27" in browser.page("/en/services/dzivesvietas-deklaresana", lang="en")


def test_language_switcher_keeps_the_page_and_query(browser: Browser) -> None:
    html = browser.page("/lv/services?q=pase&level=3")
    assert 'href="/en/services?q=pase&amp;level=3"' in html


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/de/services?q=pase", "/lv/services?q=pase"),
        ("/lv/services?level=9&q=pase", "/lv/services?q=pase"),
        ("/lv/services?audience=aliens", "/lv/services"),
        ("/lv/services?institution=nobody&life_event=nothing", "/lv/services"),
        ("/lv/services?page=-1", "/lv/services"),
        ("/lv/services?page=abc", "/lv/services"),
        ("/lv/services?q=pase&page=999", "/lv/services?q=pase"),
    ],
)
def test_bad_query_strings_redirect_to_a_valid_url(browser: Browser, path: str, location: str) -> None:
    response = browser.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == location


def test_absurdly_long_search_gets_a_clean_400_page(browser: Browser) -> None:
    html = browser.page("/lv/services?q=" + "pase " * 100, status=400)
    assert "Meklējamais teksts ir pārāk garš" in html


@pytest.mark.parametrize(
    "path", ["/lv/services/no-such-service", "/lv/services/../../etc", "/lv/institutions/nobody", "/lv/nothing"]
)
def test_unknown_things_get_a_themed_404(browser: Browser, path: str) -> None:
    html = browser.page(path, status=404)
    assert "Lapa nav atrasta" in html


def test_htmx_request_gets_only_the_results_block(browser: Browser) -> None:
    response = browser.get("/lv/services?q=pase", **{"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="results"')
    assert "<html" not in html
    assert re.search(r"Atrast[si] \d+ pakalpojum", html)
    assert "HX-Request" in response.headers["Vary"]
    messy = browser.get("/lv/services?q=pase&audience=&level=&institution=&life_event=", **{"HX-Request": "true"})
    assert messy.headers["HX-Push-Url"] == "/lv/services?q=pase"


def test_catalogue_form_works_without_javascript(browser: Browser) -> None:
    html = browser.page("/lv/services")
    assert re.search(r'<form class="catalogue-form" role="search" method="get" action="/lv/services"', html)
    assert 'hx-push-url="true"' in html


def test_healthz_answers_on_any_host(browser: Browser) -> None:
    assert browser.get("/healthz", "10.0.0.1").get_json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("point", "shown", "hidden"),
    [
        ("riga", "pii-rinda-riga", "pii-rinda-valmiera"),
        ("valmiera", "pii-rinda-valmiera", "pii-rinda-riga"),
        ("viss", "adresu-registra-datu-pakalpe", "pii-rinda-riga"),
        ("latvija", "dzivesvietas-deklaresana", "pii-rinda-riga"),
    ],
)
def test_home_features_the_points_own_choice(browser: Browser, point: str, shown: str, hidden: str) -> None:
    html = browser.page("/lv/", point)
    assert "Biežāk izmantotie pakalpojumi" in html
    assert f"/lv/services/{shown}" in html and f"/lv/services/{hidden}" not in html


def test_dates_are_written_the_way_each_language_writes_them(browser: Browser) -> None:
    assert "Informācija atjaunota: 2026. gada 1. novembris." in browser.page("/lv/services/pases-izsniegsana")
    assert "Information updated on November 1, 2026." in browser.page("/en/services/pases-izsniegsana", lang="en")


def test_a_point_overrides_a_template_through_the_loader_chain(browser: Browser) -> None:
    viss = browser.page("/lv/", "viss")
    assert "Reģistra API apraksts (OpenAPI)" in viss and "/api/v1/openapi.json" in viss
    for point in ("latvija", "riga", "valmiera"):
        assert "Reģistra API apraksts" not in browser.page("/lv/", point)


def test_languages_are_named_in_the_page_language(browser: Browser) -> None:
    assert "latviešu, angļu" in browser.page("/lv/services/dzivesvietas-deklaresana")
    assert "Latvian, English" in browser.page("/en/services/dzivesvietas-deklaresana", lang="en")
