"""Requests that must take effect once (a submission, a decision): the Idempotency-Key, claimed first.

`run_once` claims the key for the principal and the body's fingerprint, then does the work; a replay gets the
stored answer, the same key with another body 422, a duplicate still in flight 409 with Retry-After. The work
itself must call `hold_key` before and `complete_key` inside its transaction (registry.models.idempotency).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import request

from registry.api.problems import ApiProblem
from registry.db import db_session
from registry.models.idempotency import (
    MAX_KEY_LENGTH,
    Claim,
    KeyInFlight,
    KeyReused,
    Replay,
    claim_key,
    fingerprint,
    release_key,
)

# Visible ASCII and spaces: a key ends up in a database column and in problem details.
IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]+")


def idempotency_key() -> str:
    """Return the Idempotency-Key header (a structured-field string, quotes optional), or refuse with 400."""
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        raise ApiProblem(400, "This request needs an Idempotency-Key header, so that a retry cannot apply twice.")
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not key or len(key) > MAX_KEY_LENGTH or IDEMPOTENCY_KEY.fullmatch(key) is None:
        raise ApiProblem(400, f"The Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters.")
    return key


def in_flight() -> ApiProblem:
    return ApiProblem(
        409,
        "A request with this Idempotency-Key is still being processed; retry shortly.",
        headers={"Retry-After": "1"},
    )


def run_once(principal: str, body: Any, work: Callable[[Claim], dict[str, Any]]) -> tuple[dict[str, Any], int, bool]:
    """Do `work` once per (principal, key): return the answer, its status, and whether it is a replay."""
    key = idempotency_key()
    session = db_session()
    try:
        outcome = claim_key(session, principal, key, fingerprint(body))
    except KeyReused:
        raise ApiProblem(422, "This Idempotency-Key was already used with a different request body.") from None
    except KeyInFlight:
        raise in_flight() from None
    if isinstance(outcome, Replay):
        return outcome.response, outcome.status_code, True
    try:
        payload = work(outcome)
    except BaseException:
        # Nothing was stored: forget the claim so the same key can carry the corrected request.
        release_key(session, outcome)
        raise
    return payload, 201, False
