"""The reference service registry: a small, real backend for the catalogue API."""

from __future__ import annotations

import os
import time
from typing import Any

from flask import Flask, Response, g
from werkzeug.routing import BaseConverter


class SlugConverter(BaseConverter):
    """A readable id such as `dzivesvietas-deklaresana`; anything else does not route (404)."""

    regex = r"[a-z0-9]+(?:-[a-z0-9]+)*"


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the registry application."""
    app = Flask(__name__, instance_relative_config=False)
    init_config(app, overrides)
    init_antivirus_step(app)
    init_db_step(app)
    register_blueprints(app)
    register_error_handlers_step(app)
    register_response_headers(app)
    register_cli(app)
    return app


def init_config(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Load the config class named by REGISTRY_ENV, then any explicit overrides (tests); production checks them.

    A refused setting raises registry.config.ConfigError with one line naming the variable (docs/operations.md).
    """
    from registry.config import ProductionConfig, config_for, trust_proxies

    config_class = config_for(os.environ.get("REGISTRY_ENV"))
    app.config.from_object(config_class)
    app.config.update(overrides or {})
    if config_class is ProductionConfig:
        ProductionConfig.check(app.config)
    trust_proxies(app)  # REGISTRY_TRUSTED_PROXY_HOPS: the client's address and scheme behind a load balancer
    app.url_map.converters["slug"] = SlugConverter
    app.json.ensure_ascii = False  # type: ignore[attr-defined]


def init_antivirus_step(app: Flask) -> None:
    """Choose the virus scanner of uploads (REGISTRY_ANTIVIRUS); unusable settings are a ConfigError."""
    from registry.antivirus import init_antivirus

    init_antivirus(app)


def init_db_step(app: Flask) -> None:
    """Bind the database."""
    from registry.db import init_db

    init_db(app)


def register_blueprints(app: Flask) -> None:
    """Mount the API, its OpenAPI document and the health check."""
    from registry.api import api
    from registry.api.health import health
    from registry.api.openapi import openapi_blueprint

    app.register_blueprint(api)
    app.register_blueprint(openapi_blueprint)
    app.register_blueprint(health)


def register_error_handlers_step(app: Flask) -> None:
    """Render every error as application/problem+json."""
    from registry.api.problems import register_error_handlers

    register_error_handlers(app)


def register_response_headers(app: Flask) -> None:
    """Send headers every API response needs, problems included."""

    @app.before_request
    def _start_clock() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _headers(response: Response) -> Response:
        # Server-Timing lets operators and the benchmark tell server time from network time.
        if "started" in g:
            response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - g.started) * 1000:.1f}"
        # The registry serves only data: browsers must not sniff it into HTML or frame it.
        response.headers["X-Content-Type-Options"] = "nosniff"
        # setdefault: a file download sets a stricter policy of its own (sandbox).
        response.headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
        response.headers["Referrer-Policy"] = "no-referrer"
        return response


def register_cli(app: Flask) -> None:
    """Add the registry's flask commands (db-upgrade, seed, create-token, openapi)."""
    from registry.cli import commands

    for command in commands:
        app.cli.add_command(command)
