"""Every route of the portal, walked from `app.url_map`: who may use it, its headers and framing, CSRF, no traces.

QUALITY.md, Security: "Every route declares who may use it" [8.2.1], "CSP on every response" [3.4.3], "frame-ancestors
'none' by default; only embed routes ..." [3.4.6], "nosniff, Referrer-Policy, HSTS in production, Cache-Control:
no-store on authenticated pages; no CORS headers on the portal" [3.4.x, 14.3.2], "CSRF token on every state-changing
request, htmx included; no state change on GET" [3.5.1], "No stack traces, SQL, or secrets in responses" [16.5.1] and
the htmx configuration [3.2.2, 14.3.3]. A route added later is covered without touching these tests, unless one of
its URL variables is new: then the test names it, and it gets a typical value in TYPICAL below.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from app.access import PUBLIC, SIGNED_IN, STAFF
from app.security import frame_ancestors
from tests.fixtures.portal import POINT_HOSTS, make_portal
from tests.fixtures.registry_server import RegistryProcess

pytestmark = pytest.mark.integration

LIGA = "liga-berzina"  # a resident (app/auth/demo_people.toml)
ILZE = "ilze-krumina"  # a Rīga municipality case worker
# A typical value for each URL variable: real where the seed has one, otherwise a well-formed id that does not exist.
TYPICAL = {
    "lang": "lv",
    "service_id": "dzivesvietas-deklaresana",
    "institution_id": "pmlp",
    "application_id": "0" * 32,
    "draft_id": "0" * 32,
    "page_id": "personal",
    "file_id": "0" * 32,
    "message_id": "0" * 32,
    "payment_id": "0" * 32,
    "case_id": "0" * 32,
    "request_id": "0" * 32,
    "code": "ABCD-EFGH-JKMN-PQRS",
    "filename": "css/portal.css",
}
# Path segments a person (or a scanner) may type or tamper with: none may bring a server error or a trace.
HOSTILE_SEGMENTS = [
    "'",
    '"><svg onload=alert(1)>',
    "{{7*7}}",
    "..%2F..%2Fetc%2Fpasswd",
    "%00",
    "%ff%fe",
    "a" * 3000,
    "%E2%80%AE",  # U+202E
    "1 OR 1=1",
    "0" * 31 + "Z",
    "ā",
]
HOSTILE_QUERY = "page=-1&per_page=99999999&q=%00%27%22%3Csvg%3E&lang=xx&next=//evil.example/&status=%0d%0aX:1"
TRACES = ("Traceback", 'File "', "sqlalchemy", "OperationalError", "werkzeug.exceptions", "jinja2.exceptions")
# Endpoints that change something: each takes POST only, so a link, an image or a prefetch cannot do it.
STATE_CHANGING = {
    "applications.answer_information",
    "applications.live",
    "applications.withdraw",
    "auth.extend_session",
    "auth.sign_in_submit",
    "auth.sign_out",
    "messages.mark_read",
    "payments.pay",
    "staff.assign",
    "staff.claim",
    "staff.release",
}


@pytest.fixture(scope="module")
def portal(applications_registry: RegistryProcess) -> Flask:
    """The portal over a registry that trusts its identities, with rate limits off (every route, many times)."""
    return make_portal(applications_registry.url, RATELIMIT_ENABLED=False)


def routes(app: Flask) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)


def url_of(rule: Rule, **values: str) -> str:
    """The rule's path with a typical value in each variable (or the given ones)."""

    def value(match: re.Match[str]) -> str:
        name = match[1]
        assert name in TYPICAL, f"{rule.rule}: give <{name}> a typical value in TYPICAL"
        return values.get(name, TYPICAL[name])

    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", value, rule.rule)


def access_of(app: Flask, rule: Rule) -> str | None:
    return getattr(app.view_functions[rule.endpoint], "access", None)


def methods(rule: Rule) -> set[str]:
    return set(rule.methods or ()) - {"HEAD", "OPTIONS"}


