"""The registry on PostgreSQL: migrations, the catalogue and its search answering as on SQLite, writes, idempotent
submissions and concurrent decisions, against a real registry process (gunicorn) on a throwaway PostgreSQL server.

PostgreSQL comes from tests/fixtures/postgres.py (`make postgres` installs it); these tests fail without it unless
SKIP_POSTGRES_TESTS=1.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
import requests
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session

from forms.examples import example_answers
from forms.loader import load_definition
from forms.model import FormDefinition
from registry.db import make_engine
from registry.migrate import downgrade, upgrade
from registry.models import service_search
from registry.models.service_search import ServiceQuery, find_services
from registry.models.tables import Base
from registry.search.postgres import GENERATED_COLUMNS, INDEXES
from tests.fixtures.applications import (
    RESIDENT_SERVICE,
    SECRET,
    form_of,
    fresh_person,
    key,
    submission,
    valid_answers,
    who,
)
from tests.fixtures.postgres import PostgresServer
from tests.fixtures.registry_server import RegistryProcess, start_registry

pytestmark = pytest.mark.integration

CASE_SERVICE = "bezdarbnieka-statusa-pieskirsana"  # NVA assesses the status (step nva-status), then VSAA decides
NVA = {"kind": "employee", "acr": "high", "company": None, "company_name": None, "institution": "nva"}
NVA_WORKERS = [
    NVA | {"sub": "010190-12349", "name": "Nora Vītola", "roles": ["case_worker"]},
    NVA | {"sub": "150585-12343", "name": "Kārlis Zariņš", "roles": ["case_worker"]},
]

# Searches a person types, with and without Latvian letters, in capitals, inflected, several words, one letter.
SEARCHES = [
    {"q": "reģistrācija"},
    {"q": "registracija"},
    {"q": "REĢISTRĀCIJA RĪGĀ"},
    {"q": "rigā"},
    {"q": "pabalsti"},
    {"q": "bērna pabalsts"},
    {"q": "berna"},
    {"q": "Ģimenes"},
    {"q": "izglītības iestādes"},
    {"q": "atļauja"},
    {"q": "nodokļu atvieglojumi"},
    {"q": "transportlīdzekļa"},
    {"q": "deklarēšana"},
    {"q": "izzina uznemumu"},
    {"q": "a"},
    {"q": "nekas-tads-neeksiste"},
    {"q": "pabalsts", "audience": "residents"},
    {"q": "reģistrācija", "municipality": "riga"},
    {"q": "iesniegums", "level": 4},
    {"q": "izsniegšana", "institution": "pmlp"},
    {"q": "reģistrācija", "per_page": "5", "page": "2"},
    {"audience": "businesses"},
    {"municipality": "valmiera", "level": 4},
    {"institution": "vsaa"},
    {"life_event": "birth-of-child"},
    {"per_page": "7", "page": "3"},
]


@pytest.fixture(scope="module")
def pg_registry(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    """A seeded registry on PostgreSQL that trusts the test identities (applications, staff)."""
    yield from start_registry(
        tmp_path_factory.mktemp("pg-registry"),
        database_url=postgres.create_database(),
        # Several workers, so that concurrent requests really overlap in the database (5: docs/operations.md).
        env={"REGISTRY_IDENTITY_SECRET": SECRET, "REGISTRY_WORKERS": "5"},
    )


@pytest.fixture(scope="module")
def pg_api(pg_registry: RegistryProcess) -> str:
    return f"{pg_registry.url}/api/v1"


@pytest.fixture(scope="module")
def sessions(registry: RegistryProcess, pg_registry: RegistryProcess) -> Iterator[dict[str, Session]]:
    """Sessions on the SQLite registry's database and the PostgreSQL registry's, both seeded alike."""
    engines = {"sqlite": make_engine(registry.database_url), "postgresql": make_engine(pg_registry.database_url)}
    opened = {name: Session(engine) for name, engine in engines.items()}
    yield opened
    for session in opened.values():
        session.close()
    for engine in engines.values():
        engine.dispose()


def listing(api: str, **params: str) -> dict[str, Any]:
    response = requests.get(f"{api}/services", params=params, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


# --- migrations --------------------------------------------------------------------------------------------------


def test_migrations_build_the_mapped_tables_and_undo_them_on_postgresql(postgres: PostgresServer) -> None:
    url = postgres.create_database("migrations")
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    # The search columns and their indexes are PostgreSQL's own and deliberately not mapped (the application never
    # writes them); everything else must match the models.
    unmapped = [
        d
        for d in diff
        if not (d[0] == "remove_column" and d[2] == "service_search" and d[3].name in GENERATED_COLUMNS)
        and not (d[0] == "remove_index" and d[1].name in INDEXES)
    ]
    assert unmapped == []
    columns = {c["name"]: c for c in inspect(engine).get_columns("services")}
    assert columns["sort_key"]["type"].collation == "C"  # byte order, as SQLite sorts
    engine.dispose()

    downgrade(url, "base")
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()
    upgrade(url)  # and up again from nothing


# --- the catalogue answers as on SQLite ----------------------------------------------------------------------------


def test_the_catalogue_is_the_same_as_on_sqlite(api: str, pg_api: str) -> None:
    everything = {"per_page": "100"}
    assert listing(pg_api, **everything) == listing(api, **everything)
    for path in ("/institutions", "/life-events", "/services/dzivesvietas-deklaresana", "/services/pii-rinda-riga"):
        on_sqlite = requests.get(f"{api}{path}", timeout=10)
        on_postgres = requests.get(f"{pg_api}{path}", timeout=10)
        assert on_postgres.status_code == on_sqlite.status_code == 200, path
        assert on_postgres.json() == on_sqlite.json(), path
        assert on_postgres.headers["ETag"] == on_sqlite.headers["ETag"], path


@pytest.mark.parametrize("params", SEARCHES, ids=lambda p: " ".join(f"{k}={v}" for k, v in p.items()))
def test_searches_answer_as_on_sqlite(api: str, pg_api: str, params: dict[str, str]) -> None:
    on_sqlite = listing(api, **params)
    on_postgres = listing(pg_api, **params)
    assert [i["id"] for i in on_postgres["items"]] == [i["id"] for i in on_sqlite["items"]]
    assert on_postgres["total"] == on_sqlite["total"]


def test_diacritics_fold_the_same_way(pg_api: str) -> None:
    with_letters = listing(pg_api, q="Dzīvesvietas deklarēšana")
    without = listing(pg_api, q="dzivesvietas deklaresana")
    assert with_letters["total"] == without["total"] >= 1
    assert with_letters["items"][0]["id"] == without["items"][0]["id"] == "dzivesvietas-deklaresana"
    assert listing(pg_api, q="pirmsskolas rīgā")["items"][0]["id"] == "pii-rinda-riga"


@pytest.mark.parametrize(
    "criteria",
    [{"q": "pabalsts"}, {"q": "registracija"}, {"q": "iesniegums", "municipality": "riga"}, {"audience": "residents"}],
)
def test_large_result_orders_are_the_same_as_on_sqlite(
    sessions: dict[str, Session], monkeypatch: pytest.MonkeyPatch, criteria: dict[str, Any]
) -> None:
    # Past EXACT_ORDER_LIMIT matches, title matches come first and each tier in publication order, on both.
    monkeypatch.setattr(service_search, "EXACT_ORDER_LIMIT", 2)
    pages: dict[str, list[list[str]]] = {}
    for name, session in sessions.items():
        pages[name] = [
            [item["id"] for item in find_services(session, ServiceQuery(page=page, per_page=3, **criteria)).items]
            for page in range(1, 6)
        ]
    assert pages["postgresql"] == pages["sqlite"]
    assert any(pages["sqlite"][1])


# --- writes --------------------------------------------------------------------------------------------------------


def test_publishing_updates_the_search_index(pg_registry: RegistryProcess, pg_api: str) -> None:
    token = pg_registry.token("pmlp")
    service_id = f"postgres-parbaude-{uuid.uuid4().hex[:8]}"
    document = {
        "id": service_id,
        "status": "published",
        "level": 3,
        "audiences": ["residents"],
        "competent_authority": "pmlp",
        "spatial": "LV",
        "title": {"lv": "Ūdensrožu skaitīšana Ķemeros", "en": "Counting water lilies in Kemeri"},
        "summary": {"lv": "Īss apraksts.", "en": "Short summary."},
        "description": {"lv": "Garāks apraksts.", "en": "Longer description."},
    }

    def put(body: dict[str, Any]) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return requests.put(f"{pg_api}/services/{service_id}", json=body, headers=headers, timeout=10)

    try:
        assert put(document).status_code == 201
        found = listing(pg_api, q="udensrozu kemeros")
        assert [i["id"] for i in found["items"]] == [service_id]
        assert listing(pg_api, q="ŪDENSROZES", institution="pmlp", audience="residents")["total"] == 1
        renamed = document | {"title": {"lv": "Zilonis un pelikāns", "en": "Elephant and pelican"}, "level": 4}
        assert put(renamed).status_code == 200
        assert listing(pg_api, q="udensrozu")["total"] == 0  # the index forgot the old title
        assert [i["level"] for i in listing(pg_api, q="pelikāns")["items"]] == [4]
    finally:
        # Withdrawn, it leaves the catalogue and the index: the other tests compare the seed with SQLite's.
        assert put(document | {"status": "withdrawn"}).status_code == 200
    assert listing(pg_api, q="udensrozu")["total"] == 0
    assert requests.get(f"{pg_api}/services/{service_id}", timeout=10).status_code == 410  # Gone


# --- idempotency and concurrency -----------------------------------------------------------------------------------


def concurrently(count: int, call: Callable[[int], requests.Response]) -> list[requests.Response]:
    """Run `call(i)` for i in range(count) in threads released together; return the responses."""
    start = threading.Barrier(count)
    responses: list[requests.Response | None] = [None] * count

    def run(i: int) -> None:
        start.wait()
        responses[i] = call(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r is not None for r in responses)
    return [r for r in responses if r is not None]


@pytest.fixture(scope="module")
def residence(pg_api: str) -> tuple[int, FormDefinition]:
    return form_of(pg_api, RESIDENT_SERVICE)


def test_an_application_sent_twice_with_one_key_is_one_application(
    pg_api: str, residence: tuple[int, FormDefinition]
) -> None:
    person = fresh_person()
    body = submission(pg_api, residence, person)
    headers = who(person, **key())

    def post(_: int) -> requests.Response:
        return requests.post(f"{pg_api}/applications", json=body, headers=headers, timeout=30)

    first = post(0)
    assert first.status_code == 201, first.text
    replay = post(1)
    assert replay.status_code == 201 and replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    mine = requests.get(f"{pg_api}/me/applications", headers=who(person), timeout=10).json()
    assert mine["total"] == 1 and mine["items"][0]["id"] == first.json()["id"]

    # Sent at the same moment from several connections: one application; the others replay it or are told to wait.
    other = fresh_person()
    other_body = submission(pg_api, residence, other)
    other_headers = who(other, **key())
    responses = concurrently(
        6, lambda _: requests.post(f"{pg_api}/applications", json=other_body, headers=other_headers, timeout=30)
    )
    assert {r.status_code for r in responses} <= {201, 409}, [r.text for r in responses]
    created = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created) == 1
    listed = requests.get(f"{pg_api}/me/applications", headers=who(other), timeout=10).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] in created


def test_concurrent_submissions_get_distinct_reference_numbers(
    pg_api: str, residence: tuple[int, FormDefinition]
) -> None:
    # 24 at once over 5 workers: without the reference lock (registry/models/applications.py) some collide beyond
    # the retries and fail (the load benchmark found it).
    people = [fresh_person() for _ in range(24)]
    bodies = [submission(pg_api, residence, p) for p in people]
    responses = concurrently(
        len(people),
        lambda i: requests.post(f"{pg_api}/applications", json=bodies[i], headers=who(people[i], **key()), timeout=30),
    )
    assert [r.status_code for r in responses] == [201] * len(people), [r.text for r in responses]
    assert len({r.json()["reference"] for r in responses}) == len(people)


def new_case(api: str) -> str:
    """A fresh person applies for the unemployed status; return the case (application) id."""
    person = fresh_person()
    version, definition = form_of(api, CASE_SERVICE)
    body = {"service": CASE_SERVICE, "form": "application", "form_version": version}
    answers = valid_answers(definition, person, api)
    response = requests.post(
        f"{api}/applications", json=body | {"answers": answers}, headers=who(person, **key()), timeout=20
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_two_concurrent_decisions_on_one_case_one_wins(pg_api: str, pg_registry: RegistryProcess) -> None:
    step_form = requests.get(f"{pg_api}/services/{CASE_SERVICE}/forms/nva-status", timeout=10).json()
    answers = example_answers(load_definition(step_form["definition"]), today=date.today(), yes=True)
    answers.pop("declaration", None)
    decision = {"step": "nva-status", "outcome": "approve", "answers": answers}
    engine: Engine = make_engine(pg_registry.database_url)
    try:
        for _ in range(3):
            case_id = new_case(pg_api)

            def decide(i: int, case_id: str = case_id) -> requests.Response:
                # Two colleagues approve the same step at the same moment, each with a key of their own.
                headers = who(NVA_WORKERS[i], **{"Idempotency-Key": uuid.uuid4().hex})
                url = f"{pg_api}/staff/cases/{case_id}/decisions"
                return requests.post(url, json=decision, headers=headers, timeout=30)

            responses = concurrently(2, decide)
            assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
            with engine.connect() as connection:
                decisions = connection.scalar(
                    text("SELECT count(*) FROM case_events WHERE application_id = :id AND kind = 'decision'"),
                    {"id": case_id},
                )
                step = connection.scalar(text("SELECT current_step FROM applications WHERE id = :id"), {"id": case_id})
            assert decisions == 1 and step == "vsaa-benefit"
    finally:
        engine.dispose()
