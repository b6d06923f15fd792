"""Registry settings, read from the environment; production refuses unsafe defaults (docs/operations.md lists them).

The registry shares no code with the portal but the `identity` package, so the few checking helpers here are its own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from envconfig import (  # noqa: F401 - re-exported: the registry's settings are read with these
    MIN_SECRET_LENGTH,
    ConfigError,
    env_flag,
    env_int,
    env_seconds,
    is_http_url,
    is_weak_secret,
    trust_proxies,
)

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"
DEV_DATABASE_URL = f"sqlite:///{INSTANCE_DIR / 'registry.sqlite3'}"
# Development defaults: a development portal and registry agree on them without settings. Production refuses them.
DEV_IDENTITY_SECRET = "dev-identity-secret-not-for-production"  # noqa: S105 - refused by ProductionConfig
DEV_PAYMENT_SECRET = "dev-payment-secret-not-for-production"  # noqa: S105 - refused by ProductionConfig
TEST_IDENTITY_SECRET = "test-identity-secret-not-for-production"  # noqa: S105 - a fake value, for tests only
# The portal's demonstration bank, relative to the portal's /<lang>/: development only.
DEMO_PAYMENT_PROVIDER = "demo-bank/pay"


class Config:
    """Embedded default: a SQLite file under instance/."""

    ENV_NAME = "development"
    DATABASE_URL = os.environ.get("REGISTRY_DATABASE_URL", DEV_DATABASE_URL)
    # Production runs on PostgreSQL; a small single-machine installation may choose SQLite by saying so.
    ALLOW_SQLITE = env_flag("REGISTRY_ALLOW_SQLITE")
    # Requests larger than this get a 413 problem before any parsing (imports are the largest bodies).
    MAX_CONTENT_LENGTH = env_int("REGISTRY_MAX_BODY_BYTES", 2 * 1024 * 1024, minimum=1)
    # Uploaded files may be larger than other bodies; each form question sets its own, lower limit.
    MAX_FILE_BYTES = env_int("REGISTRY_MAX_FILE_BYTES", 20 * 1024 * 1024, minimum=1)
    # How long clients and shared caches may reuse a catalogue response, and how long they may serve it stale.
    CACHE_MAX_AGE = env_int("REGISTRY_CACHE_MAX_AGE", 60)
    CACHE_STALE_IF_ERROR = env_int("REGISTRY_CACHE_STALE_IF_ERROR", 86400)
    # Used to build absolute identifiers in JSON-LD; defaults to the URL the request came in on.
    PUBLIC_BASE_URL = os.environ.get("REGISTRY_PUBLIC_BASE_URL", "")
    # Shared with the portal, which signs the identity of the signed-in person (X-Portal-Identity) with it.
    IDENTITY_SECRET = os.environ.get("REGISTRY_IDENTITY_SECRET", DEV_IDENTITY_SECRET)
    # Shared with the payment provider (in development: the portal's demonstration bank), which signs its callbacks
    # (X-Payment-Signature, HMAC-SHA256) and reads the payment state it is opened with. The default is for
    # development only: set REGISTRY_PAYMENT_SECRET (32+ random characters) anywhere else.
    PAYMENT_SECRET = os.environ.get("REGISTRY_PAYMENT_SECRET", DEV_PAYMENT_SECRET)
    # Where a person is sent to pay: a URL of the provider's page, or a path relative to the portal's language root
    # (the default, the portal's demonstration bank at /<lang>/demo-bank/pay).
    PAYMENT_PROVIDER_URL = os.environ.get("REGISTRY_PAYMENT_PROVIDER_URL", DEMO_PAYMENT_PROVIDER)
    # Notifications (docs/registry.md): the inbox always; email too once an SMTP server is configured.
    SMTP_HOST = os.environ.get("REGISTRY_SMTP_HOST", "")
    SMTP_PORT = env_int("REGISTRY_SMTP_PORT", 25, minimum=1)
    SMTP_STARTTLS = env_flag("REGISTRY_SMTP_STARTTLS")
    SMTP_USERNAME = os.environ.get("REGISTRY_SMTP_USERNAME", "")
    SMTP_PASSWORD = os.environ.get("REGISTRY_SMTP_PASSWORD", "")
    MAIL_FROM = os.environ.get("REGISTRY_MAIL_FROM", "noreply@localhost")
    NOTIFIERS = os.environ.get("REGISTRY_NOTIFIERS", "inbox,email" if SMTP_HOST else "inbox")
    # The outbox worker (docs/registry.md): `thread` in each registry process, or `off` when
    # `flask --app registry send-notifications --loop` runs apart; how often it looks, and how failures are retried.
    OUTBOX_WORKER = os.environ.get("REGISTRY_OUTBOX_WORKER", "thread")
    OUTBOX_INTERVAL_SECONDS = env_seconds("REGISTRY_OUTBOX_INTERVAL_SECONDS", 5)
    OUTBOX_MAX_ATTEMPTS = env_int("REGISTRY_OUTBOX_MAX_ATTEMPTS", 12, minimum=1)
    OUTBOX_RETRY_SECONDS = env_seconds("REGISTRY_OUTBOX_RETRY_SECONDS", 30)
    # How many proxies stand in front of gunicorn and append to X-Forwarded-For/-Proto (0: trust none).
    TRUSTED_PROXY_HOPS = env_int("REGISTRY_TRUSTED_PROXY_HOPS", 0)
    # Virus scanning of uploads (registry/antivirus.py), fail-closed: `clamd` (ClamAV's daemon, on a unix socket or
    # at host:port) or `off` (development and tests). Production refuses `off`; `off-unscanned` says on purpose that
    # files are stored without a scan. The timeout covers a whole scan: keep it below the portal's read timeout (5 s).
    ANTIVIRUS = os.environ.get("REGISTRY_ANTIVIRUS", "off").strip().lower()
    CLAMD_SOCKET = os.environ.get("REGISTRY_CLAMD_SOCKET", "")
    CLAMD_ADDRESS = os.environ.get("REGISTRY_CLAMD_ADDRESS", "")
    ANTIVIRUS_TIMEOUT_SECONDS = env_seconds("REGISTRY_ANTIVIRUS_TIMEOUT_SECONDS", 4)
    JSON_SORT_KEYS = False


class TestConfig(Config):
    """Tests pass their own database URL."""

    TESTING = True
    # Test registries get this through REGISTRY_IDENTITY_SECRET; tests sign identities with it.
    IDENTITY_SECRET = TEST_IDENTITY_SECRET


class ProductionConfig(Config):
    """Production (REGISTRY_ENV=production): refuses development secrets, SQLite unless allowed, debug, gaps."""

    ENV_NAME = "production"
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def check(cls, settings: Mapping[str, Any]) -> None:
        """Raise ConfigError (one line naming the variable) if the settings are unsafe or incomplete for production.

        `settings` is the app's config; a setting it lacks counts as this class's value.
        """

        def get(key: str) -> Any:
            return settings[key] if key in settings else getattr(cls, key, None)

        if get("DEBUG"):
            raise ConfigError("REGISTRY_ENV=production refuses debug (FLASK_DEBUG): the debugger runs any code sent")
        if get("TESTING"):
            raise ConfigError("REGISTRY_ENV=production refuses TESTING: errors would reach clients")
        _check_database(str(get("DATABASE_URL") or ""), bool(get("ALLOW_SQLITE")))
        if is_weak_secret(get("IDENTITY_SECRET")):
            raise ConfigError(
                "REGISTRY_ENV=production needs REGISTRY_IDENTITY_SECRET: 32+ random characters, the portal's value"
            )
        if is_weak_secret(get("PAYMENT_SECRET")):
            raise ConfigError(
                "REGISTRY_ENV=production needs REGISTRY_PAYMENT_SECRET: 32+ random characters, the provider's value"
            )
        if get("PAYMENT_SECRET") == get("IDENTITY_SECRET"):
            raise ConfigError(
                "REGISTRY_ENV=production needs REGISTRY_PAYMENT_SECRET different from REGISTRY_IDENTITY_SECRET"
            )
        if not is_http_url(get("PAYMENT_PROVIDER_URL"), https_only=True):
            raise ConfigError(
                "REGISTRY_ENV=production needs REGISTRY_PAYMENT_PROVIDER_URL: the provider's https page, "
                "not the demonstration bank"
            )
        if not is_http_url(get("PUBLIC_BASE_URL"), https_only=True):
            raise ConfigError(
                "REGISTRY_ENV=production needs REGISTRY_PUBLIC_BASE_URL: the registry's public https address"
            )
        _check_mail(get)
        _check_antivirus(get)


def _check_database(url: str, allow_sqlite: bool) -> None:
    """Refuse the development database, and SQLite unless REGISTRY_ALLOW_SQLITE says it is meant."""
    if not url or url == DEV_DATABASE_URL:
        raise ConfigError(
            "REGISTRY_ENV=production needs REGISTRY_DATABASE_URL, e.g. postgresql+psycopg://registry@db/registry"
        )
    if url.startswith("sqlite") and not allow_sqlite:
        raise ConfigError(
            "REGISTRY_ENV=production needs a PostgreSQL REGISTRY_DATABASE_URL (or REGISTRY_ALLOW_SQLITE=true "
            "for one machine)"
        )


def _check_mail(get: Any) -> None:
    """Refuse email that would go out from localhost, or an SMTP password sent without TLS."""
    if not get("SMTP_HOST"):
        return
    if str(get("MAIL_FROM") or "").rstrip(">").endswith("@localhost"):
        raise ConfigError("REGISTRY_ENV=production needs REGISTRY_MAIL_FROM: an address people can recognise")
    if get("SMTP_PASSWORD") and not get("SMTP_STARTTLS"):
        raise ConfigError("REGISTRY_ENV=production needs REGISTRY_SMTP_STARTTLS=true to send REGISTRY_SMTP_PASSWORD")


def _check_antivirus(get: Any) -> None:
    """Refuse production without a virus scanner, unless REGISTRY_ANTIVIRUS=off-unscanned says it is meant."""
    from registry.antivirus import OFF, scanner_from_settings

    if str(get("ANTIVIRUS") or OFF).strip().lower() == OFF:
        raise ConfigError(
            "REGISTRY_ENV=production needs REGISTRY_ANTIVIRUS=clamd (with REGISTRY_CLAMD_SOCKET or "
            "REGISTRY_CLAMD_ADDRESS), or REGISTRY_ANTIVIRUS=off-unscanned to store uploads unscanned on purpose"
        )
    scanner_from_settings({key: get(key) for key in ("ANTIVIRUS", "CLAMD_SOCKET", "CLAMD_ADDRESS")})


def config_for(name: str | None) -> type[Config]:
    """Return the config class named by REGISTRY_ENV (development, production); another name is a ConfigError."""
    classes: dict[str, type[Config]] = {"": Config, "development": Config, "production": ProductionConfig}
    if (name or "") not in classes:
        raise ConfigError(f"REGISTRY_ENV must be development or production, not {name!r}")
    return classes[name or ""]


def check_environment() -> None:
    """Check REGISTRY_ENV's settings without building the app: gunicorn's master runs it before starting workers."""
    from flask.helpers import get_debug_flag

    config_class = config_for(os.environ.get("REGISTRY_ENV"))
    if config_class is ProductionConfig:
        settings = {key: getattr(config_class, key) for key in dir(config_class) if key.isupper()}
        ProductionConfig.check({**settings, "DEBUG": get_debug_flag()})