def client_of(app: Flask, point: str, person: str | None) -> FlaskClient:
    """A client on `point`, signed in there as `person` (a demo person's id) unless None."""
    client = app.test_client()
    if person is not None:
        host = {"Host": POINT_HOSTS[point]}
        html = client.get("/lv/sign-in", headers=host).get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert token, "no CSRF token on the sign-in page"
        signed = client.post("/lv/sign-in", data={"csrf_token": token[1], "person": person}, headers=host)
        assert signed.status_code == 303, signed.status_code
    return client


def csrf_token_of(client: FlaskClient, point: str, *, signed_in: bool) -> str:
    """The CSRF token of the client's session, as a page gives it to its forms (the sign-out form when signed in)."""
    path = "/lv/services" if signed_in else "/lv/sign-in"
    html = client.get(path, headers={"Host": POINT_HOSTS[point]}).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token, "no CSRF token in the page"
    return token[1]


def heading(response: TestResponse) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", response.get_data(as_text=True), re.S)
    return found[1].strip() if found else response.get_data(as_text=True)[:200]


def actor_for(access: str | None) -> str | None:
    return {SIGNED_IN: LIGA, STAFF: ILZE}.get(access or "")


# --- every route declares who may use it -----------------------------------------------------------------------


def test_every_route_declares_who_may_use_it(portal: Flask) -> None:
    """`@public`, `@signed_in` (or `@signed_in_api`) or `@staff` on every view; static files are public by nature."""
    undeclared = [
        f"{rule.rule} ({rule.endpoint})"
        for rule in routes(portal)
        if rule.endpoint != "static" and access_of(portal, rule) not in (PUBLIC, SIGNED_IN, STAFF)
    ]
    assert undeclared == [], "declare who may use these routes (app/access.py)"
    # Flask's own static route serves the files of app/static (CSS, scripts), nothing else.
    static = [rule.rule for rule in routes(portal) if rule.endpoint == "static"]
    assert static == ["/static/<path:filename>"] and str(portal.static_folder).endswith("app/static")


def test_a_view_without_a_declaration_is_caught(applications_registry: RegistryProcess) -> None:
    """The walk above really fails on a route that forgets its declaration."""
    app = make_portal(applications_registry.url)
    app.add_url_rule("/<lang>/forgotten", "forgotten", lambda lang: "x")
    assert access_of(app, next(r for r in app.url_map.iter_rules() if r.endpoint == "forgotten")) is None


@pytest.mark.parametrize("point", ["latvija", "riga"])
def test_declarations_are_enforced_for_anonymous_visitors(portal: Flask, point: str) -> None:
    """Anonymous: a page for signed-in people or staff sends to sign-in (or 401 for JSON), never answers itself."""
    client = client_of(portal, point, None)
    host = {"Host": POINT_HOSTS[point]}
    problems = []
    for rule in routes(portal):
        access = access_of(portal, rule)
        if access not in (SIGNED_IN, STAFF) or "GET" not in methods(rule):
            continue
        response = client.get(url_of(rule), headers=host)
        location = response.headers.get("Location", "")
        to_sign_in = response.status_code in (302, 303) and "/sign-in" in location
        if not (to_sign_in or response.status_code == 401):
            problems.append((rule.rule, response.status_code, location))
        htmx = client.get(url_of(rule), headers={**host, "HX-Request": "true"})
        if not (
            htmx.status_code in (204, 401) and (htmx.status_code == 401 or "/sign-in" in htmx.headers["HX-Redirect"])
        ):
            problems.append((rule.rule, "htmx", htmx.status_code))
    assert problems == []


def test_staff_routes_refuse_residents_and_applicant_routes_refuse_employees(portal: Flask) -> None:
    resident, employee = client_of(portal, "latvija", LIGA), client_of(portal, "latvija", ILZE)
    host = {"Host": POINT_HOSTS["latvija"]}
    problems = []
    for rule in routes(portal):
        access = access_of(portal, rule)
        if "GET" not in methods(rule) or access not in (SIGNED_IN, STAFF):
            continue
        if access == STAFF:
            status = resident.get(url_of(rule), headers=host).status_code
            if status != 403:
                problems.append((rule.rule, "resident", status))
        elif rule.endpoint not in ("auth.session_status",):  # the session's own time left: anyone signed in
            response = employee.get(url_of(rule), headers=host)
            # An employee never applies: the 403 page, or from "My applications" on to the work queue.
            to_queue = response.status_code in (302, 303) and "/staff/" in response.headers.get("Location", "")
            if response.status_code != 403 and not to_queue:
                problems.append((rule.rule, "employee", response.status_code))
    assert problems == []


