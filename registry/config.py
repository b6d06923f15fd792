"""Registry settings, read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


class Config:
    """Embedded default: a SQLite file under instance/."""

    DATABASE_URL = os.environ.get("REGISTRY_DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'registry.sqlite3'}")
    # Requests larger than this get a 413 problem before any parsing (imports are the largest bodies).
    MAX_CONTENT_LENGTH = int(os.environ.get("REGISTRY_MAX_BODY_BYTES", str(2 * 1024 * 1024)))
    # Uploaded files may be larger than other bodies; each form question sets its own, lower limit.
    MAX_FILE_BYTES = int(os.environ.get("REGISTRY_MAX_FILE_BYTES", str(20 * 1024 * 1024)))
    # How long clients and shared caches may reuse a catalogue response, and how long they may serve it stale.
    CACHE_MAX_AGE = int(os.environ.get("REGISTRY_CACHE_MAX_AGE", "60"))
    CACHE_STALE_IF_ERROR = int(os.environ.get("REGISTRY_CACHE_STALE_IF_ERROR", "86400"))
    # Used to build absolute identifiers in JSON-LD; defaults to the URL the request came in on.
    PUBLIC_BASE_URL = os.environ.get("REGISTRY_PUBLIC_BASE_URL", "")
    # Shared with the portal, which signs the identity of the signed-in person (X-Portal-Identity) with it.
    IDENTITY_SECRET = os.environ.get("REGISTRY_IDENTITY_SECRET", "dev-identity-secret-not-for-production")
    # Shared with the payment provider (in development: the portal's demonstration bank), which signs its callbacks
    # (X-Payment-Signature, HMAC-SHA256) and reads the payment state it is opened with. The default is for
    # development only: set REGISTRY_PAYMENT_SECRET (32+ random characters) anywhere else.
    PAYMENT_SECRET = os.environ.get("REGISTRY_PAYMENT_SECRET", "dev-payment-secret-not-for-production")
    # Where a person is sent to pay: a URL of the provider's page, or a path relative to the portal's language root
    # (the default, the portal's demonstration bank at /<lang>/demo-bank/pay).
    PAYMENT_PROVIDER_URL = os.environ.get("REGISTRY_PAYMENT_PROVIDER_URL", "demo-bank/pay")
    # Notifications (docs/registry.md): the inbox always; email too once an SMTP server is configured.
    SMTP_HOST = os.environ.get("REGISTRY_SMTP_HOST", "")
    SMTP_PORT = int(os.environ.get("REGISTRY_SMTP_PORT", "25"))
    SMTP_STARTTLS = os.environ.get("REGISTRY_SMTP_STARTTLS", "false").lower() == "true"
    SMTP_USERNAME = os.environ.get("REGISTRY_SMTP_USERNAME", "")
    SMTP_PASSWORD = os.environ.get("REGISTRY_SMTP_PASSWORD", "")
    MAIL_FROM = os.environ.get("REGISTRY_MAIL_FROM", "noreply@localhost")
    NOTIFIERS = os.environ.get("REGISTRY_NOTIFIERS", "inbox,email" if SMTP_HOST else "inbox")
    JSON_SORT_KEYS = False


class TestConfig(Config):
    """Tests pass their own database URL."""

    TESTING = True
    # Test registries get this through REGISTRY_IDENTITY_SECRET; tests sign identities with it.
    IDENTITY_SECRET = "test-identity-secret-not-for-production"  # noqa: S105 -- a fake value, for tests only
