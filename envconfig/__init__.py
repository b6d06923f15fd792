"""Reading and checking settings, shared by both programs (the portal's app/config.py, the registry's config.py).

Each program keeps its own settings and production checks; what they read the environment with, how a bad setting
stops them, what counts as a weak secret or a URL, and how they trust a proxy in front are the same, and live here.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

if TYPE_CHECKING:
    from flask import Flask

MIN_SECRET_LENGTH = 32


class ConfigError(click.ClickException, RuntimeError):
    """A setting the program cannot start with; the message is one line naming the variable to fix.

    A RuntimeError, so gunicorn prints `Error: <message>`; a ClickException, so `flask` commands (cron) do the same.
    """


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    """Return the whole number in environment variable `name` (or `default`); anything else is a ConfigError."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def env_seconds(name: str, default: float, *, minimum: float = 0.05) -> float:
    """Return the number of seconds (decimals allowed) in environment variable `name`, or `default`."""
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not value >= minimum:  # also refuses nan
        raise ConfigError(f"{name} must be at least {minimum:g} seconds, not {raw!r}")
    return value


def env_flag(name: str) -> bool:
    """Return True when environment variable `name` is `true` (any case)."""
    return os.environ.get(name, "false").strip().lower() == "true"


def env_list(name: str) -> list[str]:
    """Return the comma-separated values of environment variable `name`, blanks dropped."""
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def is_weak_secret(value: object, known: Collection[str] = ()) -> bool:
    """Say whether a secret is missing, shorter than MIN_SECRET_LENGTH, one of `known` (written in this repository),
    or a development or test value ("not-for-production")."""
    return (
        not isinstance(value, str) or len(value) < MIN_SECRET_LENGTH or value in known or "not-for-production" in value
    )


def is_http_url(value: object, *, https_only: bool = False) -> bool:
    """Say whether `value` is an absolute http(s) URL (https only, if asked) with a host."""
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in (("https",) if https_only else ("http", "https")) and bool(parts.hostname)


def trust_proxies(app: Flask) -> None:
    """Read the client's address and scheme from the X-Forwarded-For/-Proto headers of TRUSTED_PROXY_HOPS proxies.

    Only as many values as there are proxies are believed, counted from the right: a client cannot forge its address
    by sending the header itself. The Host header is never taken from X-Forwarded-Host: the portal chooses delivery
    points by Host, and the load balancer must pass it on unchanged.
    """
    from werkzeug.middleware.proxy_fix import ProxyFix

    hops = int(app.config.get("TRUSTED_PROXY_HOPS") or 0)
    if hops:
        proxied = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)
        app.wsgi_app = proxied  # type: ignore[method-assign]
