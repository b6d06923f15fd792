"""Every route declares who may use it; a test fails on a route without a declaration."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., object])

PUBLIC = "public"


def public(view: F) -> F:
    """Declare that anyone may use this route, signed in or not."""
    view.access = PUBLIC  # type: ignore[attr-defined]
    return view


def frameable(view: F) -> F:
    """Declare that this route may be shown in an iframe of the delivery point's allowed origins."""
    view.frameable = True  # type: ignore[attr-defined]
    return view