# --- headers, CSP and framing on every route and every delivery point ------------------------------------------


def header_problems(app: Flask, rule: Rule, response: TestResponse) -> list[str]:
    """What is wrong with the security headers of `response` to `rule`."""
    problems = []
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    if "sandbox" in csp:  # a person's file: nothing in it runs, and it is never framed
        if "frame-ancestors 'none'" not in csp:
            problems.append("a download may be framed")
    else:
        for directive in ("default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'"):
            if directive not in csp:
                problems.append(f"CSP without {directive}")
        if not re.search(r"form-action 'self'( https://[^;]+)?(;|$)", csp):
            problems.append("CSP form-action is not 'self' (+ the identity provider)")
        if "unsafe-inline" in csp or "unsafe-eval" in csp:
            problems.append("CSP allows inline or eval")
    view = app.view_functions[rule.endpoint]
    frameable = getattr(view, "frameable", False) and getattr(view, "access", None) != STAFF
    ancestors = re.search(r"frame-ancestors ([^;]+)", csp)
    if not frameable:
        if ancestors is None or ancestors[1] != "'none'" or headers.get("X-Frame-Options") != "DENY":
            problems.append(f"frameable: {ancestors[1] if ancestors else None}, {headers.get('X-Frame-Options')}")
    elif ancestors is None or not ancestors[1].startswith("'self'") or "X-Frame-Options" in headers:
        problems.append(f"embed route framing: {ancestors[1] if ancestors else None}")
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no nosniff")
    if rule.endpoint != "static" and headers.get("Referrer-Policy") != "strict-origin-when-cross-origin":
        problems.append(f"Referrer-Policy {headers.get('Referrer-Policy')}")
    if any(name.lower().startswith("access-control-") for name, _ in headers.items()):
        problems.append("CORS headers")
    if getattr(view, "access", None) in (SIGNED_IN, STAFF) and headers.get("Cache-Control") != "no-store":
        problems.append(f"Cache-Control {headers.get('Cache-Control')}")
    if "Strict-Transport-Security" in headers:
        problems.append("HSTS over plain http (tests run without SESSION_COOKIE_SECURE)")
    return [f"{rule.rule} {response.status_code}: {problem}" for problem in problems]


@pytest.mark.parametrize("point", list(POINT_HOSTS))
def test_every_route_has_the_security_headers_on_every_point(portal: Flask, point: str) -> None:
    """GET of every route with typical values, as the visitor it is meant for and as an anonymous one."""
    host = {"Host": POINT_HOSTS[point]}
    anonymous = client_of(portal, point, None)
    signed = {LIGA: client_of(portal, point, LIGA), ILZE: client_of(portal, point, ILZE)}
    problems: list[str] = []
    checked = 0
    for rule in routes(portal):
        for client in {anonymous, signed.get(actor_for(access_of(portal, rule)) or "", anonymous)}:
            if "GET" in methods(rule):
                problems += header_problems(portal, rule, client.get(url_of(rule), headers=host))
                checked += 1
            if "POST" in methods(rule):  # refused (no CSRF token) or answered: the headers are the same
                problems += header_problems(portal, rule, client.post(url_of(rule), headers=host))
                checked += 1
    assert problems == []
    assert checked >= len(list(portal.url_map.iter_rules()))


