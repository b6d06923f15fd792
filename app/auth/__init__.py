"""Signing in: who is signed in (session.py) and who vouches for it (providers.py).

`current_user` is the signed-in `Identity` or stands for None; `sign_in`/`sign_out` start and end the session;
`identity_token()` is what registry calls for a person send. Routes say who may use them with `app.access`.
`take_stashed_form(path)` returns, once, what the person had typed on `path` when their session ran out.
"""

from __future__ import annotations

from flask import Flask, current_app

from app.auth.providers import SignInProvider
from app.auth.session import (
    current_user,
    get_current_user,
    identity_token,
    init_session,
    sign_in,
    sign_out,
    take_stashed_form,
)

__all__ = [
    "current_user",
    "get_current_user",
    "identity_token",
    "init_auth",
    "provider",
    "sign_in",
    "sign_out",
    "take_stashed_form",
]

EXTENSION = "sign_in_provider"


def init_auth(app: Flask, sign_in_provider: SignInProvider | None) -> None:
    """Keep the provider (None: no sign-in on this portal) and check the session on every request."""
    app.extensions[EXTENSION] = sign_in_provider
    init_session(app)


def provider() -> SignInProvider | None:
    """Return this portal's sign-in provider, or None when sign-in is switched off."""
    found: SignInProvider | None = current_app.extensions.get(EXTENSION)
    return found
