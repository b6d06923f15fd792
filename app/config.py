"""Portal settings, read from the environment; production refuses unsafe defaults."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-only-not-secret"  # noqa: S105 - refused by ProductionConfig
# The registry's development default for REGISTRY_IDENTITY_SECRET: a development portal and registry agree on it.
DEV_IDENTITY_SECRET = "dev-identity-secret-not-for-production"  # noqa: S105 - refused by ProductionConfig
# The registry's development default for REGISTRY_PAYMENT_SECRET: the demonstration bank signs its callbacks with it.
DEV_PAYMENT_SECRET = "dev-payment-secret-not-for-production"  # noqa: S105 - only with DEMO_PAYMENTS (never production)


class Config:
    """Embedded default: the reference registry on 127.0.0.1:5001, caches in instance/."""

    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET)
    REGISTRY_URL = os.environ.get("REGISTRY_URL", "http://127.0.0.1:5001")
    # Where people and integrators reach the registry (links on the VISS portal); often not the internal URL.
    REGISTRY_PUBLIC_URL = os.environ.get("REGISTRY_PUBLIC_URL", REGISTRY_URL)
    # (connect, read) seconds for registry calls; retries apply to GETs only.
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
    # The embedded demonstration bank (/<lang>/demo-bank/pay) that plays the payment provider: no money moves, and
    # it signs payment results for the registry with the registry's REGISTRY_PAYMENT_SECRET. Never in production.
    DEMO_PAYMENTS = True
    PAYMENT_SECRET = os.environ.get("REGISTRY_PAYMENT_SECRET", DEV_PAYMENT_SECRET)
    # A signed-in person who sends no request for this long is signed out (checked on the server).
    SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "20"))
    # However active, a sign-in lasts at most this long: it bounds the use of a copied session cookie.
    SESSION_MAX_HOURS = int(os.environ.get("SESSION_MAX_HOURS", "12"))
    # Pages warn this long before the session ends, with a way to stay signed in (WCAG 2.2.1): at least the two
    # minutes our quality bar asks for, plus a margin for reading and slow networks. A shorter idle limit warns at once.
    SESSION_WARNING_SECONDS = int(os.environ.get("SESSION_WARNING_SECONDS", "180"))
    WTF_CSRF_TIME_LIMIT = None
    # TrueType fonts for PDF receipts and forms: DejaVu Sans has every Latvian letter (Debian: fonts-dejavu-core).
    PDF_FONT_DIR = os.environ.get("PDF_FONT_DIR", "/usr/share/fonts/truetype/dejavu")
    MAX_SEARCH_LENGTH = 200
    PER_PAGE = 20
    STRICT_TEMPLATES = True


class TestConfig(Config):
    """Tests: obviously fake values; the registry URL comes from the test fixture."""

    TESTING = True
    SECRET_KEY = "test-secret-not-for-production"  # noqa: S105
    # The test registries (tests/fixtures/registry_server.py) trust identities signed with this value.
    IDENTITY_SECRET = "test-identity-secret-not-for-production"  # noqa: S105
    DEMO_SIGN_IN = True
    # The test registries run with the registry's development payment secret (tests/fixtures/registry_server.py).
    DEMO_PAYMENTS = True
    REGISTRY_CACHE = "memory"
    REGISTRY_TIMEOUT = (1.0, 2.0)
    REGISTRY_RETRIES = 0


class ProductionConfig(Config):
    """Production: refuses to start with a default secret, without a registry URL or with demonstration sign-in."""

    ENV_NAME = "production"
    STRICT_TEMPLATES = False
    DEMO_SIGN_IN = False
    DEMO_PAYMENTS = False
    PAYMENT_SECRET = ""  # the portal takes no payments itself: the registry's provider does
    # __Host-: the browser accepts the cookie only over HTTPS, for this host alone (no Domain) and Path=/.
    SESSION_COOKIE_NAME = "__Host-session"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"

    @classmethod
    def check(cls, settings: dict[str, Any]) -> None:
        """Raise if the settings are unsafe for production."""
        if not settings.get("SECRET_KEY") or settings["SECRET_KEY"] == DEV_SECRET or len(settings["SECRET_KEY"]) < 32:
            raise RuntimeError("PORTAL_ENV=production needs SECRET_KEY: at least 32 random characters")
        if not os.environ.get("REGISTRY_URL"):
            raise RuntimeError("PORTAL_ENV=production needs REGISTRY_URL")
        identity_secret = settings.get("IDENTITY_SECRET") or ""
        if identity_secret == DEV_IDENTITY_SECRET or len(identity_secret) < 32:
            raise RuntimeError("PORTAL_ENV=production needs REGISTRY_IDENTITY_SECRET (the registry's): 32+ characters")
        if identity_secret == settings["SECRET_KEY"]:
            raise RuntimeError("PORTAL_ENV=production needs a REGISTRY_IDENTITY_SECRET other than SECRET_KEY")
        if settings.get("DEMO_SIGN_IN"):
            raise RuntimeError("PORTAL_ENV=production refuses DEMO_SIGN_IN: anyone could sign in as anyone")
        if settings.get("DEMO_PAYMENTS"):
            raise RuntimeError("PORTAL_ENV=production refuses DEMO_PAYMENTS: anyone could mark any fee paid")


def config_for(name: str | None) -> type[Config]:
    """Return the config class named by PORTAL_ENV (development, production)."""
    return {"production": ProductionConfig}.get(name or "", Config)
