"""Read the version-controlled seed catalogue (YAML) and check it before it is loaded."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from forms.loader import DefinitionError, load_definition
from registry.catalogue.data_request_kinds import data_request_kind_problems
from registry.catalogue.processes import process_problems
from registry.catalogue.rules import publication_problems, reference_problems
from registry.catalogue.schema import schema_problems

SEED_DIR = Path(__file__).resolve().parent.parent / "seed"
SEED_LANGUAGES = ("lv", "en")


@dataclass
class SeedData:
    """The whole seed catalogue as plain JSON-like documents."""

    municipalities: list[dict[str, Any]] = field(default_factory=list)
    institutions: list[dict[str, Any]] = field(default_factory=list)
    life_events: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    forms: list[dict[str, Any]] = field(default_factory=list)
    processes: list[dict[str, Any]] = field(default_factory=list)
    data_request_kinds: list[dict[str, Any]] = field(default_factory=list)


def _read_yaml(path: Path) -> Any:
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def read_seed(seed_dir: Path = SEED_DIR) -> SeedData:
    """Read every seed file under `seed_dir`: one file per service, one per reference list."""
    return SeedData(
        municipalities=_read_yaml(seed_dir / "municipalities.yaml") or [],
        institutions=_read_yaml(seed_dir / "institutions.yaml") or [],
        life_events=_read_yaml(seed_dir / "life_events.yaml") or [],
        services=[_read_yaml(p) for p in sorted((seed_dir / "services").glob("*.yaml"))],
        forms=[_read_yaml(p) for p in sorted((seed_dir / "forms").glob("*.yaml"))],
        processes=[_read_yaml(p) for p in sorted((seed_dir / "processes").glob("*.yaml"))],
        data_request_kinds=[_read_yaml(p) for p in sorted((seed_dir / "data_requests").glob("*.yaml"))],
    )


def _texts(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Find every multilingual text object (a dict with an `lv` string) inside `node`."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if isinstance(node.get("lv"), str):
            found.append((path, node))
        for key, value in node.items():
            found.extend(_texts(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_texts(value, f"{path}/{i}"))
    return found


def seed_problems(data: SeedData) -> list[str]:
    """Return every problem in the seed: schema errors, broken references, missing translations, duplicates."""
    problems: list[str] = []
    kinds = {
        "Municipality": data.municipalities,
        "Institution": data.institutions,
        "LifeEvent": data.life_events,
        "Service": data.services,
    }
    for kind, documents in kinds.items():
        seen: set[str] = set()
        for doc in documents:
            ident = doc.get("id", "?") if isinstance(doc, dict) else "?"
            problems += [f"{kind} {ident}: {p.pointer}: {p.detail}" for p in schema_problems(kind, doc)]
            if ident in seen:
                problems.append(f"{kind} {ident}: duplicate id")
            seen.add(ident)
            for where, text in _texts(doc):
                missing = [lang for lang in SEED_LANGUAGES if not text.get(lang)]
                if missing:
                    problems.append(f"{kind} {ident}: {where or '/'}: missing {', '.join(missing)}")
    known = {
        "municipalities": {m["id"] for m in data.municipalities},
        "institutions": {i["id"] for i in data.institutions},
        "life_events": {e["id"] for e in data.life_events},
    }
    for inst in data.institutions:
        if inst.get("municipality") and inst["municipality"] not in known["municipalities"]:
            problems.append(f"Institution {inst['id']}: unknown municipality {inst['municipality']}")
    for svc in data.services:
        sid = svc.get("id", "?")
        problems += [f"Service {sid}: {p.pointer}: {p.detail}" for p in reference_problems(svc, known)]
        problems += [f"Service {sid}: {p.pointer}: {p.detail}" for p in publication_problems(svc)]
        problems += [
            f"Service {sid}: keywords missing {lang}" for lang in SEED_LANGUAGES if lang not in svc.get("keywords", {})
        ]
    problems += _form_problems(data, {s.get("id") for s in data.services})
    problems += _process_problems(data)
    problems += data_request_kind_problems(data.data_request_kinds, known["institutions"])
    return problems


def _form_problems(data: SeedData, service_ids: set[Any]) -> list[str]:
    """Check every form definition with the forms package, and that its service is in the seed."""
    problems: list[str] = []
    for document in data.forms:
        name = (
            f"Form {document.get('service', '?')}/{document.get('form', '?')}" if isinstance(document, dict) else "Form"
        )
        try:
            definition = load_definition(document)
        except DefinitionError as exc:
            problems += [f"{name}: {problem}" for problem in exc.problems]
            continue
        if definition.service not in service_ids:
            problems.append(f"{name}: unknown service {definition.service!r}")
    return problems


def _process_problems(data: SeedData) -> list[str]:
    """Check every process: its shape, its service, its steps' institutions, and that each step has its form."""
    services = {s.get("id"): s for s in data.services if isinstance(s, dict)}
    institutions = {i.get("id") for i in data.institutions if isinstance(i, dict)}
    forms = {(f.get("service"), f.get("form")) for f in data.forms if isinstance(f, dict)}
    problems: list[str] = []
    for document in data.processes:
        name = f"Process {document.get('service', '?')}" if isinstance(document, dict) else "Process"
        found = process_problems(document)
        if found:
            problems += [f"{name}: {problem}" for problem in found]
            continue
        service = services.get(document["service"])
        if service is None:
            problems.append(f"{name}: unknown service {document['service']!r}")
            continue
        if service.get("level", 0) < 4:
            problems.append(f"{name}: only level 4 services are processed online")
        for step in document["steps"]:
            if step["institution"] not in institutions:
                problems.append(f"{name}: step {step['id']}: unknown institution {step['institution']!r}")
            if (document["service"], step["form"]) not in forms:
                problems.append(f"{name}: step {step['id']}: no form {step['form']!r} for the service")
    return problems


if __name__ == "__main__":  # pragma: no cover - a helper for people editing the seed
    found = seed_problems(read_seed())
    print("\n".join(found) or "seed ok")
    raise SystemExit(1 if found else 0)
