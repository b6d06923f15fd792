"""Production settings of both programs (docs/operations.md): every refusal, a complete start, the gunicorn files.

tests/unit/test_portal_config.py covers the portal's first refusals (default and short SECRET_KEY, REGISTRY_URL,
the identity secret, demonstration sign-in) and its session cookie; this file covers the rest and the registry.
"""

from __future__ import annotations

import os
import re
import runpy
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask, request, session

from app import create_app as create_portal
from app.config import DEV_PAYMENT_SECRET, DEV_SECRET, ConfigError, env_int
from app.config import ProductionConfig as PortalProduction
from registry import create_app as create_registry
from registry.config import DEV_DATABASE_URL, DEV_IDENTITY_SECRET
from registry.config import ConfigError as RegistryConfigError
from registry.config import ProductionConfig as RegistryProduction

ROOT = Path(__file__).resolve().parents[2]
# Real-looking secrets, one per purpose, made once per test session.
PORTAL_KEY = secrets.token_urlsafe(32)
IDENTITY = secrets.token_urlsafe(32)
PAYMENT = secrets.token_urlsafe(32)
PORTAL_SETTINGS: dict[str, Any] = {
    "SECRET_KEY": PORTAL_KEY,
    "IDENTITY_SECRET": IDENTITY,
    "REGISTRY_CACHE": "memory",
    "TRUSTED_PROXY_HOPS": 1,
}
# Variables of the programs, removed from the environment of the processes these tests start.
PROGRAM_VARIABLES = ("PORTAL_ENV", "SECRET_KEY", "SECRET_KEY_FALLBACKS", "FLASK_DEBUG", "SIGN_IN", "TRUSTED_PROXY_HOPS")


@pytest.fixture
def production_portal(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """PORTAL_ENV=production with a registry URL in the environment, as a deployment has it."""
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("REGISTRY_URL", "https://registry.example.lv")
    yield


def registry_settings(tmp_path: Path, **changes: Any) -> dict[str, Any]:
    """Return a complete production configuration of the registry (SQLite, explicitly allowed) with `changes`."""
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'registry.sqlite3'}",
        "ALLOW_SQLITE": True,
        "IDENTITY_SECRET": IDENTITY,
        "PAYMENT_SECRET": PAYMENT,
        "PAYMENT_PROVIDER_URL": "https://maksajumi.example.lv/pay",
        "PUBLIC_BASE_URL": "https://registry.example.lv",
        "TRUSTED_PROXY_HOPS": 1,
        "ANTIVIRUS": "clamd",
        "CLAMD_SOCKET": "/run/clamav/clamd.ctl",
        **changes,
    }


def refusal(error: pytest.ExceptionInfo[RuntimeError], variable: str) -> str:
    """Return the message of a refusal, checking it is one line naming `variable`."""
    message = str(error.value)
    assert variable in message
    assert "\n" not in message
    return message


