"""Production refuses unsafe settings; development and tests start with their defaults."""

from __future__ import annotations

import os

import pytest

from app import create_app
from app.config import DEV_IDENTITY_SECRET, DEV_SECRET

SAFE = {"SECRET_KEY": "x" * 40, "IDENTITY_SECRET": "i" * 40, "REGISTRY_CACHE": "memory"}


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
    app = create_app(SAFE)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert not app.debug and not app.testing
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["DEMO_SIGN_IN"] is False
    # No provider yet in production: no sign-in routes, so nobody can reach the demonstration.
    assert "auth.sign_in" not in app.view_functions


def test_production_session_cookie_is_host_only_secure_and_http_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("REGISTRY_URL", "https://registry.example.lv")
    app = create_app(SAFE)

    @app.get("/cookie-probe")
    def probe() -> str:
        from flask import session

        session["probe"] = True
        return "ok"

    response = app.test_client().get("/cookie-probe", base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie  # a __Host- cookie must not name a domain, or browsers drop it


def test_production_refuses_demonstration_sign_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("REGISTRY_URL", "https://registry.example.lv")
    with pytest.raises(RuntimeError, match="DEMO_SIGN_IN"):
        create_app({**SAFE, "DEMO_SIGN_IN": True})


@pytest.mark.parametrize("secret", [DEV_IDENTITY_SECRET, "", "short", "x" * 40])
def test_production_refuses_a_default_short_or_reused_identity_secret(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("REGISTRY_URL", "https://registry.example.lv")
    with pytest.raises(RuntimeError, match="REGISTRY_IDENTITY_SECRET"):
        create_app({**SAFE, "IDENTITY_SECRET": secret})  # "x" * 40 is the SECRET_KEY too


def test_development_and_test_portals_agree_with_their_registries() -> None:
    from app.config import Config, TestConfig
    from registry.config import TestConfig as RegistryTestConfig

    assert Config.DEMO_SIGN_IN is True and TestConfig.DEMO_SIGN_IN is True
    # The same default as registry/config.py, so `make run` works without settings.
    assert DEV_IDENTITY_SECRET == "dev-identity-secret-not-for-production"
    assert RegistryTestConfig.IDENTITY_SECRET == TestConfig.IDENTITY_SECRET
    if "SESSION_IDLE_MINUTES" not in os.environ:
        assert Config.SESSION_IDLE_MINUTES == 20
