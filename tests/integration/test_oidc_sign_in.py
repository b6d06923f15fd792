"""Signing in with OpenID Connect against a real OpenID provider (npm oidc-provider, tests/oidc_provider/).

The portal is the Flask test client (so a test can tamper with what the token endpoint answers); everything between
the portal and the provider, and between the person and the provider, is real HTTP. One test runs the whole flow
against a live gunicorn portal with nothing but a requests.Session following redirects.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from joserfc.errors import ExpiredTokenError, InvalidClaimError
from werkzeug.test import TestResponse

from app import create_app
from app.auth import provider as current_provider
from app.auth.oidc import DEFAULT_CLAIMS, PENDING_KEY, OidcProvider, identity_from_id_token
from app.auth.providers import DemoProvider, configured_provider
from app.auth.session import SESSION_KEY
from identity import InvalidIdentity
from registry.config import TestConfig as RegistryTestConfig
from tests.fixtures.html_checks import page_problems
from tests.fixtures.oidc_provider import (
    ACCOUNTS,
    CLIENT_ID,
    CLIENT_SECRET,
    OTHER_CLIENT_ID,
    OTHER_CLIENT_SECRET,
    OidcTestProvider,
    ProviderUser,
)
from tests.fixtures.portal import make_portal
from tests.fixtures.registry_server import ROOT, RegistryProcess, free_port, stop_process, wait_until_healthy

pytestmark = pytest.mark.integration

HOST = {"Host": "localhost"}
HIGH = "http://eidas.europa.eu/LoA/high"
SUBSTANTIAL = "http://eidas.europa.eu/LoA/substantial"
FAILED_EN = "We could not confirm who you are"


@pytest.fixture(scope="module")
def oidc_portal(applications_registry: RegistryProcess, oidc_provider: OidcTestProvider) -> Flask:
    """A portal signing people in with the test provider, over a registry that trusts its identities."""
    return make_portal(applications_registry.url, **oidc_provider.portal_settings())


@dataclass
class Person:
    """Someone with a browser: the portal through the test client, the provider through real HTTP."""

    client: FlaskClient
    at_provider: ProviderUser
    callbacks: list[str] = field(default_factory=list)

    def start(self, lang: str = "lv", **query: str) -> TestResponse:
        """Open the sign-in address of the portal; it redirects to the provider."""
        suffix = f"?{urlencode(query)}" if query else ""
        return self.client.get(f"/{lang}/sign-in{suffix}", headers=HOST)

    def sign_in(
        self, account: str | None, lang: str = "lv", *, cancel: bool = False, with_acr: str | None = None, **query: str
    ) -> TestResponse:
        """Sign in as `account` at the provider (or cancel there) and come back to the portal's callback."""
        started = self.start(lang, **query)
        assert started.status_code == 302, started.get_data(as_text=True)[:500]
        callback = self.at_provider.log_in(started.headers["Location"], account, cancel=cancel, acr=with_acr)
        self.callbacks.append(callback)
        return self.back(callback)

    def back(self, callback: str) -> TestResponse:
        """Arrive at the portal's callback address (as the provider's redirect would)."""
        parts = urlsplit(callback)
        assert parts.netloc == "localhost", callback
        return self.client.get(f"{parts.path}?{parts.query}", headers=HOST)

    def user(self) -> dict[str, Any] | None:
        with self.client.session_transaction() as session:
            found = session.get(SESSION_KEY)
            return dict(found) if found is not None else None


@pytest.fixture
def person(oidc_portal: Flask, oidc_provider: OidcTestProvider) -> Person:
    # No `with`: a kept request context would share `g` (the signed-in person) with a second client in the test.
    return Person(oidc_portal.test_client(), ProviderUser(oidc_provider.issuer))


def assert_failure_page(response: TestResponse, status: int, text: str, lang: str = "en") -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == status, html[:500]
    assert text in html, html
    assert page_problems(html, lang=lang) == []
    assert response.headers["Cache-Control"] == "no-store"


# --- the authorization request -----------------------------------------------------------------------------------


