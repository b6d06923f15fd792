"""The iframe-resize script on a municipality's site believes only the portal's own frame.

QUALITY.md, framing: "An iframe-resize script accepts messages only from allowed origins" [3.5.5]. embed-resize.js
(app/static/js) applies a height only from the window of an iframe it was told about, and only if the message comes
from that iframe's origin; test_catalogue_browser.py shows that the real frame's messages are applied.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.browser import LivePortal

pytestmark = pytest.mark.browser

HEIGHT = "() => Math.round(document.querySelector('iframe[data-lv-eservices]').getBoundingClientRect().height)"


def test_resize_messages_from_anyone_but_the_frame_are_ignored(page: Page, live_portal: LivePortal) -> None:
    page.goto(f"{live_portal.embed_host}/host.html")
    expect(page.frame_locator("iframe[data-lv-eservices]").locator("h1")).to_be_visible()
    page.wait_for_function(f"() => ({HEIGHT})() > 300", timeout=5000)
    settled = page.evaluate(HEIGHT)
    # The host page itself (another script on it), and a frame of another origin, claim a height.
    page.evaluate("window.postMessage({type: 'lv-eservices:height', height: 7777}, '*')")
    page.evaluate(
        """() => {
            const other = document.createElement('iframe');
            other.srcdoc = "<script>parent.postMessage({type: 'lv-eservices:height', height: 8888}, '*')<\\/script>";
            document.body.appendChild(other);
        }"""
    )
    page.wait_for_timeout(500)
    assert page.evaluate(HEIGHT) == settled
    # A message from the real frame with nonsense is not applied either.
    frame = page.locator("iframe[data-lv-eservices]").element_handle().content_frame()
    assert frame is not None
    frame.evaluate("parent.postMessage({type: 'lv-eservices:height', height: Infinity}, '*')")
    frame.evaluate("parent.postMessage({type: 'lv-eservices:height', height: '9999'}, '*')")
    page.wait_for_timeout(300)
    assert page.evaluate(HEIGHT) == settled
