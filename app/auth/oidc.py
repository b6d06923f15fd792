"""Signing in with OpenID Connect (`SIGN_IN = "oidc"`): the authorization code flow with PKCE, through Authlib.

`start(next_url)` reads the provider's discovery document (cached), keeps a fresh `state`, `nonce` and PKCE
`code_verifier` in the session (keyed by `state`) and redirects the browser to the authorization endpoint with
`acr_values` for the level of assurance this sign-in needs. `finish()` runs on `/<lang>/sign-in/callback`: it takes
the pending entry of the returned `state` out of the session (so a replayed callback finds nothing), exchanges the
code with the client secret and the verifier, and checks the id_token: the signature against the provider's JWKS
(asymmetric algorithms only), `iss`, `aud` (and `azp`), `exp`/`iat`, `nonce`, `at_hash`, then the `acr` against the
level asked for, then maps the claims to an `Identity` (docs/sign-in.md). Every failure is a translated page, never
a 500: cancelled at the provider, a weaker sign-in than needed, the provider not answering, or an answer we refuse.

Nothing here logs codes, tokens or personal codes; every HTTP call has a (connect, read) timeout and follows no
redirects.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from flask import Response, redirect, request, session, url_for
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from app.auth.providers import SignInFailed
from app.i18n import current_lang
from app.rendering import render
from forms.validators import normalise_company_number, normalise_personal_code
from identity import ACRS, ROLES, Identity, InvalidIdentity, identity_from_claims

log = logging.getLogger(__name__)

# The portal's levels of assurance, weakest first (identity.ACRS).
LEVELS: tuple[str, ...] = ACRS
# The provider's acr values for them unless OIDC_ACR_VALUES says otherwise: the eIDAS levels of assurance.
DEFAULT_ACR_VALUES = {
    "substantial": "http://eidas.europa.eu/LoA/substantial",
    "high": "http://eidas.europa.eu/LoA/high",
}
# Which id_token claim holds what, unless OIDC_CLAIMS says otherwise (docs/sign-in.md). `name` falls back to
# `given_name` + `family_name`. A claim mapped to "" is not read at all.
DEFAULT_CLAIMS = {
    "personal_code": "personal_code",
    "name": "name",
    "given_name": "given_name",
    "family_name": "family_name",
    "company": "company_registration_number",
    "company_name": "company_name",
    "institution": "institution",
    "roles": "roles",
}
DEFAULT_SCOPE = "openid profile lv_identity"
# id_tokens signed with a key only the provider holds; never "none", never HS* (the client secret is not a signing key).
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
PENDING_KEY = "oidc_pending"
# Sign-ins started and not finished (several tabs); the session is a cookie, so only the newest few are kept.
MAX_PENDING = 3
PENDING_MAX_AGE_SECONDS = 10 * 60
DISCOVERY_TTL_SECONDS = 60 * 60
DISCOVERY_RETRY_SECONDS = 5 * 60
# A token signed with a key we do not know makes us fetch the JWKS again, at most this often (key rotation).
JWKS_REFRESH_SECONDS = 60
LEEWAY_SECONDS = 60
MAX_RESPONSE_BYTES = 512 * 1024
# Personal codes as ETSI EN 319 412-1 writes them in certificates (eParaksts): PNOLV-DDMMYY-CNNNN.
_SEMANTIC_PREFIX = re.compile(r"^PNOLV-?", re.IGNORECASE)
_ERROR_CODE = re.compile(r"[a-z_]{1,40}")
# Errors of the authorization response that mean the person (or the provider, for them) said no.
_DENIED = {"access_denied", "login_required", "consent_required", "interaction_required", "account_selection_required"}


class ProviderUnavailable(Exception):
    """The identity provider did not answer in time, or answered something that is not what OIDC describes."""


@dataclass(frozen=True)
class OidcSettings:
    """What the portal needs to know about its OpenID provider, checked when the portal starts."""

    issuer: str
    client_id: str
    client_secret: str
    scope: str = DEFAULT_SCOPE
    min_acr: str = "substantial"
    acr_values: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_ACR_VALUES))
    claims: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_CLAIMS))
    timeout: tuple[float, float] = (3.0, 10.0)
    # Production runs behind HTTPS only: the callback address sent to the provider is https whatever the proxy says.
    https_callback: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> OidcSettings:
        """Read the OIDC_* settings; raise RuntimeError when one is missing or makes no sense."""
        issuer = str(config.get("OIDC_ISSUER") or "").rstrip("/")
        client_id = str(config.get("OIDC_CLIENT_ID") or "")
        client_secret = str(config.get("OIDC_CLIENT_SECRET") or "")
        if not issuer.startswith(("https://", "http://")) or not client_id or not client_secret:
            raise RuntimeError("SIGN_IN=oidc needs OIDC_ISSUER (a URL), OIDC_CLIENT_ID and OIDC_CLIENT_SECRET")
        scope = str(config.get("OIDC_SCOPE") or DEFAULT_SCOPE)
        if "openid" not in scope.split():
            raise RuntimeError("OIDC_SCOPE must include openid")
        min_acr = str(config.get("OIDC_MIN_ACR") or "substantial")
        if min_acr not in LEVELS:
            raise RuntimeError(f"OIDC_MIN_ACR must be one of {', '.join(LEVELS)}")
        acr_values = {**DEFAULT_ACR_VALUES, **_mapping(config.get("OIDC_ACR_VALUES"), "OIDC_ACR_VALUES")}
        if set(acr_values) != set(LEVELS) or len(set(acr_values.values())) != len(LEVELS):
            raise RuntimeError("OIDC_ACR_VALUES maps substantial and high to two different acr values")
        claims = {**DEFAULT_CLAIMS, **_mapping(config.get("OIDC_CLAIMS"), "OIDC_CLAIMS")}
        if set(claims) != set(DEFAULT_CLAIMS) or not claims["personal_code"]:
            raise RuntimeError(f"OIDC_CLAIMS maps only {', '.join(DEFAULT_CLAIMS)}; personal_code is required")
        timeout = config.get("OIDC_TIMEOUT") or (3.0, 10.0)
        return cls(
            issuer=issuer,
            client_id=client_id,
            client_secret=client_secret,
            scope=scope,
            min_acr=min_acr,
            acr_values=acr_values,
            claims=claims,
            timeout=(float(timeout[0]), float(timeout[1])),
            https_callback=bool(config.get("SESSION_COOKIE_SECURE")),
        )


def _mapping(value: Any, name: str) -> dict[str, str]:
    """Return a setting given as a mapping or as "key=value key=value" text (an environment variable)."""
    if value is None or value == "":
        return {}
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    pairs = [item.partition("=") for item in str(value).replace(",", " ").split()]
    if any(not sep or not key for key, sep, _ in pairs):
        raise RuntimeError(f"{name} is written as key=value pairs separated by spaces")
    return {key: claim for key, _, claim in pairs}


# --- claims -> Identity -----------------------------------------------------------------------------------------


def identity_from_id_token(
    claims: Mapping[str, Any], acr: str, mapping: Mapping[str, str] = DEFAULT_CLAIMS
) -> Identity:
    """Return the Identity the verified id_token claims describe, or raise InvalidIdentity.

    The personal code is normalised (`16117519997`, `PNOLV-161175-19997` -> `161175-19997`) and, for the old format,
    its date and check digit checked. With a company registration number the person represents that company; with an
    institution they are its employee (with at least one role); never both.
    """

    def claim(key: str) -> Any:
        name = mapping.get(key, "")
        return claims.get(name) if name else None

    raw_code = claim("personal_code")
    if not isinstance(raw_code, str):
        raise InvalidIdentity("no personal code in the id_token")
    try:
        personal_code = normalise_personal_code(_SEMANTIC_PREFIX.sub("", raw_code.strip(), count=1))
    except ValueError as exc:
        raise InvalidIdentity(f"the personal code is not valid ({exc})") from None
    name = claim("name")
    if not isinstance(name, str) or not name.strip():
        parts = [claim("given_name"), claim("family_name")]
        name = " ".join(part.strip() for part in parts if isinstance(part, str) and part.strip())
    company, institution = claim("company"), claim("institution")
    identity: dict[str, Any] = {"sub": personal_code, "name": name.strip(), "acr": acr, "kind": "person"}
    if company not in (None, "") and institution not in (None, ""):
        raise InvalidIdentity("an id_token names both a company and an institution")
    if company not in (None, ""):
        try:
            identity["company"] = normalise_company_number(str(company))
        except ValueError as exc:
            raise InvalidIdentity(f"the company registration number is not valid ({exc})") from None
        company_name = claim("company_name")
        company_name = company_name.strip() if isinstance(company_name, str) else None
        identity.update(kind="company_representative", company_name=company_name)
    elif institution not in (None, ""):
        roles = claim("roles")
        if isinstance(roles, str):
            roles = roles.split()
        if isinstance(roles, list):
            roles = [role for role in roles if role in ROLES]  # roles of other systems are not ours to judge
        identity.update(kind="employee", institution=institution, roles=roles)
    return identity_from_claims(identity)


# --- the provider -----------------------------------------------------------------------------------------------


class OidcProvider:
    """Sign people in with an OpenID provider (latvija.gov.lv, eParaksts or any other): see the module docstring."""

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> OidcProvider:
        """Return a provider for the OIDC_* settings (nothing is fetched until someone signs in)."""
        return cls(OidcSettings.from_config(config))

    # --- talking to the provider ------------------------------------------------------------------------------

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = requests.get(
                url, timeout=self.settings.timeout, allow_redirects=False, headers={"Accept": "application/json"}
            )
            if response.status_code != 200 or len(response.content) > MAX_RESPONSE_BYTES:
                raise ProviderUnavailable(f"GET {url}: HTTP {response.status_code}")
            data = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise ProviderUnavailable(f"GET {url}: {type(exc).__name__}") from exc
        if not isinstance(data, dict):
            raise ProviderUnavailable(f"GET {url}: not a JSON object")
        return data

    def metadata(self) -> dict[str, Any]:
        """Return the provider's discovery document, fetched at most once an hour (an older copy if it is down)."""
        with self._lock:
            if self._metadata is not None and time.monotonic() - self._metadata_at < DISCOVERY_TTL_SECONDS:
                return self._metadata
            try:
                found = self._get_json(f"{self.settings.issuer}/.well-known/openid-configuration")
                # OpenID Connect Discovery 1.0, 4.3: the document must name exactly the issuer we asked.
                if found.get("issuer") != self.settings.issuer:
                    raise ProviderUnavailable("the discovery document names another issuer")
                for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                    if not isinstance(found.get(key), str) or not found[key].startswith(("https://", "http://")):
                        raise ProviderUnavailable(f"the discovery document has no {key}")
                if "S256" not in found.get("code_challenge_methods_supported", ["S256"]):
                    raise ProviderUnavailable("the provider does not support PKCE with S256")
            except ProviderUnavailable:
                if self._metadata is None:
                    raise
                log.warning("OpenID provider discovery failed; using the copy from before")
                # Try again in a few minutes, not on every sign-in meanwhile.
                self._metadata_at = time.monotonic() - DISCOVERY_TTL_SECONDS + DISCOVERY_RETRY_SECONDS
                return self._metadata
            self._metadata, self._metadata_at = found, time.monotonic()
            self._keys = None  # a new document may name new keys
            return found

    def _key_set(self, *, refresh: bool = False) -> KeySet:
        metadata = self.metadata()
        with self._lock:
            stale = refresh and time.monotonic() - self._keys_at > JWKS_REFRESH_SECONDS
            if self._keys is None or stale:
                try:
                    self._keys = KeySet.import_key_set(self._get_json(metadata["jwks_uri"]))  # type: ignore[arg-type]
                except (JoseError, ValueError, TypeError, KeyError) as exc:
                    raise ProviderUnavailable("the provider's JWKS cannot be read") from exc
                self._keys_at = time.monotonic()
            return self._keys

    def _client(self, redirect_uri: str) -> OAuth2Session:
        return OAuth2Session(
            client_id=self.settings.client_id,
            client_secret=self.settings.client_secret,
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method's name, not a secret
            scope=self.settings.scope,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            default_timeout=self.settings.timeout,
        )

    # --- SignInProvider -----------------------------------------------------------------------------------------

    def start(self, next_url: str) -> Response:
        """Redirect to the provider's authorization endpoint; remember state, nonce and verifier for the callback."""
        level = self._required_level()
        try:
            metadata = self.metadata()
        except ProviderUnavailable as exc:
            log.warning("OpenID provider unavailable: %s", exc)
            return self._failure("unavailable", 503, next_url, level)
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        redirect_uri = self._redirect_uri()
        extra: dict[str, str] = {}
        if request.args.get("acr") in LEVELS:
            # A page asked for a level (or the person retries after a too weak sign-in): a fresh authentication at
            # that level, not the provider's session of before, which may be the weaker one.
            extra["prompt"] = "login"
        with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"],
                state=state,
                code_verifier=verifier,
                nonce=nonce,
                acr_values=self.settings.acr_values[level],
                ui_locales=current_lang(),
                **extra,
            )
        pending = {
            key: entry
            for key, entry in _pending().items()
            if isinstance(entry, dict) and 0 <= time.time() - entry.get("at", 0) <= PENDING_MAX_AGE_SECONDS
        }
        pending[state] = {
            "nonce": nonce,
            "verifier": verifier,
            "redirect_uri": redirect_uri,
            "acr": level,
            "next": next_url,
            "at": time.time(),
        }
        # The session's JSON keeps no order: the newest are the ones with the latest `at`.
        newest = sorted(pending.items(), key=lambda item: float(item[1].get("at", 0)))[-MAX_PENDING:]
        session[PENDING_KEY] = dict(newest)
        return redirect(url, 302)  # type: ignore[return-value]

    def finish(self) -> Identity:
        """Check the provider's answer on the callback and return who signed in, or raise SignInFailed with a page."""
        if request.method != "GET":
            raise SignInFailed()  # this provider has no form of its own: 400
        state = request.args.get("state", "")
        # Taken out of the session now, whatever happens next: a state (and its nonce) is good for one answer only.
        waiting = _pending()
        entry = waiting.pop(state, None) if state else None
        if PENDING_KEY in session:
            session[PENDING_KEY] = waiting
        fresh = isinstance(entry, dict) and 0 <= time.time() - entry.get("at", 0) <= PENDING_MAX_AGE_SECONDS
        pending = entry if fresh else None
        next_url = pending["next"] if pending else ""
        level = pending["acr"] if pending else self.settings.min_acr
        error = request.args.get("error")
        if error is not None:
            code = error if _ERROR_CODE.fullmatch(error) else "malformed"
            log.info("OpenID provider answered with error %s", code)
            raise SignInFailed(self._failure("denied" if code in _DENIED else "failed", 400, next_url, level))
        if pending is None:
            log.info("OpenID callback refused: unknown, used or expired state")
            raise SignInFailed(self._failure("failed", 400, next_url, level))
        try:
            return self._identity(pending)
        except ProviderUnavailable as exc:
            log.warning("OpenID provider unavailable: %s", exc)
            raise SignInFailed(self._failure("unavailable", 503, next_url, level)) from None
        except _TooWeak as exc:
            log.info("OpenID sign-in refused: %s", exc)
            raise SignInFailed(self._failure("acr", 403, next_url, exc.needed)) from None
        except (OAuthError, JoseError, InvalidIdentity, _Refused) as exc:
            # The reason, never the values: an id_token's claims are personal data.
            log.info("OpenID sign-in refused: %s: %s", type(exc).__name__, _loggable(exc))
            raise SignInFailed(self._failure("failed", 400, next_url, level)) from None

    # --- the callback, step by step ---------------------------------------------------------------------------

    def _identity(self, pending: Mapping[str, Any]) -> Identity:
        metadata = self.metadata()
        returned_iss = request.args.get("iss")
        # RFC 9207: the answer says which provider sent it; a mix-up attack would show another issuer here.
        iss_expected = returned_iss is not None or metadata.get("authorization_response_iss_parameter_supported")
        if iss_expected and returned_iss != self.settings.issuer:
            raise _Refused("the authorization response names another issuer")
        code = request.args.get("code", "")
        if not code or len(code) > 2048:
            raise _Refused("no authorization code")
        with self._client(pending["redirect_uri"]) as client:
            try:
                token = client.fetch_token(
                    metadata["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=pending["verifier"],
                    redirect_uri=pending["redirect_uri"],
                    timeout=self.settings.timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                raise ProviderUnavailable(f"token endpoint: {type(exc).__name__}") from exc
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise _Refused("no id_token in the token response")
        claims = self.verify_id_token(id_token, nonce=pending["nonce"], access_token=token.get("access_token"))
        needed = pending["acr"]
        level = self._level_of(claims.get("acr"))
        if level is None:
            raise _TooWeak(needed)  # no acr, or one below every level we know (e.g. eIDAS low)
        identity = identity_from_id_token(claims, level, self.settings.claims)
        if identity.is_employee:
            needed = "high"  # staff decide about other people's rights: eID card or eParaksts only
        if LEVELS.index(level) < LEVELS.index(needed):
            raise _TooWeak(needed)
        return identity

    def verify_id_token(self, id_token: str, *, nonce: str, access_token: str | None = None) -> dict[str, Any]:
        """Return the claims of an id_token from our provider, for us, unexpired and with our nonce; else raise.

        Authlib's CodeIDToken checks the registered claims; the options make iss, aud, exp, iat and nonce required
        and give the values they must have.
        """
        if id_token.count(".") != 2:
            raise _Refused("the id_token is not a signed JWT")  # no JWE, no unsigned tokens
        metadata = self.metadata()
        offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [alg for alg in SIGNING_ALGORITHMS if alg in offered]
        try:
            token = jwt.decode(id_token, self._key_set(), algorithms=algorithms)
        except InvalidKeyIdError:
            token = jwt.decode(id_token, self._key_set(refresh=True), algorithms=algorithms)
        options = {
            "iss": {"essential": True, "value": self.settings.issuer},
            "aud": {"essential": True, "value": self.settings.client_id},
            "exp": {"essential": True},
            "iat": {"essential": True},
            "nonce": {"essential": True, "value": nonce},
        }
        params = {"nonce": nonce, "client_id": self.settings.client_id}
        if access_token:
            params["access_token"] = access_token
        claims = CodeIDToken(token.claims, token.header, options, params)
        claims.validate(leeway=LEEWAY_SECONDS)
        aud = claims["aud"]
        if not (aud == self.settings.client_id or (isinstance(aud, list) and self.settings.client_id in aud)):
            raise _Refused("the id_token is for another client")
        if claims["iat"] > time.time() + LEEWAY_SECONDS:
            raise _Refused("the id_token was issued in the future")
        return dict(claims)

    def _level_of(self, acr: Any) -> str | None:
        """Return the portal's level for the provider's acr value, or None for a value we do not know."""
        for level, value in self.settings.acr_values.items():
            if acr == value:
                return level
        return None

    def _required_level(self) -> str:
        """Return the level this sign-in needs: OIDC_MIN_ACR, or more when the page sends `acr=high`."""
        asked = request.args.get("acr", "")
        levels = [self.settings.min_acr, *([asked] if asked in LEVELS else [])]
        return max(levels, key=LEVELS.index)

    def _redirect_uri(self) -> str:
        lang = (request.view_args or {}).get("lang", current_lang())
        scheme = "https" if self.settings.https_callback else request.scheme
        return url_for("auth.sign_in_callback", lang=lang, _external=True, _scheme=scheme)

    def _failure(self, reason: str, status: int, next_url: str, level: str) -> Response:
        lang = (request.view_args or {}).get("lang", current_lang())
        args: dict[str, str] = {"next": next_url} if next_url else {}
        if reason == "acr" or level != self.settings.min_acr:
            args["acr"] = level
        response = render(
            "pages/auth/sign_in_failed.html",
            status=status,
            reason=reason,
            retry_url=url_for("auth.sign_in", lang=lang, **args),
        )
        if status == 503:
            response.headers["Retry-After"] = "60"
        return response


class _Refused(Exception):
    """An answer from the provider that does not hold up."""


class _TooWeak(Exception):
    """The sign-in's level of assurance is below what is needed."""

    def __init__(self, needed: str) -> None:
        super().__init__(f"a sign-in with acr {needed} is needed")
        self.needed = needed


def _pending() -> dict[str, Any]:
    found = session.get(PENDING_KEY)
    return dict(found) if isinstance(found, dict) else {}


def _loggable(exc: Exception) -> str:
    """Return an exception's message for the log with line breaks escaped (it may quote the provider)."""
    return str(exc)[:200].replace("\r", "\\r").replace("\n", "\\n")
