"""The error summary of a built WTForms form: every problem, each message naming its question."""

from __future__ import annotations

from typing import Any


def error_items(form: Any, within: str = "") -> list[tuple[str, str]]:
    """Return (field id, message) for every error of a built form, nested groups and addresses included.

    Each message in the summary names its question ("Personal code: ..."), so that the list makes sense on its own
    and several errors of the same kind can be told apart.
    """
    items: list[tuple[str, str]] = []
    for bound in form:
        label = f"{within}{bound.label.text}" if bound.type != "CSRFTokenField" else ""
        if bound.type == "CSRFTokenField":
            items += [("main", message) for message in bound.errors]
        elif bound.type == "FormField":
            items += error_items(bound.form, f"{label} – ")
            items += [(bound.id, f"{label}: {m}") for m in (bound.errors if isinstance(bound.errors, list) else [])]
        elif bound.type == "FieldList":
            for number, entry in enumerate(bound.entries, start=1):
                items += error_items(entry.form, f"{label} {number} – ")
            items += [(bound.id, f"{label}: {m}") for m in bound.errors if isinstance(m, str)]
        else:
            items += [(bound.id, f"{label}: {m}") for m in bound.errors if isinstance(m, str)]
    return items
