"""WSGI entry of the portal for the benchmarks: wsgi.py's app, with more people in the demonstration sign-in.

`BENCH_PEOPLE=250 gunicorn -c gunicorn.conf.py bench.portal_wsgi:app` is the portal as `make run` serves it, except
that the demo provider (app/auth/providers.py, development config only) also offers `bench-0000` ... `bench-0249`,
made-up private persons with new-format personal codes (bench/people.py). Each simulated user of bench/table.py and
bench/load.py signs in as a person of their own, so drafts are not shared: the portal resumes a person's draft of a
service rather than starting a second one.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.auth import providers
from bench.people import person_claims, person_id
from identity import identity_from_claims

PEOPLE = int(os.environ.get("BENCH_PEOPLE", "250"))

_load_demo_people = providers.load_demo_people


def _with_bench_people(path: Path = providers.DEMO_PEOPLE) -> tuple[providers.DemoPerson, ...]:
    people = _load_demo_people(path)
    extra = tuple(providers.DemoPerson(person_id(n), identity_from_claims(person_claims(n))) for n in range(PEOPLE))
    return people + extra


# DemoProvider.from_file looks the function up when the app is built: patched before create_app below.
providers.load_demo_people = _with_bench_people

from app import create_app  # noqa: E402 - after the patch

app = create_app()
