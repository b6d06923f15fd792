"""The portal: one Flask application serving every delivery point in its own theme."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from jinja2 import StrictUndefined


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the portal application."""
    app = Flask(__name__)
    init_config(app, overrides)
    init_extensions(app)
    init_registry_client(app)
    init_jinja(app)
    init_delivery_points_step(app)
    register_blueprints(app)
    init_shared_state_step(app)
    register_error_handlers_step(app)
    init_security_headers_step(app)
    return app


def init_config(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Load the config class named by PORTAL_ENV, then explicit overrides; production checks its settings.

    A refused setting raises app.config.ConfigError with one line naming the variable (docs/operations.md).
    """
    from app.config import ProductionConfig, config_for, trust_proxies

    config_class = config_for(os.environ.get("PORTAL_ENV"))
    app.config.from_object(config_class)
    app.config.update(overrides or {})
    if config_class is ProductionConfig:
        ProductionConfig.check(app.config)
    trust_proxies(app)  # TRUSTED_PROXY_HOPS: the client's address and scheme behind a load balancer


def init_extensions(app: Flask) -> None:
    """Bind Babel (URL-based locale), CSRF protection and htmx request detection."""
    from app.extensions import csrf, htmx
    from app.i18n import init_i18n

    init_i18n(app)
    csrf.init_app(app)
    htmx.init_app(app)


def init_registry_client(app: Flask) -> None:
    """Create the one registry client of this process; each request starts with a fresh stale flag and id."""
    from flask import request as flask_request

    from app.registry_client.applications import ApplicationsClient
    from app.registry_client.base import request_id, reset_stale
    from app.registry_client.catalogue import CatalogueClient
    from app.registry_client.messages import MessagesClient
    from app.registry_client.payments import PaymentsClient
    from app.registry_client.staff import StaffClient
    from app.shared_state import registry_breaker, registry_cache_options

    breaker = registry_breaker(app)  # one for all the clients: they talk to the same registry
    for name, client_class, suffix in (
        ("registry_client", CatalogueClient, ""),
        ("applications_client", ApplicationsClient, "-forms"),  # drafts and applications are never cached
        ("staff_client", StaffClient, "-staff"),  # cases are never cached either
        ("messages_client", MessagesClient, "-messages"),  # nor is the inbox
        ("payments_client", PaymentsClient, "-payments"),  # nor are payments
    ):
        app.extensions[name] = client_class(
            app.config["REGISTRY_URL"],
            timeout=app.config["REGISTRY_TIMEOUT"],
            retries=app.config["REGISTRY_RETRIES"],
            breaker=breaker,
            **registry_cache_options(app, suffix),
        )

    @app.before_request
    def _fresh_registry_context() -> None:
        # Workers reuse threads: the "may be out of date" flag must not leak from one request to the next.
        reset_stale()
        incoming = flask_request.headers.get("X-Request-ID", "")
        request_id.set(incoming if incoming.isalnum() and len(incoming) <= 64 else None)


def init_jinja(app: Flask) -> None:
    """Autoescape everywhere, StrictUndefined in development and tests, and the template helpers."""
    from app.markdown import render_markdown, safe_url
    from app.registry_client.base import served_stale

    if app.config["STRICT_TEMPLATES"]:
        app.jinja_env.undefined = StrictUndefined
    app.jinja_env.autoescape = True
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["safe_url"] = safe_url
    app.jinja_env.globals["served_stale"] = served_stale


def init_delivery_points_step(app: Flask) -> None:
    """Resolve the delivery point from the Host header on every request."""
    from app.delivery_points import init_delivery_points

    init_delivery_points(app)


def register_blueprints(app: Flask) -> None:
    """Mount the public pages, sign-in (only with a provider: DEMO_SIGN_IN for now) and the status endpoint."""
    from app.auth import init_auth
    from app.auth.providers import configured_provider
    from app.views import (
        applications,
        auth,
        data_requests,
        documents,
        messages,
        payments,
        public,
        staff,
        status,
        verify,
    )

    sign_in_provider = configured_provider(app.config)
    init_auth(app, sign_in_provider)
    app.register_blueprint(public.bp)
    if sign_in_provider is not None:
        app.register_blueprint(auth.bp)
    app.register_blueprint(applications.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(messages.bp)  # the applicant's inbox and the unread count of the account menu
    app.register_blueprint(staff.bp)  # the staff area: institutions' employees (sign-in needed, as for applying)
    app.register_blueprint(data_requests.bp)  # level 5: institutions asking each other about a case
    app.register_blueprint(payments.bp)  # paying fees, and the demonstration bank (DEMO_PAYMENTS, never production)
    app.register_blueprint(verify.bp)  # checking a decision by its verification code: public, no sign-in
    app.register_blueprint(status.bp)
    # Templates link to pages of other features only when those are mounted (e.g. "My applications").
    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions


def init_shared_state_step(app: Flask) -> None:
    """Sessions in Redis when REDIS_URL is set, and the rate limits (after the session and delivery point steps)."""
    from app.shared_state import init_shared_state

    init_shared_state(app)


def register_error_handlers_step(app: Flask) -> None:
    """Themed error pages and the registry-unavailable page."""
    from app.errors import register_error_handlers

    register_error_handlers(app)


def init_security_headers_step(app: Flask) -> None:
    """CSP, framing rules and the other headers on every response."""
    from app.security import init_security_headers

    init_security_headers(app)
