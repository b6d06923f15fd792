"""Example answers built from a definition: valid for every question type, for benchmarks, tests and previews.

`Examples(...).answers(definition)` (or `example_answers`) answers what a person filling the form in would have to
(every required question shown by the answers so far), or every question with `every_question`, and says "yes" to
yes/no questions with `yes`, so that every conditional part is shown. File questions need a stored file: pass
`file` to make one, or they are skipped.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from forms.answers import clean_answers
from forms.conditions import visible_questions
from forms.model import FormDefinition, Question

# Valid answers of the types that need no more than a constant (they pass forms.validators).
SIMPLE: dict[str, Any] = {
    "email": "anna@example.lv",
    "phone": "+37121234567",
    "personal_code": "150585-12343",
    "company_number": "40003245752",
    "iban": "LV80BANK0000435195001",
    "postal_code": "LV-1050",
    "address": {"street": "Jēkaba iela 11-5", "city": "Rīga", "postal_code": "LV-1050"},
    "declaration": True,
}
# How often the answers can reveal more questions before the generator gives up (conditions are acyclic).
MAX_ROUNDS = 20

FileMaker = Callable[[Question], Any]


@dataclass(frozen=True)
class Examples:
    """How to fill a form in: `known` prefill values (`person.name`: "Anna Bērziņa", ...), "yes" or "no" to yes/no
    questions, the required questions or every one, how many items per group, and how to make a stored file."""

    today: date
    known: Mapping[str, Any] = field(default_factory=dict)
    yes: bool = False
    every_question: bool = False
    group_items: int = 1
    file: FileMaker | None = None

    def answer(self, question: Question) -> Any:
        """Return a valid answer to `question` (None for a file question without a file maker)."""
        if question.prefill and self.known.get(question.prefill) is not None:
            return self.known[question.prefill]
        kind = question.type
        if kind in ("text", "long_text"):
            return "Pārbaude" + "x" * max(0, (question.min_length or 0) - 8)
        if kind == "number":
            return int(question.min if question.min is not None else 1)
        if kind == "money":
            return f"{question.min if question.min is not None else 100:.2f}"
        if kind == "date":
            days = timedelta(days=10)
            return (self.today + days if question.not_in_past else self.today - days).isoformat()
        if kind == "yes_no":
            return self.yes
        if kind in SIMPLE:
            return copy.deepcopy(SIMPLE[kind])
        if kind == "file":
            return None if self.file is None else self.file(question)
        if kind == "single_choice":
            return question.options[0].value
        if kind == "multiple_choice":
            return [o.value for o in question.options[: max(1, question.min_items or 1)]]
        if kind == "group":
            return [self._item(question) for _ in range(max(self.group_items, question.min_items or 1))]
        raise ValueError(f"no example answer for a {kind} question ({question.id})")

    def _item(self, group: Question) -> dict[str, Any]:
        asked = [q for q in group.questions if q.has_answer and (self.every_question or q.required or q.show_if)]
        values = {q.id: self.answer(q) for q in asked}
        return {key: value for key, value in values.items() if value is not None}

    def answers(self, definition: FormDefinition) -> dict[str, Any]:
        """Answer the form as a person would: what must be answered (or everything), and the declaration."""
        answers: dict[str, Any] = {}
        for _ in range(MAX_ROUNDS):  # an answer can show more questions: repeat until nothing new is shown
            missing = [
                q
                for q in visible_questions(definition, answers)
                if q.has_answer
                and (self.every_question or q.required)
                and q.id not in answers
                and not (q.type == "file" and self.file is None)
            ]
            if not missing:
                break
            answers |= {q.id: self.answer(q) for q in missing}
        # A later answer can hide a question answered earlier (in every_question mode): drop what is not asked.
        answers = clean_answers(definition, answers)
        if definition.declaration is not None:
            answers["declaration"] = True
        return answers


def example_answers(definition: FormDefinition, **options: Any) -> dict[str, Any]:
    """Shorthand for `Examples(**options).answers(definition)`."""
    return Examples(**options).answers(definition)
