"""Registry rich text becomes safe HTML; unsafe URLs never become links."""

from __future__ import annotations

import pytest

from app.markdown import render_markdown, safe_url


def test_markdown_renders_the_allowed_formatting() -> None:
    html = str(render_markdown("**Svarīgi**: [likums](https://likumi.lv/ta/id/1)\n\n- viens\n- divi"))
    assert "<strong>Svarīgi</strong>" in html
    assert '<a href="https://likumi.lv/ta/id/1" rel="noopener noreferrer">likums</a>' in html
    assert "<ul>" in html and "<li>viens</li>" in html


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        '<a href="javascript:alert(1)">x</a>',
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        '<svg onload="alert(1)">',
        "[x](vbscript:msgbox)",
        "<iframe src='https://evil.example'></iframe>",
    ],
)
def test_hostile_markdown_is_inert(source: str) -> None:
    html = str(render_markdown(source))
    assert "<script" not in html and "<img" not in html and "<svg" not in html and "<iframe" not in html
    # Raw HTML in the source is shown as text (&lt;a href=...&gt;); what matters is that no real link is made.
    assert "<a " not in html


def test_empty_text_is_empty_markup() -> None:
    assert str(render_markdown(None)) == "" and str(render_markdown("")) == ""


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.latvija.gov.lv/", "https://www.latvija.gov.lv/"),
        ("mailto:info@riga.lv", "mailto:info@riga.lv"),
        ("tel:+37167000000", "tel:+37167000000"),
        ("javascript:alert(1)", None),
        (" JavaScript:alert(1)", None),
        ("data:text/html,x", None),
        ("//evil.example", None),
        ("https:///evil", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_url(url: str | None, expected: str | None) -> None:
    assert safe_url(url) == expected