# -- the portal ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"DEBUG": True}, "FLASK_DEBUG"),
        ({"TESTING": True}, "TESTING"),
        ({"SECRET_KEY": "test-secret-not-for-production"}, "SECRET_KEY"),
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "x" * 31}, "SECRET_KEY"),
        ({"SECRET_KEY": "change-me-not-for-production-" + "x" * 20}, "SECRET_KEY"),
        ({"SECRET_KEY_FALLBACKS": ["short"]}, "SECRET_KEY_FALLBACKS"),
        ({"SECRET_KEY_FALLBACKS": [DEV_SECRET]}, "SECRET_KEY_FALLBACKS"),
        ({"SECRET_KEY_FALLBACKS": [PORTAL_KEY]}, "SECRET_KEY_FALLBACKS different from SECRET_KEY"),
        ({"IDENTITY_SECRET": "test-identity-secret-not-for-production"}, "REGISTRY_IDENTITY_SECRET"),
        ({"IDENTITY_SECRET": DEV_IDENTITY_SECRET}, "REGISTRY_IDENTITY_SECRET"),
        ({"PAYMENT_SECRET": DEV_PAYMENT_SECRET}, "REGISTRY_PAYMENT_SECRET"),
        ({"PAYMENT_SECRET": "short"}, "REGISTRY_PAYMENT_SECRET"),
        ({"PAYMENT_SECRET": IDENTITY}, "REGISTRY_PAYMENT_SECRET different from REGISTRY_IDENTITY_SECRET"),
        ({"PAYMENT_SECRET": PORTAL_KEY}, "REGISTRY_PAYMENT_SECRET different from SECRET_KEY"),
        ({"DEMO_PAYMENTS": True}, "DEMO_PAYMENTS"),
        ({"SESSION_COOKIE_SECURE": False}, "SESSION_COOKIE_SECURE"),
        ({"SESSION_COOKIE_HTTPONLY": False}, "SESSION_COOKIE_HTTPONLY"),
        ({"SESSION_COOKIE_NAME": "session"}, "SESSION_COOKIE_NAME"),
        ({"SESSION_COOKIE_DOMAIN": "example.lv"}, "SESSION_COOKIE_DOMAIN"),
        ({"SESSION_COOKIE_PATH": "/lv"}, "SESSION_COOKIE_PATH"),
        ({"SESSION_COOKIE_SAMESITE": None}, "SESSION_COOKIE_SAMESITE"),
        ({"SESSION_COOKIE_SAMESITE": "None"}, "SESSION_COOKIE_PARTITIONED"),
        ({"WTF_CSRF_ENABLED": False}, "WTF_CSRF_ENABLED"),
        ({"REGISTRY_URL": "registry.example.lv"}, "REGISTRY_URL"),
    ],
)
@pytest.mark.usefixtures("production_portal")
def test_the_portal_refuses_an_unsafe_setting(changes: dict[str, Any], variable: str) -> None:
    with pytest.raises(ConfigError) as error:
        create_portal({**PORTAL_SETTINGS, **changes})
    assert refusal(error, variable).startswith("PORTAL_ENV=production")


@pytest.mark.usefixtures("production_portal")
def test_the_portal_refuses_debug_switched_on_by_flask_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(ConfigError) as error:
        create_portal(PORTAL_SETTINGS)
    refusal(error, "FLASK_DEBUG")


@pytest.mark.usefixtures("production_portal")
def test_the_portal_refuses_a_registry_url_that_is_not_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_URL", "file:///etc/passwd")
    with pytest.raises(ConfigError) as error:
        create_portal(PORTAL_SETTINGS)
    refusal(error, "REGISTRY_URL")


@pytest.mark.usefixtures("production_portal")
def test_the_portal_refuses_to_start_without_pdf_fonts(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        create_portal({**PORTAL_SETTINGS, "PDF_FONT_DIR": str(tmp_path)})
    assert "DejaVuSans.ttf" in refusal(error, "PDF_FONT_DIR")


def test_an_unknown_portal_env_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_ENV", "prod")
    with pytest.raises(ConfigError) as error:
        create_portal(PORTAL_SETTINGS)
    refusal(error, "PORTAL_ENV")


def test_a_number_setting_that_is_not_a_number_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "twenty")
    with pytest.raises(ConfigError) as error:
        env_int("SESSION_IDLE_MINUTES", 20, minimum=1)
    refusal(error, "SESSION_IDLE_MINUTES")
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "0")
    with pytest.raises(ConfigError):
        env_int("SESSION_IDLE_MINUTES", 20, minimum=1)


@pytest.mark.usefixtures("production_portal")
def test_a_complete_production_portal_starts_safe() -> None:
    app = create_portal(PORTAL_SETTINGS)
    assert not app.debug and not app.testing
    assert app.config["PREFERRED_URL_SCHEME"] == "https"
    assert app.config["DEMO_SIGN_IN"] is False and app.config["DEMO_PAYMENTS"] is False
    assert app.config["PAYMENT_SECRET"] == ""  # the portal takes no payments: the registry's provider does
    # A cross-site cookie is allowed for embedded flows when it is partitioned (CHIPS).
    create_portal({**PORTAL_SETTINGS, "SESSION_COOKIE_SAMESITE": "None", "SESSION_COOKIE_PARTITIONED": True})


def probe(app: Flask) -> None:
    """Add a route that reports what the app believes about the client."""

    @app.get("/client-probe")
    def client_probe() -> dict[str, str | None]:
        return {"addr": request.remote_addr, "scheme": request.scheme}


