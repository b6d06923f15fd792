"""Delivery points: which portal a request is for, decided by its Host header, and what that portal looks like.

A delivery point is data (themes/<slug>/portal.toml, tokens.css, optional templates), never code: adding a
municipality means adding a folder. Each point gets its own Jinja environment, built once at start-up, whose loader
looks in the point's templates, then themes/_base/templates, then app/templates.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from flask import Flask, abort, g, request
from jinja2 import ChoiceLoader, Environment, FileSystemLoader
from werkzeug.local import LocalProxy

KINDS = ("state", "integrator", "municipal")


@dataclass(frozen=True)
class FooterLink:
    """A link in the footer of a delivery point."""

    title: dict[str, str]
    url: str


@dataclass(frozen=True)
class DeliveryPoint:
    """One portal: its hosts, names, contacts, catalogue filter and which origins may embed it."""

    slug: str
    kind: str
    hosts: tuple[str, ...]
    name: dict[str, str]
    logo_text: dict[str, str]
    tagline: dict[str, str]
    municipality: str | None
    languages: tuple[str, ...]
    embed_origins: tuple[str, ...]
    contacts: dict[str, str]
    footer_links: tuple[FooterLink, ...] = ()
    featured_services: tuple[str, ...] = ()
    shows_integration_details: bool = False
    jinja_env: Environment = field(default=cast(Environment, None), compare=False, repr=False)

    def text(self, value: dict[str, str], lang: str) -> str:
        """Return `value` in `lang`, falling back to Latvian."""
        return value.get(lang) or value.get("lv") or next(iter(value.values()), "")

    def is_municipal(self) -> bool:
        """Say whether this is a municipality's portal (its catalogue is nationwide plus its own services)."""
        return self.kind == "municipal"


def _point_from_toml(slug: str, data: dict[str, Any]) -> DeliveryPoint:
    kind = data["kind"]
    if kind not in KINDS:
        raise ValueError(f"themes/{slug}/portal.toml: kind must be one of {KINDS}")
    if kind == "municipal" and not data.get("municipality"):
        raise ValueError(f"themes/{slug}/portal.toml: a municipal point needs `municipality`")
    for origin in data.get("embed_origins", []):
        if not origin.startswith(("https://", "http://")) or origin.count("/") != 2:
            raise ValueError(f"themes/{slug}/portal.toml: embed origin {origin!r} must be scheme://host[:port]")
    return DeliveryPoint(
        slug=slug,
        kind=kind,
        hosts=tuple(h.lower() for h in data["hosts"]),
        name=data["name"],
        logo_text=data.get("logo_text", data["name"]),
        tagline=data.get("tagline", {}),
        municipality=data.get("municipality") or None,
        languages=tuple(data.get("languages", ["lv", "en"])),
        embed_origins=tuple(data.get("embed_origins", [])),
        contacts=data.get("contacts", {}),
        footer_links=tuple(FooterLink(link["title"], link["url"]) for link in data.get("footer_links", [])),
        featured_services=tuple(data.get("featured_services", [])),
        shows_integration_details=kind == "integrator",
    )


def load_points(app: Flask) -> dict[str, DeliveryPoint]:
    """Read every themes/<slug>/portal.toml and give each point its own template environment."""
    themes: Path = app.config["THEMES_DIR"]
    points: dict[str, DeliveryPoint] = {}
    for toml_path in sorted(themes.glob("*/portal.toml")):
        slug = toml_path.parent.name
        with toml_path.open("rb") as fh:
            point = _point_from_toml(slug, tomllib.load(fh))
        loader = ChoiceLoader(
            [
                FileSystemLoader(str(toml_path.parent / "templates")),
                FileSystemLoader(str(themes / "_base" / "templates")),
                app.jinja_loader,  # type: ignore[list-item]
            ]
        )
        # An overlay made once at start-up keeps its own template cache; it shares filters, tests and globals.
        object.__setattr__(point, "jinja_env", app.jinja_env.overlay(loader=loader))
        points[slug] = point
    hosts = [h for p in points.values() for h in p.hosts]
    if len(hosts) != len(set(hosts)):
        raise ValueError("two delivery points claim the same host")
    return points


def init_delivery_points(app: Flask) -> None:
    """Load the points and resolve the current one before every request (unknown host: plain 404)."""
    points = load_points(app)
    by_host = {host: point for point in points.values() for host in point.hosts}
    app.extensions["delivery_points"] = points

    @app.before_request
    def _resolve_point() -> None:
        if request.endpoint == "status.healthz":
            return  # load balancers probe by address, not by a portal's host name
        host = (request.host or "").rsplit(":", 1)[0].lower().rstrip(".")
        point = by_host.get(host)
        if point is None:
            abort(404)
        g.point = point


def _current_point() -> DeliveryPoint:
    return cast(DeliveryPoint, g.point)


current_point: DeliveryPoint = cast(DeliveryPoint, LocalProxy(_current_point))
