"""The production shape on one machine: two portal instances (gunicorn) sharing Redis, over a registry on PostgreSQL.

A person signs in on one instance, continues the draft on the other and submits on the first, as a load balancer
without sticky sessions would send them; the result is the same as on a single instance. Signing out on one instance
ends the session on both. Everything here is a real process: redis-server, PostgreSQL, two gunicorn portals and the
gunicorn registry (tests/fixtures/redis_server.py, postgres.py, registry_server.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from app.limits import LIMIT_SETTINGS
from registry.config import TestConfig as RegistryTestConfig
from tests.fixtures.applications import demo_claims, who
from tests.fixtures.oidc_provider import callbacks, start_oidc_provider
from tests.fixtures.postgres import PostgresServer
from tests.fixtures.redis_server import RedisProcess
from tests.fixtures.registry_server import RegistryProcess, free_port, start_registry, stop_process, wait_until_healthy
from tests.integration.test_portal_sign_in import csrf_token

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SERVICE = "e-adreses-izveide"
PERSON = "girts-kalnins"  # demo people (app/auth/demo_people.toml); nobody else applies for the e-address as him here
SECRET_KEY = "two-instances-secret-key-for-this-test-only-0123456789"


@pytest.fixture(scope="module")
def pg_registry(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    """The registry on a fresh PostgreSQL database, trusting the portals' signed identities."""
    env = {"REGISTRY_IDENTITY_SECRET": RegistryTestConfig.IDENTITY_SECRET}
    yield from start_registry(
        tmp_path_factory.mktemp("pg-registry"), env=env, database_url=postgres.create_database("two_instances")
    )


def start_portal(
    tmp: Path, registry_url: str, redis_url: str, port: int | None = None, **settings: str
) -> tuple[str, subprocess.Popen[bytes]]:
    """One portal instance: gunicorn with two workers, its cache, sessions, breaker and limits in Redis."""
    port = port or free_port()
    env = {
        **os.environ,
        "SECRET_KEY": SECRET_KEY,  # the same on every instance, as in production
        "REGISTRY_URL": registry_url,
        "REGISTRY_IDENTITY_SECRET": RegistryTestConfig.IDENTITY_SECRET,
        "REDIS_URL": redis_url,
        "PORTAL_WORKERS": "2",
        **{setting: "100000/minute" for setting in LIMIT_SETTINGS},
        **settings,
    }
    log_path = tmp / f"portal-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, log_path)
    except BaseException:
        stop_process(process)
        raise
    return url, process


