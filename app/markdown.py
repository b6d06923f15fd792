"""Registry rich text -> safe HTML. The only place in the portal that produces Markup from registry data."""

from __future__ import annotations

from functools import cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "h2", "h3", "h4", "blockquote", "code"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_SCHEMES = {"https", "http", "mailto", "tel"}


@cache
def _parser() -> MarkdownIt:
    # "js-default" escapes raw HTML in the source; nh3 then strips anything that still is not allowed.
    return MarkdownIt("js-default", {"linkify": False, "typographer": False})


def render_markdown(text: str | None) -> Markup:
    """Render Markdown from the registry to HTML, keeping only an allowlist of tags, attributes and URL schemes."""
    if not text:
        return Markup("")
    html = _parser().render(text)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="noopener noreferrer",
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above  # nosec B704


def safe_url(url: str | None) -> str | None:
    """Return `url` if it is an http(s), mailto or tel URL; None for javascript:, data: and anything else."""
    if not url:
        return None
    scheme = url.split(":", 1)[0].strip().lower() if ":" in url else ""
    return url if scheme in ALLOWED_SCHEMES and not url.lower().startswith(("http:///", "https:///")) else None
