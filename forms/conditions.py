"""Evaluate `show_if` conditions on the server: which pages and questions are shown for the answers so far."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from forms import model
from forms.model import Compare, Condition, FormDefinition, Not, Page, Question

# The answer shapes a comparison understands; anything else never satisfies it (it fails validation anyway).
MONEY = re.compile(r"(?:0|[1-9][0-9]*)\.[0-9]{2}", re.ASCII)
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def is_visible(condition: Condition | None, answers: Mapping[str, object]) -> bool:
    """Return whether `condition` holds for `answers` (no condition: always shown)."""
    if condition is None:
        return True
    if isinstance(condition, Compare):
        return condition.question in answers and _compare(condition, answers[condition.question])
    if isinstance(condition, Not):
        return not is_visible(condition.condition, answers)
    if isinstance(condition, model.All):
        return all(is_visible(part, answers) for part in condition.conditions)
    return any(is_visible(part, answers) for part in condition.conditions)


@dataclass(frozen=True)
class Visibility:
    """What is shown for some answers, and the answers that count (those to shown questions)."""

    pages: tuple[Page, ...]
    questions: tuple[Question, ...]
    answers: dict[str, object]

    def shows(self, question_id: str) -> bool:
        """Return whether the top-level question is shown."""
        return any(question.id == question_id for question in self.questions)


def visibility(definition: FormDefinition, answers: Mapping[str, object]) -> Visibility:
    """Walk the form in order, evaluating each condition on the answers to questions shown before it."""
    # A condition only looks back, so one pass sees every answer it needs; an answer to a hidden question is
    # left out, so a question that depends on a hidden one is hidden too (as in the JSON Schema, where the
    # hidden answer must be absent).
    shown_answers: dict[str, object] = {}
    pages: list[Page] = []
    questions: list[Question] = []
    for page in definition.pages:
        if not is_visible(page.show_if, shown_answers):
            continue
        pages.append(page)
        for question in page.questions:
            if not is_visible(question.show_if, shown_answers):
                continue
            questions.append(question)
            if question.id in answers:
                shown_answers[question.id] = answers[question.id]
    return Visibility(tuple(pages), tuple(questions), shown_answers)


def visible_pages(definition: FormDefinition, answers: Mapping[str, object]) -> list[Page]:
    """Return the pages shown for these answers, in order."""
    return list(visibility(definition, answers).pages)


def visible_questions(definition: FormDefinition, answers: Mapping[str, object]) -> list[Question]:
    """Return the top-level questions shown for these answers: on a shown page and shown themselves."""
    return list(visibility(definition, answers).questions)


def visible_item_questions(group: Question, shown_answers: Mapping[str, object]) -> list[Question]:
    """Return the questions of a group item that are shown (their conditions look at top-level answers)."""
    return [question for question in group.questions if is_visible(question.show_if, shown_answers)]


def json_equal(left: object, right: object) -> bool:
    """Compare like JSON Schema `const`: true and 1 differ, 1 and 1.0 do not."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(json_equal(a, b) for a, b in zip(left, right, strict=True))
    if _number(left) is not None and _number(right) is not None:
        return left == right
    return type(left) is type(right) and left == right


def money_value(value: object) -> Decimal | None:
    """Return a canonical money answer (`"1234.50"`) as a Decimal, or None for anything else."""
    return Decimal(value) if isinstance(value, str) and MONEY.fullmatch(value) else None


def _number(value: object) -> Decimal | None:
    """Return a finite JSON number as a Decimal (a bool is not a number), or None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return Decimal(str(value))


def _compare(condition: Compare, answer: object) -> bool:
    """Apply one comparison to a present answer; the loader made sure the value suits the question's type."""
    values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
    if condition.op in ("equals", "one_of"):
        if isinstance(answer, list):
            # A multiple choice answer: is that option (or one of those options) selected?
            return any(json_equal(item, value) for item in answer for value in values)
        return any(_equal(answer, value) for value in values)
    limit = condition.value
    if isinstance(limit, str):
        # A date: ISO strings of the same shape sort like the dates they name.
        if not (isinstance(answer, str) and ISO_DATE.fullmatch(answer)):
            return False
        return answer > limit if condition.op == "greater_than" else answer < limit
    # Not `_number(answer) or ...`: an answer of 0 is a falsy Decimal.
    amount = _number(answer) if _number(answer) is not None else money_value(answer)
    bound = _number(limit)
    if amount is None or bound is None:
        return False
    return amount > bound if condition.op == "greater_than" else amount < bound


def _equal(answer: object, value: object) -> bool:
    """Equality of an answer and a condition value; a money answer is compared with a number as an amount."""
    money, number = money_value(answer), _number(value)
    if money is not None and number is not None:
        return money == number
    return json_equal(answer, value)
