"""Example answers are valid answers of every seeded form, however much of the form they fill in."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from forms.answers import validate_answers
from forms.conditions import visible_questions
from forms.examples import example_answers
from forms.loader import load_definition_file
from forms.model import Question

FORMS = sorted((Path(__file__).resolve().parents[3] / "registry" / "seed" / "forms").glob("*.application.yaml"))
TODAY = date(2026, 11, 28)
KNOWN = {"person.name": "Anna Bērziņa", "person.personal_code": "150585-12343"}


def a_file(question: Question) -> dict[str, Any]:
    extension = question.accept[0] if question.accept else "pdf"
    return {"file_id": "f" * 32, "name": f"dokuments.{extension}", "size": 1000, "content_type": "application/pdf"}


@pytest.mark.parametrize("path", FORMS, ids=lambda p: p.name.split(".")[0])
@pytest.mark.parametrize("every_question", [False, True])
@pytest.mark.parametrize("yes", [False, True])
def test_example_answers_are_valid(path: Path, every_question: bool, yes: bool) -> None:
    definition = load_definition_file(path)
    answers = example_answers(
        definition, today=TODAY, known=KNOWN, yes=yes, every_question=every_question, group_items=2, file=a_file
    )
    assert validate_answers(definition, answers, today=TODAY) == {}
    shown = {q.id for q in visible_questions(definition, answers) if q.has_answer}
    required = {q.id for q in visible_questions(definition, answers) if q.has_answer and q.required}
    assert required <= set(answers)
    if every_question:
        assert shown <= set(answers)


def test_without_a_file_maker_file_questions_are_left_out() -> None:
    path = next(p for p in FORMS if p.name.startswith("komersanta-registracija"))
    definition = load_definition_file(path)
    answers = example_answers(definition, today=TODAY, every_question=True)
    files = {q.id for q in definition.questions() if q.type == "file"}
    assert files and not files & set(answers)