def test_sign_in_redirects_to_the_provider_with_pkce_state_nonce_and_acr(person: Person) -> None:
    response = person.start("en", next="/en/services")
    assert response.status_code == 302 and response.headers["Cache-Control"] == "no-store"
    url = urlsplit(response.headers["Location"])
    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}".startswith(person.at_provider.issuer)
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == "http://localhost/en/sign-in/callback"
    assert query["scope"].split() == ["openid", "profile", "lv_identity"]
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["acr_values"] == SUBSTANTIAL and query["ui_locales"] == "en" and "prompt" not in query
    with person.client.session_transaction() as session:
        pending = session[PENDING_KEY][query["state"]]
    assert pending["nonce"] == query["nonce"] and pending["acr"] == "substantial" and pending["next"] == "/en/services"
    assert len(pending["verifier"]) == 64  # the code_challenge is its S256 hash; the verifier never left the portal
    assert len({query["state"], query["nonce"], pending["verifier"]}) == 3


def test_forms_may_lead_to_the_provider_and_nowhere_else(person: Person) -> None:
    """A form posted after the session ended goes to sign-in and on to the provider: CSP form-action allows it."""
    policy = person.client.get("/lv/", headers=HOST).headers["Content-Security-Policy"]
    issuer = urlsplit(person.at_provider.issuer)
    assert f"form-action 'self' {issuer.scheme}://{issuer.netloc};" in policy


def test_a_page_may_ask_for_a_higher_level_which_means_a_fresh_login(person: Person) -> None:
    query = parse_qs(urlsplit(person.start(acr="high").headers["Location"]).query)
    assert query["acr_values"] == [HIGH] and query["prompt"] == ["login"]
    query = parse_qs(urlsplit(person.start(acr="nonsense").headers["Location"]).query)
    assert query["acr_values"] == [SUBSTANTIAL]  # an unknown level changes nothing


def test_only_the_newest_sign_ins_wait_in_the_session(person: Person) -> None:
    states = [parse_qs(urlsplit(person.start().headers["Location"]).query)["state"][0] for _ in range(5)]
    with person.client.session_transaction() as session:
        assert set(session[PENDING_KEY]) == set(states[-3:])


# --- residents, representatives, employees ---------------------------------------------------------------------


def test_a_resident_with_an_old_format_code_signs_in_and_lands_on_next(person: Person) -> None:
    response = person.sign_in("liga", next="/lv/services?q=pase")
    assert response.status_code == 303 and response.headers["Location"] == "/lv/services?q=pase"
    user = person.user()
    assert user is not None
    assert {k: user[k] for k in ("sub", "name", "kind", "acr")} == {
        "sub": "161175-19997",
        "name": "Līga Bērziņa",
        "kind": "person",
        "acr": "high",
    }
    with person.client.session_transaction() as session:
        assert PENDING_KEY not in session  # signing in started a new session
    page = person.client.get("/lv/my/applications", headers=HOST)
    assert page.status_code == 200 and "Līga Bērziņa" in page.get_data(as_text=True)


def test_a_resident_with_a_new_format_code_and_given_and_family_names(person: Person) -> None:
    response = person.sign_in("girts", "en")
    assert response.status_code == 303 and response.headers["Location"] == "/en/my/applications"
    user = person.user()
    assert user is not None and user["sub"] == "324817-60532" and user["name"] == "Ģirts Kalniņš"


def test_an_internet_bank_sign_in_is_enough_where_nothing_more_is_asked(person: Person) -> None:
    assert person.sign_in("janis").status_code == 303
    user = person.user()
    assert user is not None and user["acr"] == "substantial" and user["sub"] == "180565-05610"


def test_a_company_representative_acts_for_the_company(person: Person) -> None:
    response = person.sign_in("elina", "en", next="/en/")
    assert response.status_code == 303 and response.headers["Location"] == "/en/"
    user = person.user()
    assert user is not None
    assert (user["kind"], user["company"], user["company_name"]) == (
        "company_representative",
        "40003032065",
        "SIA „Ozolkalni”",
    )
    html = person.client.get("/en/", headers=HOST).get_data(as_text=True)
    assert "Elīna Žagare" in html and "on behalf of SIA „Ozolkalni”" in html