@pytest.fixture(scope="module")
def portals(
    pg_registry: RegistryProcess, redis_server: RedisProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    tmp = tmp_path_factory.mktemp("two-portals")
    started: list[subprocess.Popen[bytes]] = []
    try:
        first, process = start_portal(tmp, pg_registry.url, redis_server.url)
        started.append(process)
        second, process = start_portal(tmp, pg_registry.url, redis_server.url)
        started.append(process)
        yield first, second
    finally:
        for process in started:
            stop_process(process)


def page(browser: requests.Session, url: str) -> str:
    response = browser.get(url, timeout=20, allow_redirects=True)
    assert response.status_code == 200, (url, response.status_code, response.text[:500])
    return response.text


def post(browser: requests.Session, url: str, data: dict[str, Any]) -> requests.Response:
    return browser.post(url, data=data, timeout=20, allow_redirects=False)


def sign_in(browser: requests.Session, portal: str) -> None:
    html = page(browser, f"{portal}/lv/sign-in")
    signed = post(browser, f"{portal}/lv/sign-in", {"csrf_token": csrf_token(html), "person": PERSON})
    assert signed.status_code == 303, signed.text[:500]


def applications(registry: RegistryProcess) -> list[dict[str, Any]]:
    response = requests.get(
        f"{registry.url}/api/v1/me/applications",
        params={"per_page": "100"},
        headers=who(demo_claims(PERSON)),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return [item for item in response.json()["items"] if item["service"] == SERVICE]


def apply_across(browser: requests.Session, start_on: str, continue_on: str) -> tuple[str, str]:
    """Start on one instance, answer the page on `continue_on`, check and send on `start_on`; return the
    application's address and its receipt page."""
    started = browser.get(f"{start_on}/lv/services/{SERVICE}/apply", timeout=20, allow_redirects=False)
    assert started.status_code == 302, started.text[:500]
    page_path = started.headers["Location"]
    assert re.fullmatch(r"/lv/my/drafts/[0-9a-f]{32}/pages/notifications", page_path)
    draft_path = page_path.rsplit("/pages/", 1)[0]

    html = page(browser, f"{continue_on}{page_path}")  # the draft and the session are found on the other instance
    answers = {"notification_email": "girts@example.lv", "notification_channels": "email"}
    saved = post(browser, f"{continue_on}{page_path}", {"csrf_token": csrf_token(html), **answers})
    assert saved.status_code == 303 and saved.headers["Location"] == f"{draft_path}/check", saved.text[:500]

    check = page(browser, f"{start_on}{draft_path}/check")  # what the other instance saved
    assert "girts@example.lv" in check
    token = csrf_token(check)
    sent = post(browser, f"{start_on}{draft_path}/check", {"csrf_token": token, "declaration": "y"})
    assert sent.status_code == 303, sent.text[:500]
    # A second click on the other instance (the load balancer sent it there) creates nothing more.
    again = post(browser, f"{continue_on}{draft_path}/check", {"csrf_token": token, "declaration": "y"})
    assert again.status_code == 404
    application_path = sent.headers["Location"]
    return application_path, page(browser, f"{continue_on}{application_path}")


def test_a_person_moves_between_instances_and_gets_one_application(
    portals: tuple[str, str], pg_registry: RegistryProcess
) -> None:
    first, second = portals
    before = len(applications(pg_registry))
    browser = requests.Session()
    sign_in(browser, first)
    assert "Ģirts Kalniņš" in page(browser, f"{second}/lv/my/applications")  # signed in on both

    application_path, receipt = apply_across(browser, first, second)
    mine = applications(pg_registry)
    assert len(mine) == before + 1
    (created,) = [a for a in mine if application_path.endswith(a["id"])]
    assert created["status"] == "submitted" and created["reference"] in receipt
    assert "girts@example.lv" in receipt

    # The same journey on one instance gives an application of the same shape.
    _, single_receipt = apply_across(browser, first, first)
    assert len(applications(pg_registry)) == before + 2
    # The two receipts differ only in the reference, ids, times, the session's seconds left and CSRF tokens (signed
    # and timestamped: payload.time.signature, in the forms and in the htmx headers).
    shape = re.compile(
        r"PT-\d{4}-\d{6}|[0-9a-f]{32}|\d{2}:\d{2}|data-[a-z-]*seconds=\"\d+\"|[\w-]{16,}\.[\w-]{6}\.[\w-]{16,}"
    )

    def strip(html: str) -> str:
        return shape.sub("", html)

    assert strip(receipt) == strip(single_receipt)


def test_signing_out_on_one_instance_ends_the_session_on_both(portals: tuple[str, str]) -> None:
    """Sessions live in Redis: a copy of the cookie taken before signing out is worth nothing on either instance."""
    first, second = portals
    browser = requests.Session()
    sign_in(browser, second)
    html = page(browser, f"{first}/lv/my/applications")
    copied = requests.Session()
    copied.cookies.update(browser.cookies)
    assert "Ģirts Kalniņš" in page(copied, f"{second}/lv/my/applications")
    out = post(browser, f"{first}/lv/sign-out", {"csrf_token": csrf_token(html)})
    assert out.status_code == 303
    for portal in (first, second):
        after = copied.get(f"{portal}/lv/my/applications", timeout=20, allow_redirects=False)
        assert after.status_code in (302, 303) and "/lv/sign-in" in after.headers["Location"]


@pytest.fixture(scope="module")
def oidc_portals(
    pg_registry: RegistryProcess, redis_server: RedisProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """The same two instances, signing people in with OpenID Connect (a real oidc-provider that knows both)."""
    tmp = tmp_path_factory.mktemp("two-oidc-portals")
    ports = (free_port(), free_port())
    origins = [f"http://127.0.0.1:{port}" for port in ports]
    started: list[subprocess.Popen[bytes]] = []
    for provider in start_oidc_provider(
        tmp, port=free_port(), redirect_uris=callbacks(*origins), jwks_file=tmp / "jwks.json"
    ):
        settings = {key: str(value) for key, value in provider.portal_settings().items() if key != "OIDC_TIMEOUT"}
        try:
            for port in ports:
                _, process = start_portal(tmp, pg_registry.url, redis_server.url, port, **settings)
                started.append(process)
            yield origins[0], origins[1]
        finally:
            for process in started:
                stop_process(process)


def test_the_production_path_with_openid_connect_redis_and_postgresql(oidc_portals: tuple[str, str]) -> None:
    """Signed in through the OpenID provider on one instance (state and nonce kept in the Redis session), the person
    answers on the other and sends on the first: one application, listed on both."""
    first, second = oidc_portals
    browser = requests.Session()
    login_page = browser.get(f"{first}/lv/sign-in?next=/lv/my/applications", timeout=20)
    assert login_page.status_code == 200 and "/interaction/" in login_page.url, login_page.text[:300]
    landed = browser.post(f"{login_page.url}/login", data={"account": "girts"}, timeout=20)
    assert landed.status_code == 200 and landed.url == f"{first}/lv/my/applications", landed.url
    assert "Ģirts Kalniņš" in page(browser, f"{second}/lv/my/applications")
    before = page(browser, f"{second}/lv/my/applications").count("PT-")

    _, receipt = apply_across(browser, first, second)
    reference = re.search(r"PT-\d{4}-\d{6}", receipt)
    assert reference is not None
    for portal in (first, second):
        listed = page(browser, f"{portal}/lv/my/applications")
        assert listed.count(reference[0]) == 1 and listed.count("PT-") == before + 1
