"""The synthetic people of the benchmarks' demonstration sign-in (bench/portal_wsgi.py), without importing the app.

bench/locustfile.py runs inside locust (gevent), so this module imports nothing but the standard library.
"""

from __future__ import annotations

SERVICE = "e-adreses-izveide"  # the form the benchmarks fill in: one page, three questions and a declaration
FORM_PAGE = "notifications"  # its one page


def person_id(number: int) -> str:
    """Return the sign-in form's value for synthetic person `number`."""
    return f"bench-{number:04d}"


def person_claims(number: int) -> dict[str, str | None]:
    """Return the identity claims of synthetic person `number` (as the portal signs them for the registry)."""
    # 32NNNN-NNNNN is the new personal code format (random digits, no check digit). bench/cases.py gives its
    # applicants 32NNNN-0NNNN; these end in 5NNNN, so nobody here has a case of theirs.
    return {
        "sub": f"32{number:04d}-{50000 + number:05d}",
        "name": f"Slodzes Testētājs {number}",
        "kind": "person",
        "company": None,
        "company_name": None,
        "acr": "high",
    }
