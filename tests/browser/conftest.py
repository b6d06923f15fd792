"""Playwright fixtures that must sit closer to the browser tests than the shared plugins.

- `browser`: tests/fixtures/portal.py defines a page-checking Flask client under the same name, and it shadows
  pytest-playwright's session browser, which its `context` and `page` fixtures need. Here it is Chromium again.
- `base_url`: pytest-playwright registers its own `base_url` fixture after the conftest plugins, so an override in
  tests/fixtures/browser.py would never be used; a directory conftest takes precedence over both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser

from tests.fixtures.browser import LivePortal


@pytest.fixture(scope="session")
def browser(launch_browser: Callable[[], Browser]) -> Iterator[Browser]:
    """Debian's chromium, launched once per session with the arguments of tests/fixtures/browser.py."""
    chromium = launch_browser()
    yield chromium
    chromium.close()


@pytest.fixture(scope="session")
def base_url(live_portal: LivePortal) -> str:
    """Relative URLs in page.goto go to the state portal (latvija) on the live server."""
    return live_portal.url("latvija", "")
