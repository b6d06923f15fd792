"""Conditions: comparisons by answer type, combinations, and which pages and questions are shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from forms.conditions import is_visible, visible_item_questions, visible_pages, visible_questions
from forms.loader import load_definition, load_definition_file
from forms.model import All, Any, Compare, Condition, Not

SAMPLE = load_definition_file(Path(__file__).parents[2] / "fixtures" / "forms" / "sample.application.yaml")


@pytest.mark.parametrize(
    ("condition", "answers", "shown"),
    [
        (None, {}, True),
        (Compare("ground", "equals", "tenant"), {"ground": "tenant"}, True),
        (Compare("ground", "equals", "tenant"), {"ground": "owner"}, False),
        (Compare("ground", "equals", "tenant"), {}, False),  # unanswered never equals anything
        (Not(Compare("ground", "equals", "owner")), {}, True),  # ... so "not owner" holds when unanswered
        (Compare("ground", "one_of", ("tenant", "relative")), {"ground": "relative"}, True),
        (Compare("ground", "one_of", ("tenant", "relative")), {"ground": "owner"}, False),
        (Compare("alone", "equals", True), {"alone": True}, True),
        (Compare("alone", "equals", True), {"alone": 1}, False),  # true and 1 differ, as in JSON Schema
        (Compare("alone", "equals", False), {"alone": 0}, False),
        (Compare("count", "equals", 2), {"count": 2.0}, True),
        (Compare("count", "greater_than", 2), {"count": 3}, True),
        (Compare("count", "greater_than", 2), {"count": 2}, False),
        (Compare("count", "greater_than", 2), {"count": "3"}, False),  # text is not a number
        (Compare("count", "less_than", 2), {"count": 1.5}, True),
        (Compare("count", "greater_than", 0), {"count": 0}, False),
        (Compare("count", "less_than", 1), {"count": 0}, True),
        (Compare("count", "less_than", 1), {"count": True}, False),
        (Compare("income", "greater_than", 1000), {"income": "1000.01"}, True),  # money answers are strings
        (Compare("income", "greater_than", 1000), {"income": "1000.00"}, False),
        (Compare("income", "less_than", 400.5), {"income": "400.49"}, True),
        (Compare("income", "equals", 250), {"income": "250.00"}, True),
        (Compare("income", "greater_than", 10), {"income": "12,50"}, False),  # not a canonical amount
        (Compare("moved", "greater_than", "2025-01-01"), {"moved": "2025-01-02"}, True),
        (Compare("moved", "greater_than", "2025-01-01"), {"moved": "2025-01-01"}, False),
        (Compare("moved", "less_than", "2025-01-01"), {"moved": "2024-12-31"}, True),
        (Compare("moved", "less_than", "2025-01-01"), {"moved": "1.1.2024"}, False),
        (Compare("sources", "equals", "other"), {"sources": ["salary", "other"]}, True),  # "is ticked"
        (Compare("sources", "equals", "other"), {"sources": ["salary"]}, False),
        (Compare("sources", "one_of", ("pension", "other")), {"sources": ["other"]}, True),
        (Compare("sources", "greater_than", 1), {"sources": [2]}, False),
    ],
)
def test_comparisons(condition: Condition | None, answers: dict[str, object], shown: bool) -> None:
    assert is_visible(condition, answers) is shown


def test_combinations() -> None:
    a, b = Compare("a", "equals", "x"), Compare("b", "equals", "y")
    assert is_visible(All((a, b)), {"a": "x", "b": "y"})
    assert not is_visible(All((a, b)), {"a": "x"})
    assert is_visible(Any((a, b)), {"b": "y"})
    assert not is_visible(Any((a, b)), {})
    assert is_visible(All((a, Any((b, Not(b))))), {"a": "x"})
    assert not is_visible(Not(All((a, Not(b)))), {"a": "x"})


def ids(questions: list) -> list[str]:  # type: ignore[type-arg]
    return [question.id for question in questions]


def test_a_page_condition_hides_the_page_and_its_questions() -> None:
    assert "members" not in ids(visible_pages(SAMPLE, {"lives_alone": True}))
    assert "members" not in ids(visible_questions(SAMPLE, {"lives_alone": True}))
    assert "members" not in ids(visible_pages(SAMPLE, {}))
    assert "members" in ids(visible_pages(SAMPLE, {"lives_alone": False}))
    assert "members" in ids(visible_questions(SAMPLE, {"lives_alone": False}))


def test_question_conditions() -> None:
    shown = ids(visible_questions(SAMPLE, {"tenure": "tenant", "payment_method": "cash"}))
    assert {"rental_agreement", "monthly_rent", "post_office"} <= set(shown)
    assert "iban" not in shown and "home_notes" not in shown
    assert "home_notes" in ids(visible_questions(SAMPLE, {"rooms": 5}))
    assert "income_proof" in ids(visible_questions(SAMPLE, {"monthly_income": "0.01"}))
    assert "income_proof" not in ids(visible_questions(SAMPLE, {"monthly_income": "0.01", "lives_alone": True}))
    assert "low_income_note" in ids(visible_questions(SAMPLE, {"monthly_income": "400.00"}))
    assert "previous_address_proof" in ids(visible_questions(SAMPLE, {"moved_in": "2025-06-01"}))


def test_questions_keep_the_form_order() -> None:
    order = [question.id for question in SAMPLE.questions()]
    shown = ids(visible_questions(SAMPLE, {"tenure": "tenant", "lives_alone": False}))
    assert shown == [question_id for question_id in order if question_id in shown]


def test_an_answer_to_a_hidden_question_controls_nothing() -> None:
    text = {"lv": "x", "en": "x"}
    definition = load_definition(
        {
            "service": "chain",
            "form": "application",
            "version": 1,
            "title": text,
            "pages": [
                {
                    "id": "only",
                    "title": text,
                    "questions": [
                        {"id": "a", "type": "yes_no", "label": text},
                        {"id": "b", "type": "yes_no", "label": text, "show_if": {"question": "a", "equals": True}},
                        {"id": "c", "type": "text", "label": text, "show_if": {"question": "b", "equals": True}},
                    ],
                }
            ],
        }
    )
    assert ids(visible_questions(definition, {"a": True, "b": True})) == ["a", "b", "c"]
    # b is hidden once a is false, so its stale answer no longer shows c.
    assert ids(visible_questions(definition, {"a": False, "b": True})) == ["a"]


def test_a_group_question_can_depend_on_an_earlier_answer() -> None:
    members = SAMPLE.question("members")
    assert ids(visible_item_questions(members, {"tenure": "tenant"})) == ["name", "personal_code", "relation", "income"]
    assert ids(visible_item_questions(members, {"tenure": "owner"})) == ["name", "personal_code", "relation"]
