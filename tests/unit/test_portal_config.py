"""Production refuses unsafe settings; development and tests start with their defaults."""

from __future__ import annotations

import pytest

from app import create_app
from app.config import DEV_SECRET


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("REGISTRY_URL", "https://registry.example.lv")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SECRET_KEY": DEV_SECRET})
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SECRET_KEY": "short"})


def test_production_needs_a_registry_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.delenv("REGISTRY_URL", raising=False)
    with pytest.raises(RuntimeError, match="REGISTRY_URL"):
        create_app({"SECRET_KEY": "x" * 40})


def test_production_starts_with_safe_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("REGISTRY_URL", "https://registry.example.lv")
    app = create_app({"SECRET_KEY": "x" * 40, "REGISTRY_CACHE": "memory"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert not app.debug and not app.testing
