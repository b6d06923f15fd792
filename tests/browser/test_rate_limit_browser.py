"""A live search over its rate limit in a real browser: the portal's own 429 answer is shown in place, not ignored."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Route, expect

from tests.fixtures.portal import make_portal
from tests.fixtures.registry_server import RegistryProcess

pytestmark = pytest.mark.browser

PASSED_ON = ("Content-Type", "Retry-After", "HX-Push-Url", "Cache-Control")


def test_live_search_over_the_limit_says_so_and_keeps_the_results(
    page: Page, applications_registry: RegistryProcess
) -> None:
    # The answer of a portal whose search limit is spent (the live portal's limits are far above what tests send).
    limited = make_portal(applications_registry.url, RATELIMIT_SEARCH="1/minute").test_client()
    headers = {"Host": "localhost", "HX-Request": "true"}
    limited.get("/lv/services?q=p", headers=headers)
    refused = limited.get("/lv/services?q=pase", headers=headers)
    assert refused.status_code == 429

    def too_many(route: Route) -> None:
        route.fulfill(
            status=429,
            headers={name: refused.headers[name] for name in PASSED_ON if name in refused.headers},
            body=refused.get_data(),
        )

    page.goto("/lv/services")
    heading = page.locator("#results-heading")
    before = heading.inner_text()
    page.route(re.compile(r"/lv/services\?q="), too_many)
    page.get_by_label("Meklēt pakalpojumu").press_sequentially("pase")

    notice = page.locator("#main > #rate-limit-notice [role=alert]")
    expect(notice).to_contain_text("Pārāk daudz pieprasījumu")
    expect(notice).to_contain_text("Lūdzu, pagaidiet minūti un mēģiniet vēlreiz.")
    expect(heading).to_have_text(before)  # the results stay as they were
    expect(page).to_have_url(re.compile(r"/lv/services$"))  # no address of results that never came
    assert page.locator("#rate-limit-notice").count() == 1
