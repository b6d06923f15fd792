"""Portal settings, read from the environment; production refuses unsafe defaults (docs/operations.md lists them)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from envconfig import (  # noqa: F401 - re-exported: the portal's settings are read with these
    MIN_SECRET_LENGTH,
    ConfigError,
    env_int,
    env_list,
    is_http_url,
    is_weak_secret,
    trust_proxies,
)

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-only-not-secret"  # noqa: S105 - refused by ProductionConfig
# The registry's development default for REGISTRY_IDENTITY_SECRET: a development portal and registry agree on it.
DEV_IDENTITY_SECRET = "dev-identity-secret-not-for-production"  # noqa: S105 - refused by ProductionConfig
# The registry's development default for REGISTRY_PAYMENT_SECRET: the demonstration bank signs its callbacks with it.
DEV_PAYMENT_SECRET = "dev-payment-secret-not-for-production"  # noqa: S105 - only with DEMO_PAYMENTS (never production)
DEV_REGISTRY_URL = "http://127.0.0.1:5001"
# Every secret written in this repository (development and test values): anyone can read them, so production
# refuses them, and any value that says it is "not for production".
KNOWN_SECRETS = frozenset(
    {
        DEV_SECRET,
        DEV_IDENTITY_SECRET,
        DEV_PAYMENT_SECRET,
        "test-secret-not-for-production",
        "test-identity-secret-not-for-production",
    }
)
# The environment variable behind each secret setting, for messages that tell the operator what to change.
SECRET_VARIABLES = {
    "SECRET_KEY": "SECRET_KEY",
    "SECRET_KEY_FALLBACKS": "SECRET_KEY_FALLBACKS",
    "IDENTITY_SECRET": "REGISTRY_IDENTITY_SECRET",
    "PAYMENT_SECRET": "REGISTRY_PAYMENT_SECRET",
    "OIDC_CLIENT_SECRET": "OIDC_CLIENT_SECRET",
}


class Config:
    """Embedded default: the reference registry on 127.0.0.1:5001, caches in instance/."""

    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET)
    # Older keys still accepted for sessions while every browser gets a cookie signed with the new SECRET_KEY
    # (Flask 3.1): rotating the key then signs nobody out. Comma-separated, oldest first; empty normally.
    SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
    REGISTRY_URL = os.environ.get("REGISTRY_URL", DEV_REGISTRY_URL)
    # Where people and integrators reach the registry (links on the VISS portal); often not the internal URL.
    REGISTRY_PUBLIC_URL = os.environ.get("REGISTRY_PUBLIC_URL", REGISTRY_URL)
    # (connect, read) seconds for registry calls; retries apply to GETs only. Worst case, a GET takes
    # (connect + read) * (retries + 1) plus backoff: below the gunicorn worker timeout (PORTAL_WORKER_TIMEOUT).
    REGISTRY_TIMEOUT = (2.0, 5.0)
    REGISTRY_RETRIES = 2
    # A page with file uploads is the largest request. Each question sets its own lower limit, reported next to the
    # field with the other answers kept; only a body over this gets the "too large" error page.
    MAX_CONTENT_LENGTH = 50 * 1024 * 1024
    # Registry responses are cached in a SQLite file shared by the workers; it also serves stale copies when the
    # registry is down. "memory" keeps them per process.
    REGISTRY_CACHE = os.environ.get("REGISTRY_CACHE", "sqlite")
    REGISTRY_CACHE_PATH = os.environ.get("REGISTRY_CACHE_PATH", str(ROOT / "instance" / "registry-cache"))
    THEMES_DIR = ROOT / "themes"
    BABEL_DEFAULT_LOCALE = "lv"
    BABEL_DEFAULT_TIMEZONE = "Europe/Riga"
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "translations")
    LANGUAGES = ("lv", "en")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Signs the identity forwarded to the registry (X-Portal-Identity); the registry must hold the same secret.
    IDENTITY_SECRET = os.environ.get("REGISTRY_IDENTITY_SECRET", DEV_IDENTITY_SECRET)
    # The embedded demonstration identity provider (made-up people, no password): never in production.
    DEMO_SIGN_IN = True
    # Who vouches for people signing in (docs/sign-in.md): "demo" (the demonstration above, only with DEMO_SIGN_IN),
    # "oidc" (an OpenID provider: the OIDC_* settings) or "" (no sign-in at all).
    SIGN_IN = os.environ.get("SIGN_IN", "demo")
    OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "")
    OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "")
    OIDC_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET", "")
    OIDC_SCOPE = os.environ.get("OIDC_SCOPE", "openid profile lv_identity")
    # The least level of assurance of any sign-in (substantial or high); a page may ask for more with ?acr=high.
    OIDC_MIN_ACR = os.environ.get("OIDC_MIN_ACR", "substantial")
    # The provider's acr values and claim names where they differ from app/auth/oidc.py's: "key=value key=value".
    OIDC_ACR_VALUES = os.environ.get("OIDC_ACR_VALUES", "")
    OIDC_CLAIMS = os.environ.get("OIDC_CLAIMS", "")
    # (connect, read) seconds for discovery, JWKS and token requests to the provider.
    OIDC_TIMEOUT = (3.0, 10.0)
    # The embedded demonstration bank (/<lang>/demo-bank/pay) that plays the payment provider: no money moves, and
    # it signs payment results for the registry with the registry's REGISTRY_PAYMENT_SECRET. Never in production.
    DEMO_PAYMENTS = True
    PAYMENT_SECRET = os.environ.get("REGISTRY_PAYMENT_SECRET", DEV_PAYMENT_SECRET)
    # A signed-in person who sends no request for this long is signed out (checked on the server).
    SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 20, minimum=1)
    # However active, a sign-in lasts at most this long: it bounds the use of a copied session cookie.
    SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", 12, minimum=1)
    # Pages warn this long before the session ends, with a way to stay signed in (WCAG 2.2.1): at least the two
    # minutes our quality bar asks for, plus a margin for reading and slow networks. A shorter idle limit warns at once.
    SESSION_WARNING_SECONDS = env_int("SESSION_WARNING_SECONDS", 180)
    WTF_CSRF_TIME_LIMIT = None
    # TrueType fonts for PDF receipts and forms: DejaVu Sans has every Latvian letter (Debian: fonts-dejavu-core).
    PDF_FONT_DIR = os.environ.get("PDF_FONT_DIR", "/usr/share/fonts/truetype/dejavu")
    # How many proxies (load balancer, TLS terminator) stand in front of gunicorn and append to X-Forwarded-For and
    # X-Forwarded-Proto. 0 trusts no forwarded header (a client could forge them); see trust_proxies.
    TRUSTED_PROXY_HOPS = env_int("TRUSTED_PROXY_HOPS", 0)
    MAX_SEARCH_LENGTH = 200
    PER_PAGE = 20
    STRICT_TEMPLATES = True
    # Several portal instances share sessions, the registry cache, the circuit breaker and the rate limits through one
    # Redis (app/shared_state.py), e.g. redis://10.0.0.5:6379/0. Empty: all of it stays in this process.
    REDIS_URL = os.environ.get("REDIS_URL", "")
    REDIS_KEY_PREFIX = os.environ.get("REDIS_KEY_PREFIX", "portal:")  # one Redis can serve several portals apart
    # The registry client's circuit breaker: this many failed calls in a row (timeouts, refused connections, 5xx)
    # within the window stop all calls for the cool-down; then one trial call closes it again if it succeeds.
    BREAKER_FAILURES = env_int("BREAKER_FAILURES", 5, minimum=1)
    BREAKER_WINDOW_SECONDS = env_int("BREAKER_WINDOW_SECONDS", 60, minimum=1)
    BREAKER_COOLDOWN_SECONDS = env_int("BREAKER_COOLDOWN_SECONDS", 30, minimum=1)
    # Rate limits (app/limits.py), "N/second|minute|hour|day" joined by ";"; an empty value switches one off.
    RATELIMIT_ENABLED = True
    RATELIMIT_SIGN_IN = os.environ.get("RATELIMIT_SIGN_IN", "60/minute;1000/hour")  # per IP address
    RATELIMIT_POST = os.environ.get("RATELIMIT_POST", "120/minute;2000/hour")  # per person (or IP when anonymous)
    RATELIMIT_POST_PER_IP = os.environ.get("RATELIMIT_POST_PER_IP", "600/minute")  # everyone behind one address
    RATELIMIT_SEARCH = os.environ.get("RATELIMIT_SEARCH", "120/minute;3000/hour")  # per IP address
    RATELIMIT_VERIFY = os.environ.get("RATELIMIT_VERIFY", "30/minute;300/hour")  # code checks per IP address
    RATELIMIT_UPLOAD = os.environ.get("RATELIMIT_UPLOAD", "30/minute;300/hour")  # per person (or IP)


class TestConfig(Config):
    """Tests: obviously fake values; the registry URL comes from the test fixture."""

    TESTING = True
    SECRET_KEY = "test-secret-not-for-production"  # noqa: S105
    # The test registries (tests/fixtures/registry_server.py) trust identities signed with this value.
    IDENTITY_SECRET = "test-identity-secret-not-for-production"  # noqa: S105
    DEMO_SIGN_IN = True
    SIGN_IN = "demo"  # whatever the shell says; tests/fixtures/oidc_provider.py makes OIDC portals
    # The test registries run with the registry's development payment secret (tests/fixtures/registry_server.py).
    DEMO_PAYMENTS = True
    REGISTRY_CACHE = "memory"
    REGISTRY_TIMEOUT = (1.0, 2.0)
    REGISTRY_RETRIES = 0
    REDIS_URL = ""  # whatever the shell says; tests/fixtures/redis_server.py makes portals with Redis
    # Far above what any test sends from its one address; tests of the limits set small ones.
    RATELIMIT_SIGN_IN = RATELIMIT_POST = RATELIMIT_POST_PER_IP = "100000/minute"
    RATELIMIT_SEARCH = RATELIMIT_VERIFY = RATELIMIT_UPLOAD = "100000/minute"


class ProductionConfig(Config):
    """Production: refuses to start with a default or shared secret, debug, demonstrations or a missing setting."""

    ENV_NAME = "production"
    STRICT_TEMPLATES = False
    DEMO_SIGN_IN = False
    # No sign-in unless SIGN_IN=oidc says so (with its OIDC_* settings); "demo" is refused.
    SIGN_IN = os.environ.get("SIGN_IN", "")
    DEMO_PAYMENTS = False
    PAYMENT_SECRET = ""  # the portal takes no payments itself: the registry's provider does
    # __Host-: the browser accepts the cookie only over HTTPS, for this host alone (no Domain) and Path=/.
    SESSION_COOKIE_NAME = "__Host-session"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def check(cls, settings: Mapping[str, Any]) -> None:
        """Raise ConfigError (one line naming the variable) if the settings are unsafe or incomplete for production.

        `settings` is the app's config; a setting it lacks counts as this class's value, so a partial mapping checks
        what it holds.
        """

        def get(key: str) -> Any:
            return settings[key] if key in settings else getattr(cls, key, None)

        if get("DEBUG"):
            raise ConfigError("PORTAL_ENV=production refuses debug (FLASK_DEBUG): the debugger runs any code sent")
        if get("TESTING"):
            raise ConfigError("PORTAL_ENV=production refuses TESTING: errors would reach visitors")
        if is_weak_secret(get("SECRET_KEY"), KNOWN_SECRETS):
            raise ConfigError(
                "PORTAL_ENV=production needs SECRET_KEY: at least 32 random characters, not a development value"
            )
        fallbacks = get("SECRET_KEY_FALLBACKS") or []
        if any(is_weak_secret(old, KNOWN_SECRETS) for old in fallbacks):
            raise ConfigError("PORTAL_ENV=production needs SECRET_KEY_FALLBACKS of 32+ random characters each")
        _check_registry_url(settings)
        if is_weak_secret(get("IDENTITY_SECRET"), KNOWN_SECRETS):
            raise ConfigError(
                "PORTAL_ENV=production needs REGISTRY_IDENTITY_SECRET (the registry's): 32+ random characters"
            )
        # The portal takes no payments (ProductionConfig clears it); a value that is set must still be a real one.
        if get("PAYMENT_SECRET") and is_weak_secret(get("PAYMENT_SECRET"), KNOWN_SECRETS):
            raise ConfigError("PORTAL_ENV=production needs REGISTRY_PAYMENT_SECRET unset or 32+ random characters")
        _refuse_shared_secrets(
            "PORTAL_ENV",
            [("SECRET_KEY", get("SECRET_KEY"))]
            + [("SECRET_KEY_FALLBACKS", old) for old in fallbacks]
            + [("IDENTITY_SECRET", get("IDENTITY_SECRET")), ("PAYMENT_SECRET", get("PAYMENT_SECRET"))]
            + [("OIDC_CLIENT_SECRET", get("OIDC_CLIENT_SECRET"))],
        )
        if get("DEMO_SIGN_IN"):
            raise ConfigError("PORTAL_ENV=production refuses DEMO_SIGN_IN: anyone could sign in as anyone")
        if get("SIGN_IN") not in ("", "oidc"):
            raise ConfigError("PORTAL_ENV=production needs SIGN_IN=oidc or no SIGN_IN (demo: anyone as anyone)")
        if get("SIGN_IN") == "oidc":
            _check_oidc(get)
        if get("DEMO_PAYMENTS"):
            raise ConfigError("PORTAL_ENV=production refuses DEMO_PAYMENTS: anyone could mark any fee paid")
        _check_session_cookie(get)
        if get("WTF_CSRF_ENABLED") is False:
            raise ConfigError("PORTAL_ENV=production refuses WTF_CSRF_ENABLED=False: forms need their CSRF check")
        _check_fonts(str(get("PDF_FONT_DIR")))


def _check_registry_url(settings: Mapping[str, Any]) -> None:
    """Refuse a portal without an explicit registry URL, or with one that is not an http(s) URL."""
    configured = settings.get("REGISTRY_URL")
    url = configured if configured and configured != DEV_REGISTRY_URL else os.environ.get("REGISTRY_URL")
    if not url:
        raise ConfigError("PORTAL_ENV=production needs REGISTRY_URL: the registry's base URL, e.g. https://registry.lv")
    if not is_http_url(url):
        raise ConfigError("PORTAL_ENV=production needs REGISTRY_URL as an http(s) URL with a host")


def _refuse_shared_secrets(env_name: str, secrets: list[tuple[str, Any]]) -> None:
    """Refuse one value used for two purposes: a leak of one would then give away both (the keys are not variables)."""
    seen: dict[str, str] = {}
    for key, value in secrets:
        if not value:
            continue
        if value in seen:
            first, second = SECRET_VARIABLES.get(seen[value], seen[value]), SECRET_VARIABLES.get(key, key)
            raise ConfigError(f"{env_name}=production needs {second} different from {first}: one secret per purpose")
        seen[value] = key


def _check_session_cookie(get: Any) -> None:
    """Refuse a session cookie that could travel without TLS, be read by scripts or leave this host."""
    if get("SESSION_COOKIE_SECURE") is not True:
        raise ConfigError("PORTAL_ENV=production needs SESSION_COOKIE_SECURE=True: the cookie only over HTTPS")
    if get("SESSION_COOKIE_HTTPONLY") is not True:
        raise ConfigError("PORTAL_ENV=production needs SESSION_COOKIE_HTTPONLY=True: scripts must not read it")
    if not str(get("SESSION_COOKIE_NAME") or "").startswith("__Host-"):
        raise ConfigError("PORTAL_ENV=production needs SESSION_COOKIE_NAME starting with __Host-")
    if get("SESSION_COOKIE_DOMAIN") or get("SESSION_COOKIE_PATH") not in (None, "/"):
        raise ConfigError("PORTAL_ENV=production refuses SESSION_COOKIE_DOMAIN and SESSION_COOKIE_PATH (__Host-)")
    samesite = get("SESSION_COOKIE_SAMESITE")
    # None (cross-site, for embedded flows) only with a partitioned cookie (CHIPS); otherwise Lax or Strict.
    if samesite not in ("Lax", "Strict") and not (samesite == "None" and get("SESSION_COOKIE_PARTITIONED")):
        raise ConfigError(
            "PORTAL_ENV=production needs SESSION_COOKIE_SAMESITE Lax or Strict "
            "(None only with SESSION_COOKIE_PARTITIONED)"
        )


def _check_oidc(get: Any) -> None:
    """Refuse OpenID Connect sign-in without TLS to the provider or without a real client secret."""
    if not is_http_url(get("OIDC_ISSUER"), https_only=True):
        raise ConfigError("PORTAL_ENV=production needs OIDC_ISSUER: the provider's https:// issuer URL")
    if not get("OIDC_CLIENT_ID"):
        raise ConfigError("PORTAL_ENV=production needs OIDC_CLIENT_ID: this portal's client id at the provider")
    secret = get("OIDC_CLIENT_SECRET")
    if not isinstance(secret, str) or len(secret) < 16 or secret in KNOWN_SECRETS or "not-for-production" in secret:
        raise ConfigError("PORTAL_ENV=production needs OIDC_CLIENT_SECRET: the secret the provider issued")


def _check_fonts(font_dir: str) -> None:
    """Refuse to start without the PDF fonts, rather than fail on the first receipt someone asks for."""
    from app.documents.pdf import FONT_FILES

    missing = [name for name in FONT_FILES.values() if not (Path(font_dir) / name).is_file()]
    if missing:
        raise ConfigError(f"PORTAL_ENV=production needs PDF_FONT_DIR with {', '.join(missing)} (fonts-dejavu-core)")


def config_for(name: str | None) -> type[Config]:
    """Return the config class named by PORTAL_ENV (development, production); another name is a ConfigError."""
    classes: dict[str, type[Config]] = {"": Config, "development": Config, "production": ProductionConfig}
    if (name or "") not in classes:
        raise ConfigError(f"PORTAL_ENV must be development or production, not {name!r}")
    return classes[name or ""]


def check_environment() -> None:
    """Check PORTAL_ENV's settings without building the app: gunicorn's master runs it before starting workers."""
    from flask.helpers import get_debug_flag

    config_class = config_for(os.environ.get("PORTAL_ENV"))
    if config_class is ProductionConfig:
        settings = {key: getattr(config_class, key) for key in dir(config_class) if key.isupper()}
        ProductionConfig.check({**settings, "DEBUG": get_debug_flag()})
