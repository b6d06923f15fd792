"""Read and validate query parameters; anything wrong is a 400 problem naming the parameter."""

from __future__ import annotations

from collections.abc import Collection

from flask import request

from registry.api.problems import invalid_parameter

MAX_QUERY_LENGTH = 500


def int_param(name: str, default: int | None, low: int, high: int) -> int | None:
    """Return an integer parameter within [low, high], or `default` when absent."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise invalid_parameter(name, f"must be a whole number from {low} to {high}")
    value = int(raw)
    if not low <= value <= high:
        raise invalid_parameter(name, f"must be a whole number from {low} to {high}")
    return value


def choice_param(name: str, allowed: Collection[str]) -> str | None:
    """Return a parameter that must be one of `allowed`, or None when absent."""
    raw = request.args.get(name)
    if raw is None:
        return None
    if raw not in allowed:
        shown = ", ".join(sorted(allowed)) if len(allowed) <= 10 else "a known id"
        raise invalid_parameter(name, f"must be {shown}")
    return raw


def text_param(name: str) -> str:
    """Return a free-text parameter, refusing absurd lengths."""
    raw = request.args.get(name, "")
    if len(raw) > MAX_QUERY_LENGTH:
        raise invalid_parameter(name, f"must be at most {MAX_QUERY_LENGTH} characters")
    return raw.strip()