@pytest.mark.usefixtures("production_portal")
def test_the_portal_believes_as_many_forwarded_values_as_it_has_proxies() -> None:
    app = create_portal({**PORTAL_SETTINGS, "TRUSTED_PROXY_HOPS": 1})
    probe(app)
    # The client forged 6.6.6.6; the load balancer appended the address it saw.
    headers = {"X-Forwarded-For": "6.6.6.6, 203.0.113.7", "X-Forwarded-Proto": "https", "Host": "localhost"}
    answer = app.test_client().get("/client-probe", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert answer.json == {"addr": "203.0.113.7", "scheme": "https"}


@pytest.mark.usefixtures("production_portal")
def test_rate_limits_count_the_address_the_app_believes() -> None:
    """One setting, TRUSTED_PROXY_HOPS, decides the client's address for the app and for the rate limits alike."""
    from app.limits import client_address

    app = create_portal({**PORTAL_SETTINGS, "TRUSTED_PROXY_HOPS": 2})

    @app.get("/limit-probe")
    def limit_probe() -> str:
        return client_address()

    headers = {"X-Forwarded-For": "6.6.6.6, 198.51.100.4, 10.0.0.9", "Host": "localhost"}
    answer = app.test_client().get("/limit-probe", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert answer.text == "198.51.100.4"


def test_without_trusted_proxies_forwarded_headers_are_ignored() -> None:
    app = create_portal({**PORTAL_SETTINGS, "TRUSTED_PROXY_HOPS": 0})
    probe(app)
    headers = {"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https", "Host": "localhost"}
    answer = app.test_client().get("/client-probe", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert answer.json == {"addr": "10.0.0.2", "scheme": "http"}


@pytest.mark.usefixtures("production_portal")
def test_secret_key_rotation_keeps_people_signed_in() -> None:
    """Flask 3.1's SECRET_KEY_FALLBACKS: a cookie signed with the old key is still read after the key changes."""
    old, new = secrets.token_urlsafe(32), secrets.token_urlsafe(32)

    def portal(key: str, fallbacks: list[str]) -> Flask:
        app = create_portal({**PORTAL_SETTINGS, "SECRET_KEY": key, "SECRET_KEY_FALLBACKS": fallbacks})

        @app.get("/remember")
        def remember() -> str:
            session["probe"] = "kept"
            return "ok"

        @app.get("/recall")
        def recall() -> str:
            return str(session.get("probe"))

        return app

    before = portal(old, []).test_client()
    before.get("/remember", base_url="https://localhost")
    cookie = before.get_cookie("__Host-session")
    assert cookie is not None
    for fallbacks, expected in (([old], "kept"), ([], "None")):
        after = portal(new, fallbacks).test_client()
        after.set_cookie("__Host-session", cookie.value, domain="localhost", secure=True)
        assert after.get("/recall", base_url="https://localhost").text == expected


def clean_environment(**variables: str) -> dict[str, str]:
    """Return this process's environment without the programs' own variables, plus `variables`."""
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("REGISTRY_", "OIDC_")) and key not in PROGRAM_VARIABLES
    }
    return {**kept, **variables}


def check_in_process(module: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `<module>.check_environment()` in a fresh interpreter, as gunicorn's master does."""
    code = f"from {module} import check_environment; check_environment(); print('ok')"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=60
    )


def test_check_environment_reads_the_settings_from_the_environment() -> None:
    complete = clean_environment(
        PORTAL_ENV="production",
        REGISTRY_URL="https://registry.example.lv",
        SECRET_KEY=PORTAL_KEY,
        REGISTRY_IDENTITY_SECRET=IDENTITY,
    )
    assert check_in_process("app.config", complete).stdout.strip() == "ok"
    refused = check_in_process("app.config", {**complete, "SECRET_KEY": DEV_SECRET})
    assert refused.returncode == 1
    assert "PORTAL_ENV=production needs SECRET_KEY" in refused.stderr


# -- the registry ----------------------------------------------------------------------------------------------------


@pytest.fixture
def production_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_ENV", "production")


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"DEBUG": True}, "FLASK_DEBUG"),
        ({"TESTING": True}, "TESTING"),
        ({"DATABASE_URL": DEV_DATABASE_URL}, "REGISTRY_DATABASE_URL"),
        ({"DATABASE_URL": ""}, "REGISTRY_DATABASE_URL"),
        ({"ALLOW_SQLITE": False}, "REGISTRY_ALLOW_SQLITE"),
        ({"IDENTITY_SECRET": DEV_IDENTITY_SECRET}, "REGISTRY_IDENTITY_SECRET"),
        ({"IDENTITY_SECRET": "test-identity-secret-not-for-production"}, "REGISTRY_IDENTITY_SECRET"),
        ({"IDENTITY_SECRET": "i" * 31}, "REGISTRY_IDENTITY_SECRET"),
        ({"PAYMENT_SECRET": DEV_PAYMENT_SECRET}, "REGISTRY_PAYMENT_SECRET"),
        ({"PAYMENT_SECRET": ""}, "REGISTRY_PAYMENT_SECRET"),
        ({"PAYMENT_SECRET": IDENTITY}, "REGISTRY_PAYMENT_SECRET different from REGISTRY_IDENTITY_SECRET"),
        ({"PAYMENT_PROVIDER_URL": "demo-bank/pay"}, "REGISTRY_PAYMENT_PROVIDER_URL"),
        ({"PAYMENT_PROVIDER_URL": "http://maksajumi.example.lv/pay"}, "REGISTRY_PAYMENT_PROVIDER_URL"),
        ({"PUBLIC_BASE_URL": ""}, "REGISTRY_PUBLIC_BASE_URL"),
        ({"PUBLIC_BASE_URL": "http://registry.example.lv"}, "REGISTRY_PUBLIC_BASE_URL"),
        ({"SMTP_HOST": "smtp.example.lv"}, "REGISTRY_MAIL_FROM"),  # From: noreply@localhost
        (
            {"SMTP_HOST": "smtp.example.lv", "MAIL_FROM": "pazinojumi@example.lv", "SMTP_PASSWORD": "p"},
            "REGISTRY_SMTP_STARTTLS",
        ),
        ({"ANTIVIRUS": "off"}, "REGISTRY_ANTIVIRUS=clamd"),  # tests/unit/test_antivirus.py: the other settings
    ],
)
@pytest.mark.usefixtures("production_registry")
def test_the_registry_refuses_an_unsafe_setting(tmp_path: Path, changes: dict[str, Any], variable: str) -> None:
    with pytest.raises(RegistryConfigError) as error:
        create_registry(registry_settings(tmp_path, **changes))
    assert refusal(error, variable).startswith("REGISTRY_ENV=production")


