"""Measure GET /services latency with 1,000 / 10,000 / 100,000 synthetic services.

Each size gets its own SQLite database, migrated by Alembic and seeded with the real reference lists, then filled with
synthetic services built from the seed's Latvian services and 1,801 real Finnish service names (shared/data/ptv).
A gunicorn registry (the same config as `make run`) serves it on loopback; one client measures sequential latency.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from registry.catalogue.seed import read_seed
from registry.db import make_engine
from registry.migrate import upgrade
from registry.models.seeding import load_seed
from registry.models.services import item_of
from registry.models.tables import (
    Service,
    ServiceAudience,
    ServiceDocument,
    ServiceInstitution,
    ServiceLifeEvent,
    ServiceSearch,
)
from registry.search.documents import search_fields
from registry.search.text import fold

ROOT = Path(__file__).resolve().parents[1]
FINNISH = ROOT.parent / "shared" / "data" / "ptv" / "service_list_fi.json"
QUERIES = {
    "first page": {},
    "first page, filtered": {"audience": "residents", "level": "4", "municipality": "riga"},
    "search 'berna pabalsts'": {"q": "berna pabalsts"},
    "search 'deklaresana'": {"q": "deklaresana"},
    "search 'registracija' (common)": {"q": "registracija"},
    "search + filter": {"q": "pabalsts", "audience": "residents"},
}


def synthetic_services(count: int, seed_services: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """Return `count` valid service documents, varied enough that search has work to do."""
    finnish: list[dict[str, str]] = []
    if FINNISH.exists():
        finnish = json.loads(FINNISH.read_text(encoding="utf-8"))
    out = []
    for i in range(count):
        base = dict(rng.choice(seed_services))
        if finnish and i % 2:
            row = finnish[i % len(finnish)]
            base["title"] = {"lv": row["name_fi"], "en": row["name_fi"]}
            base["summary"] = {"lv": row.get("summary_fi") or row["name_fi"], "en": row["name_fi"]}
        else:
            base["title"] = {k: f"{v} {i}" for k, v in base["title"].items()}
        base["id"] = f"sint-{i:06d}"
        out.append(base)
    return out


def fill(database_url: str, count: int) -> None:
    """Migrate, seed the reference lists and bulk-insert `count` synthetic services."""
    upgrade(database_url)
    seed = read_seed()
    engine = make_engine(database_url)
    with Session(engine) as session:
        load_seed(session, seed)
        session.commit()
        docs = synthetic_services(count, seed.services, random.Random(count))
        start = 10_000_000
        rows, documents, audiences, institutions, events, search = [], [], [], [], [], []
        for offset, doc in enumerate(docs):
            pk = start + offset
            rows.append(
                {
                    "pk": pk,
                    "id": doc["id"],
                    "status": "published",
                    "level": doc["level"],
                    "spatial": doc["spatial"],
                    "competent_authority": doc["competent_authority"],
                    "sort_key": fold(doc["title"]["lv"])[:300],
                    "updated_at": datetime(2026, 11, 1),
                }
            )
            documents.append({"service_pk": pk, "document": doc, "item": item_of(doc)})
            audiences += [{"service_pk": pk, "audience": a} for a in doc["audiences"]]
            institutions.append({"service_pk": pk, "institution_id": doc["competent_authority"], "role": "competent"})
            institutions += [
                {"service_pk": pk, "institution_id": p, "role": "participating"}
                for p in doc.get("participating_institutions", [])
                if p != doc["competent_authority"]
            ]
            events += [{"service_pk": pk, "life_event_id": e} for e in doc.get("life_events", [])]
            search.append({"service_pk": pk, **search_fields(doc)})
        for table, values in (
            (Service, rows),
            (ServiceDocument, documents),
            (ServiceAudience, audiences),
            (ServiceInstitution, institutions),
            (ServiceLifeEvent, events),
            (ServiceSearch, search),
        ):
            for chunk in range(0, len(values), 5000):
                session.execute(insert(table), values[chunk : chunk + 5000])
        session.commit()
        if engine.dialect.name == "sqlite":
            # PostgreSQL keeps its index in generated columns of service_search (registry/search/postgres.py).
            session.execute(text("INSERT INTO service_fts(service_fts) VALUES('optimize')"))
        session.execute(text("ANALYZE"))
        session.commit()
    engine.dispose()


def serve(
    database_url: str, port: int, env: dict[str, str] | None = None, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start the registry with the production gunicorn config; stop it again if it does not come up.

    `env` adds to this process's environment (REGISTRY_WORKERS, REGISTRY_IDENTITY_SECRET, ...); `log` keeps its
    stderr (gunicorn's log: start-up, errors), which is otherwise dropped.
    """
    env = {**os.environ, **(env or {}), "REGISTRY_DATABASE_URL": database_url, "REGISTRY_PORT": str(port)}
    with open(log or os.devnull, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "registry/gunicorn.conf.py", "registry.wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    for _ in range(300):
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log else f"is port {port} free?"
            raise RuntimeError(f"registry exited with {process.returncode}: {tail}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.1)  # gunicorn accepts connections before its workers have imported the app
    process.terminate()
    raise RuntimeError("registry did not start")


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def measure(
    url: str, params: dict[str, str], repeat: int, headers: dict[str, str] | None = None
) -> tuple[float, float, float, float, int]:
    """Return client median and p95, server (Server-Timing) median and p95 in ms, and the result count."""
    session = requests.Session()
    session.headers.update(headers or {})
    total = session.get(url, params=params, timeout=10).json().get("total", 1)  # warm-up
    client, server = [], []
    for _ in range(repeat):
        began = time.perf_counter()
        response = session.get(url, params=params, timeout=10)
        client.append((time.perf_counter() - began) * 1000)
        response.raise_for_status()
        server.append(float(response.headers["Server-Timing"].split("dur=")[1]))
    return statistics.median(client), _p95(client), statistics.median(server), _p95(server), total


def main() -> None:
    """Run the benchmark and print one markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--port", type=int, default=5091)
    args = parser.parse_args()
    print("| services | request | results | client median ms | client p95 ms | server median ms | server p95 ms |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            database_url = f"sqlite:///{tmp}/bench.sqlite3"
            began = time.perf_counter()
            fill(database_url, size)
            print(f"<!-- {size}: filled in {time.perf_counter() - began:.1f} s -->", file=sys.stderr)
            process = serve(database_url, args.port)
            try:
                base = f"http://127.0.0.1:{args.port}/api/v1"
                for label, params in QUERIES.items():
                    *times, total = measure(f"{base}/services", params, args.repeat)
                    print(f"| {size:,} | {label} | {total:,} | " + " | ".join(f"{t:.1f}" for t in times) + " |")
                *times, _ = measure(f"{base}/services/sint-{size // 2:06d}", {}, args.repeat)
                print(f"| {size:,} | detail | 1 | " + " | ".join(f"{t:.1f}" for t in times) + " |", flush=True)
            finally:
                process.terminate()
                process.wait(timeout=10)


if __name__ == "__main__":
    main()
