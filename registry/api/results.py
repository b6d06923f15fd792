"""Checking a result document: anyone holding its verification code may ask whether it is genuine.

No identity is needed, so the answer says only what the paper itself shows to whoever holds it: the reference, the
service, the result, when and by which institution it was decided. Never the applicant's name or personal code,
their answers, or the official who decided. An unknown or malformed code is the same 404, so the answer reveals
nothing about which codes exist. Codes are 60 random bits (registry/models/results.py): guessing is hopeless even
without a rate limit; the portal that shows the page is where visitors are counted.
"""

from __future__ import annotations

from flask import Response

from registry.api import api
from registry.api.personal import private
from registry.api.problems import ApiProblem
from registry.db import db_session
from registry.models.results import canonical_code, decision_event, find_result, verification_document


@api.get("/verify/<code>")
def verify_result(code: str) -> Response:
    """Say whether a result document with this code exists, with its non-personal facts."""
    canonical = canonical_code(code)
    session = db_session()
    found = find_result(session, canonical) if canonical is not None else None
    if found is None:
        raise ApiProblem(404, "No decision has this verification code.")
    # Not cached by anyone on the way: the code works like a password to these facts.
    return private(verification_document(found, decision_event(session, found)))