def test_embed_routes_are_the_only_frameable_pages_and_staff_never_are(portal: Flask) -> None:
    frameable = sorted(
        rule.rule for rule in routes(portal) if getattr(portal.view_functions[rule.endpoint], "frameable", False)
    )
    assert frameable == ["/<lang>/embed/services", "/<lang>/embed/services/<service_id>", "/theme/tokens.css"]
    assert not [r for r in frameable if access_of(portal, next(x for x in routes(portal) if x.rule == r)) != PUBLIC]
    # A staff page that someone marked frameable by mistake is still never framed (app.security).
    staff_view = next(portal.view_functions[r.endpoint] for r in routes(portal) if access_of(portal, r) == STAFF)
    staff_view.frameable = True
    try:
        with portal.test_request_context("/lv/staff/", headers={"Host": "riga.localhost"}):
            from flask import request

            request.url_rule = next(r for r in routes(portal) if r.endpoint == "staff.queue")
            assert frame_ancestors() == "'none'"
    finally:
        del staff_view.frameable


def test_hsts_only_where_cookies_are_secure(applications_registry: RegistryProcess) -> None:
    """Production (SESSION_COOKIE_SECURE) sends HSTS for two years; development over plain http does not."""
    secure = make_portal(applications_registry.url, SESSION_COOKIE_SECURE=True, RATELIMIT_ENABLED=False)
    response = secure.test_client().get("/lv/", headers={"Host": "localhost"}, base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
    plain = make_portal(applications_registry.url, RATELIMIT_ENABLED=False)
    assert "Strict-Transport-Security" not in plain.test_client().get("/lv/", headers={"Host": "localhost"}).headers


@pytest.mark.parametrize("path", ["/lv/services", "/lv/my/applications", "/lv/staff/", "/auth/session"])
def test_no_cors_even_when_a_browser_asks(portal: Flask, path: str) -> None:
    client = client_of(portal, "latvija", LIGA)
    origin = {"Host": "localhost", "Origin": "https://evil.example"}
    preflight = client.options(path, headers={**origin, "Access-Control-Request-Method": "POST"})
    plain = client.get(path, headers=origin)
    for response in (preflight, plain):
        assert not [h for h, _ in response.headers.items() if h.lower().startswith("access-control-")], path


# --- CSRF on every state-changing request, htmx included; no state change on GET --------------------------------


def post_routes(app: Flask) -> Iterator[Rule]:
    return (rule for rule in routes(app) if "POST" in methods(rule))


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_every_post_without_a_csrf_token_is_refused(portal: Flask, htmx: bool) -> None:
    """As the person each route is for (so the check, not the sign-in redirect, answers): 400, nothing done."""
    clients = {None: client_of(portal, "latvija", None), LIGA: client_of(portal, "latvija", LIGA)}
    clients[ILZE] = client_of(portal, "latvija", ILZE)
    headers = {"Host": "localhost", **({"HX-Request": "true"} if htmx else {})}
    problems = []
    for rule in post_routes(portal):
        client = clients[actor_for(access_of(portal, rule))]
        for data in ({}, {"csrf_token": "forged"}):
            response = client.post(url_of(rule), data=data, headers=headers)
            if response.status_code != 400:
                problems.append((rule.rule, data, response.status_code))
    assert problems == []
    assert len(list(post_routes(portal))) >= 15


def test_every_post_with_the_token_in_the_htmx_header_passes_the_check(portal: Flask) -> None:
    """A token in the X-CSRFToken header (how scripts post: session-timeout.js) is taken like the form field."""
    clients = {None: client_of(portal, "latvija", None), LIGA: client_of(portal, "latvija", LIGA)}
    clients[ILZE] = client_of(portal, "latvija", ILZE)
    problems = []
    for rule in post_routes(portal):
        actor = actor_for(access_of(portal, rule))
        client = clients[actor]
        token = csrf_token_of(client, "latvija", signed_in=actor is not None)
        headers = {"Host": "localhost", "HX-Request": "true"}
        refused = client.post(url_of(rule), headers=headers)
        response = client.post(url_of(rule), headers={**headers, "X-CSRFToken": token})
        # Past the check, a view answers 2xx/3xx, 404 for ids that do not exist, 409/422 (or its own 400 page) for
        # an empty form: anything but the page of a refused token.
        if response.status_code >= 500 or (
            response.status_code == 400 and heading(response) == heading(refused) and refused.status_code == 400
        ):
            problems.append((rule.rule, response.status_code))
    assert problems == []


def test_nothing_that_changes_state_answers_a_get(portal: Flask) -> None:
    by_endpoint: dict[str, set[str]] = {}
    for rule in routes(portal):
        by_endpoint.setdefault(rule.endpoint, set()).update(methods(rule))
    missing = STATE_CHANGING - set(by_endpoint)
    assert missing == set(), f"renamed? {missing}"
    assert {e: m for e, m in by_endpoint.items() if e in STATE_CHANGING and m != {"POST"}} == {}


# --- no stack traces, SQL or secrets -------------------------------------------------------------------------------


@pytest.mark.parametrize("segment", HOSTILE_SEGMENTS)
def test_hostile_path_segments_never_bring_a_server_error_or_a_trace(portal: Flask, segment: str) -> None:
    clients = {None: client_of(portal, "riga", None), LIGA: client_of(portal, "riga", LIGA)}
    clients[ILZE] = client_of(portal, "riga", ILZE)
    host = {"Host": POINT_HOSTS["riga"]}
    problems = []
    for rule in routes(portal):
        names = [n for n in re.findall(r"<(?:[^:>]+:)?([^>]+)>", rule.rule) if n != "lang"]
        if not names or "GET" not in methods(rule):
            continue
        client = clients[actor_for(access_of(portal, rule))]
        for name in names:
            response = client.get(f"{url_of(rule, **{name: segment})}?{HOSTILE_QUERY}", headers=host)
            body = response.get_data(as_text=True)
            if response.status_code >= 500 or any(trace in body for trace in TRACES):
                problems.append((rule.rule, name, response.status_code))
            if segment == "{{7*7}}" and re.search(r"\b49\b", body) and "{{7*7}}" not in body:
                problems.append((rule.rule, name, "evaluated as a template?"))
    assert problems == []


def test_an_unexpected_error_is_the_themed_500_page_without_details(
    applications_registry: RegistryProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_portal(applications_registry.url, RATELIMIT_ENABLED=False, PROPAGATE_EXCEPTIONS=False)
    secret = "SELECT * FROM secrets WHERE key = 'hunter2'"

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(secret)

    client = app.extensions["registry_client"]
    name = next(n for n in ("list_services", "find_services", "services") if hasattr(client, n))
    monkeypatch.setattr(client, name, broken)
    response = app.test_client().get("/lv/services", headers={"Host": "riga.localhost"})
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "hunter2" not in body and "SELECT" not in body and "Traceback" not in body and "RuntimeError" not in body
    assert '<html lang="lv">' in body and "Content-Security-Policy" in response.headers
    assert not app.debug


# --- htmx configuration ----------------------------------------------------------------------------------------

PAGES = {
    None: ["/lv/", "/lv/services", "/lv/services/dzivesvietas-deklaresana", "/lv/embed/services", "/lv/sign-in"],
    LIGA: ["/lv/services", "/lv/my/applications", "/lv/my/messages"],
    ILZE: ["/lv/staff/", "/lv/staff/requests", "/lv/services"],
}


@pytest.mark.parametrize("person", list(PAGES), ids=["anonymous", "resident", "employee"])
def test_htmx_is_configured_safely_on_every_page(portal: Flask, person: str | None) -> None:
    client = client_of(portal, "valmiera", person)
    for path in PAGES[person]:
        html = client.get(path, headers={"Host": POINT_HOSTS["valmiera"]}).get_data(as_text=True)
        config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', html)
        assert config, path
        assert '"allowEval": false' in config[1] and '"selfRequestsOnly": true' in config[1], path
        assert '"includeIndicatorStyles": false' in config[1], path  # the styles are in portal.css (no inline style)
        # With someone signed in, htmx keeps no copy of any page in localStorage (their name, CSRF token, data).
        assert ('hx-history="false"' in html) == (person is not None), path


def test_htmx_request_styles_are_in_the_stylesheet(portal: Flask) -> None:
    """includeIndicatorStyles is off (htmx would add an inline <style>, which the CSP refuses): portal.css has them."""
    css = portal.test_client().get("/static/css/portal.css").get_data(as_text=True)
    assert ".htmx-request" in css