@pytest.mark.usefixtures("production_registry")
def test_the_registry_refuses_debug_switched_on_by_flask_debug(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(RegistryConfigError) as error:
        create_registry(registry_settings(tmp_path))
    refusal(error, "FLASK_DEBUG")


def test_an_unknown_registry_env_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_ENV", "live")
    with pytest.raises(RegistryConfigError) as error:
        create_registry(registry_settings(tmp_path))
    refusal(error, "REGISTRY_ENV")


def test_postgresql_needs_no_permission() -> None:
    settings = registry_settings(Path("/nonexistent"), DATABASE_URL="postgresql+psycopg://registry@db/registry")
    RegistryProduction.check({**settings, "ALLOW_SQLITE": False})


@pytest.mark.usefixtures("production_registry")
def test_a_complete_production_registry_starts(tmp_path: Path) -> None:
    app = create_registry(registry_settings(tmp_path, SMTP_HOST="smtp.example.lv", MAIL_FROM="p@example.lv"))
    assert not app.debug and not app.testing
    assert app.config["ENV_NAME"] == "production"
    probe(app)
    assert app.test_client().get("/api/v1/openapi.json").status_code == 200
    headers = {"X-Forwarded-For": "6.6.6.6, 192.0.2.10", "X-Forwarded-Proto": "https"}
    answer = app.test_client().get("/client-probe", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.3"})
    assert answer.json == {"addr": "192.0.2.10", "scheme": "https"}


def test_registry_check_environment_reads_the_environment(tmp_path: Path) -> None:
    complete = clean_environment(
        REGISTRY_ENV="production",
        REGISTRY_DATABASE_URL="postgresql+psycopg://registry@db/registry",
        REGISTRY_IDENTITY_SECRET=IDENTITY,
        REGISTRY_PAYMENT_SECRET=PAYMENT,
        REGISTRY_PAYMENT_PROVIDER_URL="https://maksajumi.example.lv/pay",
        REGISTRY_PUBLIC_BASE_URL="https://registry.example.lv",
        REGISTRY_ANTIVIRUS="clamd",
        REGISTRY_CLAMD_ADDRESS="clamav.internal:3310",
    )
    assert check_in_process("registry.config", complete).stdout.strip() == "ok"
    unscanned = {**complete, "REGISTRY_ANTIVIRUS": "off"}
    assert "REGISTRY_ANTIVIRUS=clamd" in check_in_process("registry.config", unscanned).stderr
    sqlite = {**complete, "REGISTRY_DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite3'}"}
    assert "REGISTRY_ALLOW_SQLITE" in check_in_process("registry.config", sqlite).stderr
    allowed = {**sqlite, "REGISTRY_ALLOW_SQLITE": "true"}
    assert check_in_process("registry.config", allowed).stdout.strip() == "ok"


def test_both_programs_agree_on_the_development_secrets_production_refuses() -> None:
    from app.config import DEV_IDENTITY_SECRET as PORTAL_DEV_IDENTITY
    from app.config import KNOWN_SECRETS
    from registry.config import DEV_PAYMENT_SECRET as REGISTRY_DEV_PAYMENT
    from registry.config import TEST_IDENTITY_SECRET

    assert PORTAL_DEV_IDENTITY == DEV_IDENTITY_SECRET
    assert REGISTRY_DEV_PAYMENT == DEV_PAYMENT_SECRET
    assert {DEV_IDENTITY_SECRET, DEV_PAYMENT_SECRET, TEST_IDENTITY_SECRET} <= KNOWN_SECRETS
    assert PortalProduction.DEMO_SIGN_IN is False and PortalProduction.DEMO_PAYMENTS is False


# -- gunicorn --------------------------------------------------------------------------------------------------------


def load_gunicorn(path: str, monkeypatch: pytest.MonkeyPatch, **env: str) -> SimpleNamespace:
    """Load a gunicorn config file with `env` and pass each setting through gunicorn's own validation."""
    from gunicorn.config import Config as GunicornConfig

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    namespace = runpy.run_path(str(ROOT / path))
    config = GunicornConfig()
    for name, value in namespace.items():
        if name in config.settings:
            config.set(name, value)
    return SimpleNamespace(**{name: config.settings[name].get() for name in config.settings}, raw=namespace)


PORTAL_GUNICORN_ENV = {
    "PORTAL_BIND": "0.0.0.0:8000",
    "PORTAL_WORKERS": "5",
    "PORTAL_THREADS": "8",
    "PORTAL_WORKER_TIMEOUT": "40",
    "PORTAL_GRACEFUL_TIMEOUT": "25",
    "PORTAL_KEEPALIVE": "75",
    "PORTAL_MAX_REQUESTS": "1000",
    "PORTAL_PRELOAD": "true",
    "PORTAL_WORKER_TMP_DIR": "/run/portal",
    "PORTAL_ACCESS_LOG": "/var/log/portal/access.log",
    "FORWARDED_ALLOW_IPS": "10.0.0.0/8",
}


def test_the_portal_gunicorn_config_takes_production_values_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conf = load_gunicorn("gunicorn.conf.py", monkeypatch, **PORTAL_GUNICORN_ENV)
    assert conf.bind == ["0.0.0.0:8000"]
    assert (conf.workers, conf.threads, conf.worker_class) == (5, 8, "gthread")
    assert (conf.timeout, conf.graceful_timeout, conf.keepalive) == (40, 25, 75)
    assert (conf.max_requests, conf.max_requests_jitter) == (1000, 100)
    assert conf.preload_app is True
    assert conf.worker_tmp_dir == "/run/portal"
    assert conf.accesslog == "/var/log/portal/access.log"
    assert conf.forwarded_allow_ips == ["10.0.0.0/8"]
    assert conf.control_socket_disable is True


def test_the_portal_gunicorn_config_defaults_suit_make_run(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*PORTAL_GUNICORN_ENV, "PORT"):
        monkeypatch.delenv(name, raising=False)
    conf = load_gunicorn("gunicorn.conf.py", monkeypatch, PORT="5123")
    assert conf.bind == ["127.0.0.1:5123"]
    assert (conf.workers, conf.threads, conf.timeout) == (2, 4, 30)
    assert conf.preload_app is False
    assert conf.accesslog == "-"


def test_a_bad_number_in_a_gunicorn_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RuntimeError, match="PORTAL_WORKERS"):
        load_gunicorn("gunicorn.conf.py", monkeypatch, PORTAL_WORKERS="many")
    with pytest.raises(RuntimeError, match="REGISTRY_WORKER_TIMEOUT"):
        load_gunicorn("registry/gunicorn.conf.py", monkeypatch, REGISTRY_WORKER_TIMEOUT="600")


def test_the_registry_is_not_preloaded_with_a_delivery_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """registry/wsgi.py starts the outbox thread on import: preloaded, it would run in the master only."""
    monkeypatch.delenv("REGISTRY_OUTBOX_WORKER", raising=False)
    with pytest.raises(RuntimeError, match="REGISTRY_OUTBOX_WORKER=off"):
        load_gunicorn("registry/gunicorn.conf.py", monkeypatch, REGISTRY_PRELOAD="true")


def test_the_portal_gives_up_on_the_registry_before_gunicorn_gives_up_on_the_portal(
    production_portal: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PORTAL_WORKER_TIMEOUT", raising=False)
    conf = load_gunicorn("gunicorn.conf.py", monkeypatch)
    app = create_portal(PORTAL_SETTINGS)
    for name in ("registry_client", "applications_client", "staff_client", "messages_client", "payments_client"):
        assert app.extensions[name].worst_case_seconds < conf.timeout, name


def test_the_registry_gunicorn_config_takes_production_values_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from registry.models.idempotency import CLAIM_LEASE

    conf = load_gunicorn(
        "registry/gunicorn.conf.py",
        monkeypatch,
        REGISTRY_BIND="0.0.0.0:8001,unix:/run/registry.sock",
        REGISTRY_WORKERS="9",
        REGISTRY_THREADS="1",
        REGISTRY_WORKER_TIMEOUT="30",
        REGISTRY_PRELOAD="true",
        REGISTRY_OUTBOX_WORKER="off",
        REGISTRY_ACCESS_LOG="",
    )
    assert conf.bind == ["0.0.0.0:8001", "unix:/run/registry.sock"]
    assert (conf.workers, conf.threads, conf.timeout) == (9, 1, 30)
    assert conf.preload_app is True
    assert conf.accesslog is None  # empty: no access log
    assert conf.limit_request_line == 8190  # longer request lines: 414 from gunicorn (docs/registry.md)
    # A request never outlives an idempotency claim: a live request's claim is never taken over.
    assert conf.raw["IDEMPOTENCY_CLAIM_LEASE"] == CLAIM_LEASE.total_seconds()
    assert conf.timeout * 2 <= CLAIM_LEASE.total_seconds()


def test_request_size_limits_are_consistent() -> None:
    from app.config import Config as PortalConfig
    from app.views.applications import REGISTRY_FILE_LIMIT_MB
    from registry.config import Config as RegistryConfig

    # A file the registry would take fits in a portal page; the portal's own message names the registry's limit.
    assert PortalConfig.MAX_CONTENT_LENGTH >= RegistryConfig.MAX_FILE_BYTES
    if "REGISTRY_MAX_FILE_BYTES" not in os.environ:
        assert REGISTRY_FILE_LIMIT_MB * 1024 * 1024 == RegistryConfig.MAX_FILE_BYTES


@pytest.mark.parametrize("path", ["gunicorn.conf.py", "registry/gunicorn.conf.py"])
def test_the_access_log_keeps_no_personal_data(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = load_gunicorn(path, monkeypatch)
    for atom in ("%(h)s", "%(q)s", "%(r)s", "%(f)s", "%(a)s", "%(u)s"):  # address, query, request line, referrer...
        assert atom not in conf.access_log_format
    logger = conf.logger_class(conf_for_logger(path, monkeypatch))
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/lv/verify/ABCD-EFGH-JKLM?x=1",
        "PATH_INFO": "/lv/verify/ABCD-EFGH-JKLM",
        "QUERY_STRING": "q=010101-12345",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
    }
    request_time = SimpleNamespace(seconds=0, microseconds=1500)
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])
    atoms = logger.atoms(response, [("X-REQUEST-ID", "abc123")], environ, request_time)
    assert atoms["U"] == "/lv/verify/[code]"
    assert atoms["{x-request-id}i"] == "abc123"
    forged = {**environ, "PATH_INFO": "/lv/services/x\r\n[01/Jan/2026] forged"}
    atoms = logger.atoms(response, [("X-REQUEST-ID", "a b\nc")], forged, request_time)
    assert "\n" not in atoms["U"] and "\r" not in atoms["U"] and "\\x0a" in atoms["U"]
    assert atoms["{x-request-id}i"] == "-"


