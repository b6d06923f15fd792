"""When the registry stops, cached pages stay readable with a notice; uncached pages get the 503 page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.portal import Browser, make_portal
from tests.fixtures.registry_server import RegistryProcess, start_registry

pytestmark = pytest.mark.integration

STALE_NOTICE = "daļa informācijas var būt novecojusi"


@pytest.fixture
def short_lived_registry(tmp_path: Path) -> Iterator[RegistryProcess]:
    # max-age 0: every cached answer must be revalidated, so a stopped registry shows at once.
    yield from start_registry(tmp_path, env={"REGISTRY_CACHE_MAX_AGE": "0"})


def test_registry_stopped_mid_test(short_lived_registry: RegistryProcess) -> None:
    with make_portal(short_lived_registry.url).test_client() as client:
        browser = Browser(client)
        fresh = browser.page("/lv/services/pases-izsniegsana")
        assert STALE_NOTICE not in fresh
        browser.page("/lv/services?q=pase")

        short_lived_registry.stop()

        stale = browser.page("/lv/services/pases-izsniegsana")
        assert STALE_NOTICE in stale and "Pases izsniegšana" in stale
        assert STALE_NOTICE in browser.page("/lv/services?q=pase")
        unavailable = browser.page("/lv/services/personas-koda-mainas", status=503)
        assert "Pakalpojums īslaicīgi nav pieejams" in unavailable
        assert browser.get("/lv/services/personas-koda-mainas").headers["Retry-After"] == "60"
        english = browser.page("/en/services?q=never-searched-before", status=503, lang="en")
        assert "temporarily unavailable" in english
