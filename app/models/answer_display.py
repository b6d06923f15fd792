"""Answers as a person reads them back on the check-your-answers page and the receipt."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency

from forms.conditions import visible_pages, visible_questions
from forms.model import FormDefinition, Question

YES_NO = {"lv": {True: "Jā", False: "Nē"}, "en": {True: "Yes", False: "No"}}


def _option_label(question: Question, value: object, lang: str) -> str:
    for option in question.options:
        if option.value == value:
            return option.label.get(lang)
    return str(value)


def answer_lines(question: Question, value: object, lang: str) -> list[str]:
    """Return the answer to `question` as lines of plain text in `lang` (escaped when rendered)."""
    if value is None:
        return []
    kind = question.type
    if kind in ("yes_no", "declaration"):
        return [YES_NO.get(lang, YES_NO["lv"])[bool(value)]]
    if kind == "single_choice":
        return [_option_label(question, value, lang)]
    if kind == "multiple_choice" and isinstance(value, list):
        return [_option_label(question, v, lang) for v in value]
    if kind == "date" and isinstance(value, str):
        return [format_date(date.fromisoformat(value), format="long", locale=lang)]
    if kind == "money" and isinstance(value, str):
        return [format_currency(float(value), "EUR", locale=lang)]
    if kind == "address" and isinstance(value, Mapping):
        return [", ".join(str(value[part]) for part in ("street", "city", "postal_code") if value.get(part))]
    if kind == "file" and isinstance(value, Mapping):
        return [str(value.get("name", ""))]
    if kind == "group" and isinstance(value, list):
        lines = []
        for item in value:
            parts = [
                " ".join(answer_lines(sub, item.get(sub.id), lang))
                for sub in question.questions
                if isinstance(item, Mapping) and item.get(sub.id) is not None
            ]
            lines.append("; ".join(p for p in parts if p))
        return lines
    return [str(value)]


def answer_summary(definition: FormDefinition, answers: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """Return the shown pages with their answered questions as lines of text, for reading back."""
    shown = {q.id for q in visible_questions(definition, answers)}
    return [
        {
            "page": p,
            "rows": [
                {"question": q, "lines": answer_lines(q, answers.get(q.id), lang), "value": answers.get(q.id)}
                for q in p.questions
                if q.id in shown and q.type not in ("info", "declaration")
            ],
        }
        for p in visible_pages(definition, answers)
    ]