def conf_for_logger(path: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Return a gunicorn Config loaded from `path`, for building its logger."""
    from gunicorn.config import Config as GunicornConfig

    config = GunicornConfig()
    for name, value in runpy.run_path(str(ROOT / path)).items():
        if name in config.settings:
            config.set(name, value)
    config.set("accesslog", None)  # nothing written: the test reads atoms only
    return config


@pytest.mark.parametrize(
    ("conf", "app", "env", "message"),
    [
        ("gunicorn.conf.py", "wsgi:app", {"PORTAL_ENV": "production"}, "PORTAL_ENV=production needs SECRET_KEY"),
        (
            "registry/gunicorn.conf.py",
            "registry.wsgi:app",
            {"REGISTRY_ENV": "production"},
            "REGISTRY_ENV=production needs REGISTRY_DATABASE_URL",
        ),
    ],
)
def test_gunicorn_refuses_to_start_with_one_line(conf: str, app: str, env: dict[str, str], message: str) -> None:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    result = subprocess.run(
        [str(gunicorn), "-c", conf, "--bind", "127.0.0.1:0", app],
        cwd=ROOT,
        env=clean_environment(**env),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"Error: {message}" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Booting worker" not in result.stderr  # refused in the master, before any worker


def test_a_flask_command_refuses_with_one_line() -> None:
    """`flask --app registry purge` from cron: a refused setting is one line in the cron mail."""
    flask = Path(sys.executable).with_name("flask")
    result = subprocess.run(
        [str(flask), "--app", "registry", "purge"],
        cwd=ROOT,
        env=clean_environment(REGISTRY_ENV="production"),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: REGISTRY_ENV=production needs REGISTRY_DATABASE_URL, " + (
        "e.g. postgresql+psycopg://registry@db/registry"
    )


# -- documentation ---------------------------------------------------------------------------------------------------

ENV_READ = re.compile(
    r"""(?:os\.environ\.get|os\.getenv|env_int|env_list|env_flag|_number)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
    r"""|os\.environ\[\s*["']([A-Z][A-Z0-9_]*)["']\s*\]"""
)
PROGRAM_FILES = ("app", "registry", "identity", "forms", "gunicorn.conf.py", "wsgi.py")


def variables_read_by_the_programs() -> set[str]:
    """Return every environment variable the code of both programs reads (tests and benchmarks aside)."""
    found: set[str] = set()
    for entry in PROGRAM_FILES:
        path = ROOT / entry
        for source in [path] if path.is_file() else sorted(path.rglob("*.py")):
            for match in ENV_READ.finditer(source.read_text(encoding="utf-8")):
                found.add(match.group(1) or match.group(2))
    return found


def variables_in_the_operations_table() -> set[str]:
    """Return the names in the first column of the environment variable table of docs/operations.md."""
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = text.split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", line.split("|")[1]))
    return names


def test_every_environment_variable_is_in_docs_operations() -> None:
    read = variables_read_by_the_programs()
    assert {"SECRET_KEY", "REGISTRY_DATABASE_URL", "PORTAL_WORKERS", "REGISTRY_BIND"} <= read  # the scan works
    assert read - variables_in_the_operations_table() == set(), "document these in docs/operations.md"
