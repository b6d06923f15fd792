"""Check our JSON-LD against the vendored CPSV-AP 3.2.0 SHACL shapes (needs pyshacl, a dev dependency)."""

from __future__ import annotations

from functools import cache
from typing import Any

from rdflib import Graph, Namespace

from registry.cpsv.vocab import SHACL_PATH, graph_from_jsonld

SH = Namespace("http://www.w3.org/ns/shacl#")


@cache
def shapes_graph() -> Graph:
    """Return the CPSV-AP SHACL shapes, parsed once per process (parsing them is the slow part)."""
    return Graph().parse(SHACL_PATH, format="turtle")


def shacl_violations(document: Any) -> list[str]:
    """Return one line per SHACL violation of a JSON-LD document we produced (inference none)."""
    # Imported here so that production code, which never validates, does not need pyshacl installed.
    from pyshacl import validate

    _, results, _ = validate(graph_from_jsonld(document), shacl_graph=shapes_graph(), inference="none", advanced=False)
    return sorted(
        f"{results.value(r, SH.focusNode)} {results.value(r, SH.resultPath)}: {results.value(r, SH.resultMessage)}"
        for r in results.subjects(SH.resultSeverity, SH.Violation)
    )
