"""Load the catalogue JSON Schema and validate documents against it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "catalogue.schema.json"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a document, located by a JSON Pointer."""

    pointer: str
    detail: str

    def as_json(self) -> dict[str, str]:
        """Return the RFC 9457 `errors` member for this problem."""
        return {"pointer": self.pointer, "detail": self.detail}


@cache
def catalogue_schema() -> dict[str, Any]:
    """Return the catalogue schema document (with all `$defs`)."""
    with SCHEMA_PATH.open(encoding="utf-8") as fh:
        return json.load(fh)


@cache
def _validator(kind: str) -> Draft202012Validator:
    schema = dict(catalogue_schema())
    schema["$ref"] = f"#/$defs/{kind}"
    return Draft202012Validator(schema, format_checker=FormatChecker())


def pointer(path: Any) -> str:
    """Turn a jsonschema error path into a JSON Pointer fragment."""
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in path]
    return "#/" + "/".join(parts) if parts else "#"


def schema_problems(kind: str, document: Any) -> list[Problem]:
    """Return the ways `document` breaks the schema of `kind` (Service, Institution...)."""
    errors = sorted(_validator(kind).iter_errors(document), key=lambda e: list(map(str, e.path)))
    return [Problem(pointer(e.path), e.message[:300]) for e in errors]
