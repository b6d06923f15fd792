"""Rules a service document must follow beyond its JSON Schema: references exist, published text is Latvian."""

from __future__ import annotations

from typing import Any

from registry.catalogue.schema import Problem, schema_problems

# A published service is shown on Latvian portals first, so these texts must exist in Latvian.
PUBLISHED_NEEDS_LATVIAN = ("title", "summary", "description")


def reference_problems(service: dict[str, Any], known: dict[str, set[str]]) -> list[Problem]:
    """Return problems for institutions, life events or a municipality the service names but nobody knows."""
    problems: list[Problem] = []
    institutions = known["institutions"]
    if service.get("competent_authority") not in institutions:
        problems.append(Problem("#/competent_authority", f"unknown institution {service.get('competent_authority')!r}"))
    for i, inst in enumerate(service.get("participating_institutions", [])):
        if inst not in institutions:
            problems.append(Problem(f"#/participating_institutions/{i}", f"unknown institution {inst!r}"))
    for i, step in enumerate(service.get("steps", [])):
        if step.get("institution") not in institutions:
            problems.append(Problem(f"#/steps/{i}/institution", f"unknown institution {step.get('institution')!r}"))
    for i, event in enumerate(service.get("life_events", [])):
        if event not in known["life_events"]:
            problems.append(Problem(f"#/life_events/{i}", f"unknown life event {event!r}"))
    spatial = service.get("spatial")
    if spatial != "LV" and spatial not in known["municipalities"]:
        problems.append(Problem("#/spatial", f"unknown municipality {spatial!r}; use LV for nationwide services"))
    return problems


def publication_problems(service: dict[str, Any]) -> list[Problem]:
    """Return problems that stop a service from being published (missing Latvian text)."""
    if service.get("status") != "published":
        return []
    return [
        Problem(f"#/{key}/lv", "a published service needs this text in Latvian")
        for key in PUBLISHED_NEEDS_LATVIAN
        if not (service.get(key) or {}).get("lv")
    ]


def service_problems(service: Any, known: dict[str, set[str]]) -> list[Problem]:
    """Return every problem of a service document: schema first, then references and publication rules."""
    problems = schema_problems("Service", service)
    if problems:
        return problems
    return reference_problems(service, known) + publication_problems(service)
