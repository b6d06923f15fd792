"""Render a page with the current delivery point's templates: the whole page, or one block of it for htmx."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request
from jinja2_fragments import render_block

from app.delivery_points import current_point


def render(template: str, *, status: int = 200, block: str | None = None, **context: Any) -> Response:
    """Render `template` for the current point; an htmx request for `block` gets only that block.

    One URL, two representations: the fragment is a block of the same template, so the two cannot drift apart.
    """
    current_app.update_template_context(context)
    env = current_point.jinja_env
    if block is not None and request.headers.get("HX-Request") == "true":
        html = render_block(env, template, block, **context)
    else:
        html = env.get_template(template).render(context)
    return Response(html, status=status, mimetype="text/html")