def test_an_employee_lands_in_the_work_queue_with_institution_and_roles(person: Person) -> None:
    response = person.sign_in("martins")
    assert response.status_code == 303 and response.headers["Location"] == "/lv/my/applications"
    landing = person.client.get("/lv/my/applications", headers=HOST)
    assert landing.status_code == 302 and landing.headers["Location"] == "/lv/staff/"  # for employees: the queue
    user = person.user()
    assert user is not None
    assert (user["kind"], user["institution"], user["roles"]) == ("employee", "vsaa", ["case_worker", "decision_maker"])
    assert person.client.get("/lv/staff/", headers=HOST).status_code == 200


# --- level of assurance ------------------------------------------------------------------------------------------


def test_a_lower_acr_than_the_page_asked_for_is_refused(person: Person) -> None:
    response = person.sign_in("janis", "en", acr="high", next="/en/services")
    assert_failure_page(response, 403, "A stronger way of signing in is needed")
    assert 'href="/en/sign-in?next=/en/services&amp;acr=high"' in response.get_data(as_text=True)
    assert person.user() is None


def test_an_employee_signed_in_with_an_internet_bank_is_refused(person: Person) -> None:
    assert_failure_page(person.sign_in("anna", "en"), 403, "eID card or eParaksts")
    assert person.user() is None


def test_a_portal_that_needs_high_everywhere_refuses_substantial(
    applications_registry: RegistryProcess, oidc_provider: OidcTestProvider
) -> None:
    app = make_portal(applications_registry.url, **oidc_provider.portal_settings(OIDC_MIN_ACR="high"))
    with app.test_client() as client:
        person = Person(client, ProviderUser(oidc_provider.issuer))
        assert parse_qs(urlsplit(person.start().headers["Location"]).query)["acr_values"] == [HIGH]
        refused = person.sign_in("janis")
        assert refused.status_code == 403 and 'href="/lv/sign-in?acr=high"' in refused.get_data(as_text=True)
        # Trying again logs in afresh at the provider (prompt=login), where the provider's session was the weak one:
        # Jānis takes his eID card this time.
        assert person.sign_in("janis", acr="high", with_acr=HIGH).status_code == 303
        assert person.user()["acr"] == "high"  # type: ignore[index]
        # Someone else at the same browser: the provider ends Jānis's session first.
        assert person.sign_in("liga", acr="high").status_code == 303
        assert person.user()["sub"] == "161175-19997"  # type: ignore[index]


# --- refused answers ---------------------------------------------------------------------------------------------


def test_a_replayed_callback_is_refused(person: Person, oidc_portal: Flask) -> None:
    assert person.sign_in("liga", "en").status_code == 303
    replay = person.back(person.callbacks[-1])
    assert_failure_page(replay, 400, FAILED_EN)
    assert person.user()["sub"] == "161175-19997"  # type: ignore[index]  # still the first sign-in, nothing new
    # The same address in another browser (copied from a log or a history) gets nobody either.
    other = oidc_portal.test_client()
    parts = urlsplit(person.callbacks[-1])
    assert other.get(f"{parts.path}?{parts.query}", headers=HOST).status_code == 400
    with other.session_transaction() as session:
        assert SESSION_KEY not in session


