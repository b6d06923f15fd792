"""Portal settings, read from the environment; production refuses unsafe defaults."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-only-not-secret"  # noqa: S105 - refused by ProductionConfig


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
    WTF_CSRF_TIME_LIMIT = None
    MAX_SEARCH_LENGTH = 200
    PER_PAGE = 20
    STRICT_TEMPLATES = True


class TestConfig(Config):
    """Tests: obviously fake values; the registry URL comes from the test fixture."""

    TESTING = True
    SECRET_KEY = "test-secret-not-for-production"  # noqa: S105
    REGISTRY_CACHE = "memory"
    REGISTRY_TIMEOUT = (1.0, 2.0)
    REGISTRY_RETRIES = 0


class ProductionConfig(Config):
    """Production: refuses to start with a default secret or without a registry URL."""

    ENV_NAME = "production"
    STRICT_TEMPLATES = False
    SESSION_COOKIE_SECURE = True

    @classmethod
    def check(cls, settings: dict[str, Any]) -> None:
        """Raise if the settings are unsafe for production."""
        if not settings.get("SECRET_KEY") or settings["SECRET_KEY"] == DEV_SECRET or len(settings["SECRET_KEY"]) < 32:
            raise RuntimeError("PORTAL_ENV=production needs SECRET_KEY: at least 32 random characters")
        if not os.environ.get("REGISTRY_URL"):
            raise RuntimeError("PORTAL_ENV=production needs REGISTRY_URL")


def config_for(name: str | None) -> type[Config]:
    """Return the config class named by PORTAL_ENV (development, production)."""
    return {"production": ProductionConfig}.get(name or "", Config)