def test_a_callback_after_a_refusal_cannot_be_retried(person: Person, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(OidcProvider, "verify_id_token", _raise(InvalidClaimError("nonce")))
    assert person.sign_in("liga", "en").status_code == 400
    monkeypatch.undo()
    assert_failure_page(person.back(person.callbacks[-1]), 400, FAILED_EN)  # the state was used up
    assert person.user() is None


def test_a_code_someone_else_redeemed_first_is_refused(person: Person, oidc_provider: OidcTestProvider) -> None:
    started = person.start("en")
    callback = person.at_provider.log_in(started.headers["Location"], "liga")
    code = parse_qs(urlsplit(callback).query)["code"][0]
    with person.client.session_transaction() as session:
        (pending,) = session[PENDING_KEY].values()
    # An intercepted code, redeemed with the verifier and the client's secret before the browser arrives.
    metadata = requests.get(f"{oidc_provider.issuer}/.well-known/openid-configuration", timeout=5).json()
    stolen = requests.post(
        metadata["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": pending["redirect_uri"],
            "code_verifier": pending["verifier"],
        },
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=5,
    )
    assert stolen.status_code == 200 and "id_token" in stolen.json()
    # The provider refuses the code a second time (invalid_grant): the portal says so, and nobody is signed in.
    assert_failure_page(person.back(callback), 400, FAILED_EN)
    assert person.user() is None


def test_a_wrong_or_missing_state_is_refused(person: Person) -> None:
    started = person.start("en")
    callback = person.at_provider.log_in(started.headers["Location"], "liga")
    query = parse_qs(urlsplit(callback).query)
    wrong = {**{k: v[0] for k, v in query.items()}, "state": "x" + query["state"][0]}
    assert_failure_page(person.back(f"http://localhost/en/sign-in/callback?{urlencode(wrong)}"), 400, FAILED_EN)
    del wrong["state"]
    assert_failure_page(person.back(f"http://localhost/en/sign-in/callback?{urlencode(wrong)}"), 400, FAILED_EN)
    assert person.user() is None
    # The right state still works once: the wrong ones did not use it up.
    assert person.back(callback).status_code == 303


def test_an_authorization_response_naming_another_issuer_is_refused(person: Person) -> None:
    started = person.start("en")
    callback = person.at_provider.log_in(started.headers["Location"], "liga")
    query = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    mixed_up = {**query, "iss": "https://evil.example"}
    assert_failure_page(person.back(f"http://localhost/en/sign-in/callback?{urlencode(mixed_up)}"), 400, FAILED_EN)
    assert person.user() is None


def _raise(exc: Exception) -> Any:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return fail


def _tamper_token_response(monkeypatch: pytest.MonkeyPatch, change: Any) -> None:
    """Make the portal see the token endpoint's real answer with its id_token changed by `change`."""
    from authlib.integrations.requests_client import OAuth2Session

    original = OAuth2Session.fetch_token

    def fetch_token(self: OAuth2Session, *args: Any, **kwargs: Any) -> Any:
        token = original(self, *args, **kwargs)
        token["id_token"] = change(token["id_token"])
        return token

    monkeypatch.setattr(OAuth2Session, "fetch_token", fetch_token)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_an_id_token_with_a_changed_signature_is_refused(person: Person, monkeypatch: pytest.MonkeyPatch) -> None:
    def flip_signature(id_token: str) -> str:
        header, payload, signature = id_token.split(".")
        raw = bytearray(_unb64(signature))
        raw[10] ^= 0x01
        return f"{header}.{payload}.{_b64(bytes(raw))}"

    _tamper_token_response(monkeypatch, flip_signature)
    assert_failure_page(person.sign_in("liga", "en"), 400, FAILED_EN)
    assert person.user() is None


def test_an_id_token_with_changed_claims_is_refused(person: Person, monkeypatch: pytest.MonkeyPatch) -> None:
    def become_someone_else(id_token: str) -> str:
        header, payload, signature = id_token.split(".")
        claims = {**json.loads(_unb64(payload)), "personal_code": "180565-05610", "name": "Jānis Ozoliņš"}
        return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"

    _tamper_token_response(monkeypatch, become_someone_else)
    assert_failure_page(person.sign_in("liga", "en"), 400, FAILED_EN)
    assert person.user() is None


def test_an_unsigned_id_token_is_refused(person: Person, monkeypatch: pytest.MonkeyPatch) -> None:
    def unsigned(id_token: str) -> str:
        _, payload, _ = id_token.split(".")
        return f"{_b64(json.dumps({'alg': 'none'}).encode())}.{payload}."

    _tamper_token_response(monkeypatch, unsigned)
    assert_failure_page(person.sign_in("liga", "en"), 400, FAILED_EN)


def test_an_id_token_issued_to_another_client_is_refused(
    person: Person, oidc_provider: OidcTestProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The provider, for the other relying party: a genuine, signed token that is not meant for this portal.
    nonce = "nonce-of-the-other-portal"
    foreign = oidc_provider.id_token_for(
        "liga", client_id=OTHER_CLIENT_ID, client_secret=OTHER_CLIENT_SECRET, nonce=nonce
    )
    claims = json.loads(_unb64(foreign["id_token"].split(".")[1]))
    assert claims["aud"] == OTHER_CLIENT_ID and claims["iss"] == oidc_provider.issuer
    portal_side = current_provider_of(person)
    with pytest.raises(InvalidClaimError, match="aud"):
        portal_side.verify_id_token(foreign["id_token"], nonce=nonce)
    # Through the whole flow: the token endpoint's answer swapped for the other client's token.
    _tamper_token_response(monkeypatch, lambda _: foreign["id_token"])
    assert_failure_page(person.sign_in("liga", "en"), 400, FAILED_EN)


def test_an_id_token_of_another_issuer_is_refused_even_with_a_known_key(
    person: Person, oidc_provider: OidcTestProvider, second_issuer: OidcTestProvider
) -> None:
    nonce = "nonce-at-the-second-issuer"
    token = second_issuer.id_token_for("liga", client_id=CLIENT_ID, client_secret=CLIENT_SECRET, nonce=nonce)
    claims = json.loads(_unb64(token["id_token"].split(".")[1]))
    assert claims["iss"] == second_issuer.issuer != oidc_provider.issuer and claims["aud"] == CLIENT_ID
    with pytest.raises(InvalidClaimError, match="iss"):  # the signature checks out: the same key signed it
        current_provider_of(person).verify_id_token(token["id_token"], nonce=nonce)


def test_nonce_and_expiry_are_checked(
    person: Person, oidc_provider: OidcTestProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    from authlib.integrations.requests_client import OAuth2Session

    captured: dict[str, Any] = {}
    original = OAuth2Session.fetch_token

    def fetch_token(self: OAuth2Session, *args: Any, **kwargs: Any) -> Any:
        captured.update(original(self, *args, **kwargs))
        return captured

    monkeypatch.setattr(OAuth2Session, "fetch_token", fetch_token)
    assert person.sign_in("liga").status_code == 303
    id_token = captured["id_token"]
    nonce = json.loads(_unb64(id_token.split(".")[1]))["nonce"]
    verifier = current_provider_of(person)
    assert verifier.verify_id_token(id_token, nonce=nonce)["personal_code"] == "161175-19997"
    with pytest.raises(InvalidClaimError, match="nonce"):
        verifier.verify_id_token(id_token, nonce="another-nonce")
    later = time.time() + 2 * 3600  # the provider's id_tokens last an hour
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(ExpiredTokenError):
        verifier.verify_id_token(id_token, nonce=nonce)


def test_a_key_the_provider_does_not_have_is_refused(person: Person, monkeypatch: pytest.MonkeyPatch) -> None:
    from joserfc import jwt
    from joserfc.jwk import RSAKey

    def resigned(id_token: str) -> str:
        header, payload, _ = id_token.split(".")
        key = RSAKey.generate_key(2048)
        return jwt.encode(json.loads(_unb64(header)), json.loads(_unb64(payload)), key)

    _tamper_token_response(monkeypatch, resigned)
    assert_failure_page(person.sign_in("liga", "en"), 400, FAILED_EN)


def current_provider_of(person: Person) -> OidcProvider:
    found = person.client.application.extensions["sign_in_provider"]
    assert isinstance(found, OidcProvider)
    return found


# --- the provider says no, or is not there -----------------------------------------------------------------------


def test_cancelling_at_the_provider_gets_a_translated_page(person: Person) -> None:
    response = person.sign_in(None, "en", cancel=True, next="/en/services")
    assert "error=access_denied" in person.callbacks[-1]
    assert_failure_page(response, 400, "Signing in was cancelled or refused at the identity provider")
    assert 'href="/en/sign-in?next=/en/services"' in response.get_data(as_text=True)
    assert person.user() is None
    lv = person.sign_in(None, "lv", cancel=True)
    assert lv.status_code == 400 and page_problems(lv.get_data(as_text=True), lang="lv") == []


@pytest.mark.parametrize("error", ["server_error", "temporarily_unavailable", "bad\r\nlog line"])
def test_other_provider_errors_get_a_page_not_a_500(person: Person, error: str) -> None:
    state = parse_qs(urlsplit(person.start("en").headers["Location"]).query)["state"][0]
    response = person.back(f"http://localhost/en/sign-in/callback?{urlencode({'error': error, 'state': state})}")
    assert_failure_page(response, 400, FAILED_EN)


def test_a_person_without_a_latvian_personal_code_is_refused(person: Person) -> None:
    assert_failure_page(person.sign_in("visitor", "en"), 400, FAILED_EN)


def test_the_provider_being_down_gets_a_503_page(applications_registry: RegistryProcess) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    app = make_portal(
        applications_registry.url,
        SIGN_IN="oidc",
        OIDC_ISSUER=closed,
        OIDC_CLIENT_ID=CLIENT_ID,
        OIDC_CLIENT_SECRET="x" * 20,
        OIDC_TIMEOUT=(0.5, 0.5),
    )
    with app.test_client() as client:
        response = client.get("/en/sign-in?next=/en/services", headers=HOST)
        assert_failure_page(response, 503, "The identity provider is not answering")
        assert response.headers["Retry-After"] == "60"


def test_the_discovery_document_is_fetched_once(person: Person) -> None:
    provider = current_provider_of(person)
    person.start()
    fetched_at = provider._metadata_at
    assert person.sign_in("liga").status_code == 303
    assert provider._metadata_at == fetched_at


def test_while_the_provider_is_down_the_discovery_document_of_before_serves(
    person: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = current_provider_of(person)
    before = provider.metadata()
    provider._metadata_at -= 2 * 3600  # an hour and more ago: due again
    monkeypatch.setattr("app.auth.oidc.requests.get", _raise(requests.ConnectionError("down")))
    assert provider.metadata() is before
    assert person.start().status_code == 302


def test_the_demo_form_does_not_exist_with_oidc(person: Person) -> None:
    assert person.client.post("/lv/sign-in", data={"person": "liga-berzina"}, headers=HOST).status_code == 400
    html = person.client.get("/lv/", headers=HOST).get_data(as_text=True)
    assert "Šī ir demonstrācija" not in html


# --- claims and settings -----------------------------------------------------------------------------------------


def test_claim_mapping_is_configurable_and_normalises_codes() -> None:
    by_sub = {**DEFAULT_CLAIMS, "personal_code": "sub"}
    identity = identity_from_id_token({"sub": "PNOLV-161175-19997", "name": "Līga Bērziņa"}, "high", by_sub)
    assert identity.sub == "161175-19997" and identity.kind == "person"
    with pytest.raises(InvalidIdentity):  # a bad check digit
        identity_from_id_token({"personal_code": "16117519996", "name": "X"}, "high")
    with pytest.raises(InvalidIdentity):  # a company and an institution at once
        identity_from_id_token(
            {"personal_code": "161175-19997", "name": "X", "company_registration_number": "40003032065",
             "company_name": "SIA X", "institution": "vsaa", "roles": ["case_worker"]},
            "high",
        )  # fmt: skip
    with pytest.raises(InvalidIdentity):  # an employee without a role of ours
        identity_from_id_token(
            {"personal_code": "161175-19997", "name": "X", "institution": "vsaa", "roles": ["x"]}, "high"
        )
    employee = identity_from_id_token(
        {"personal_code": "161175-19997", "name": "X", "institution": "vsaa", "roles": "decision_maker other"}, "high"
    )
    assert employee.roles == ("decision_maker",)
    with pytest.raises(InvalidIdentity):  # a company name that is not text
        identity_from_id_token(
            {"personal_code": "161175-19997", "name": "X", "company_registration_number": "40003032065",
             "company_name": 7},
            "high",
        )  # fmt: skip
    with pytest.raises(InvalidIdentity):  # the prefix only at the start
        identity_from_id_token({"personal_code": "161175PNOLV-19997", "name": "X"}, "high")


def test_settings_are_checked_when_the_portal_starts(oidc_provider: OidcTestProvider) -> None:
    settings = oidc_provider.portal_settings()
    assert isinstance(configured_provider(settings), OidcProvider)
    assert isinstance(configured_provider({"SIGN_IN": "demo", "DEMO_SIGN_IN": True}), DemoProvider)
    assert configured_provider({"SIGN_IN": "demo", "DEMO_SIGN_IN": False}) is None
    assert configured_provider({"SIGN_IN": ""}) is None
    for broken in (
        {"OIDC_ISSUER": ""},
        {"OIDC_CLIENT_SECRET": ""},
        {"OIDC_MIN_ACR": "low"},
        {"OIDC_SCOPE": "profile"},
        {"OIDC_CLAIMS": "personal_code"},
        {"OIDC_CLAIMS": "nickname=x"},
        {"OIDC_ACR_VALUES": f"high={SUBSTANTIAL}"},
    ):
        with pytest.raises(RuntimeError):
            configured_provider({**settings, **broken})
    with pytest.raises(RuntimeError, match="SIGN_IN"):
        configured_provider({"SIGN_IN": "saml"})
    mapped = configured_provider({**settings, "OIDC_CLAIMS": "personal_code=sub company=org"})
    assert isinstance(mapped, OidcProvider) and mapped.settings.claims["company"] == "org"


def test_production_refuses_demo_sign_in_and_oidc_without_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("REGISTRY_URL", "https://registry.example.lv")
    safe = {"SECRET_KEY": "k" * 40, "IDENTITY_SECRET": "i" * 40, "REGISTRY_CACHE": "memory"}
    oidc = {
        "SIGN_IN": "oidc",
        "OIDC_ISSUER": "https://id.example.lv",
        "OIDC_CLIENT_ID": "portal",
        "OIDC_CLIENT_SECRET": "s" * 32,
    }
    with pytest.raises(RuntimeError, match="SIGN_IN"):
        create_app({**safe, "SIGN_IN": "demo"})
    with pytest.raises(RuntimeError, match="OIDC_ISSUER"):
        create_app({**safe, **oidc, "OIDC_ISSUER": "http://id.example.lv"})
    with pytest.raises(RuntimeError, match="OIDC_CLIENT_SECRET"):
        create_app({**safe, **oidc, "OIDC_CLIENT_SECRET": "short"})
    app = create_app({**safe, **oidc})
    assert "auth.sign_in_callback" in app.view_functions
    with app.test_request_context("/lv/sign-in", headers={"Host": "localhost"}):
        found = current_provider()
        assert isinstance(found, OidcProvider) and found.settings.https_callback


# --- a live portal, a real browser-like client ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def live_oidc_portal(
    applications_registry: RegistryProcess, oidc_provider: OidcTestProvider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The portal on gunicorn, signing in with the test provider, on the port whose callback the provider knows."""
    tmp = tmp_path_factory.mktemp("oidc-live-portal")
    port = oidc_provider.live_port
    env = {
        **os.environ,
        "REGISTRY_URL": applications_registry.url,
        "REGISTRY_CACHE": "memory",
        "REGISTRY_IDENTITY_SECRET": RegistryTestConfig.IDENTITY_SECRET,
        "TEST_THEMES_DIR": str(ROOT / "themes"),
        **{key: str(value) for key, value in oidc_provider.portal_settings().items() if key != "OIDC_TIMEOUT"},
    }
    log_path = tmp / "portal.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "tests.fixtures.portal_wsgi:app"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", process, log_path)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)


def test_the_whole_flow_with_a_real_http_client(live_oidc_portal: str, oidc_provider: OidcTestProvider) -> None:
    browser = requests.Session()
    login_page = browser.get(f"{live_oidc_portal}/lv/sign-in?next=/lv/services", timeout=10)
    assert login_page.status_code == 200 and login_page.url.startswith(f"{oidc_provider.issuer}/interaction/")
    assert ACCOUNTS["elina"]["label"] in login_page.text
    landed = browser.post(f"{login_page.url}/login", data={"account": "elina"}, timeout=10)
    assert landed.status_code == 200 and landed.url == f"{live_oidc_portal}/lv/services"
    assert [r.status_code for r in landed.history][-1] == 303  # the portal's callback sent us on
    assert "Elīna Žagare" in landed.text and "SIA „Ozolkalni”" in landed.text
    assert landed.headers["Cache-Control"] == "no-store"
