"""The answers' JSON Schema: a valid schema that accepts answers which satisfy the definition, rejects what
validate_answers rejects (missing, hidden, wrong type, not an option), and compares amounts and dates right."""

from __future__ import annotations

import math
import re
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from forms import validators
from forms.answers import validate_answers
from forms.conditions import is_visible, visibility
from forms.json_schema import answers_schema, date_pattern, money_pattern
from forms.loader import load_definition_file
from forms.model import DECLARATION_ID, FormDefinition, Question

FIXTURES = Path(__file__).parents[2] / "fixtures" / "forms"
PATHS = [
    FIXTURES / "sample.application.yaml",
    *sorted((Path(__file__).parents[3] / "registry/seed/forms").glob("*.yaml")),
]
TODAY = date(2026, 3, 7)
MIB = 1024 * 1024


@cache
def definition(path: Path) -> FormDefinition:
    return load_definition_file(path)


@cache
def validator(path: Path) -> Draft202012Validator:
    return Draft202012Validator(answers_schema(definition(path)), format_checker=validators.format_checker())


SAMPLE = FIXTURES / "sample.application.yaml"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_the_schema_is_a_valid_2020_12_schema(path: Path) -> None:
    schema = answers_schema(definition(path))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False


def test_the_sample_schema() -> None:
    schema = answers_schema(definition(SAMPLE))
    assert schema["$id"] == "urn:lv-eservices:form:majokla-pabalsts:application:2"
    properties = schema["properties"]
    assert "applicant_intro" not in properties  # info takes no answer
    assert properties["declaration"] == {"title": "Apliecinu, ka sniegtās ziņas ir patiesas.", "const": True}
    assert properties["applicant_personal_code"]["format"] == "lv-personal-code"
    assert properties["iban"]["pattern"] == "^LV"
    assert properties["birth_date"]["format"] == "date"
    assert properties["rooms"] == {"title": "Istabu skaits", "type": "integer", "minimum": 1, "maximum": 20}
    members = properties["members"]
    assert (members["minItems"], members["maxItems"]) == (1, 10)
    assert members["items"]["required"] == ["name", "personal_code", "relation"]
    assert members["items"]["additionalProperties"] is False
    assert schema["required"][:3] == ["applicant_name", "applicant_personal_code", "birth_date"]
    assert "iban" not in schema["required"] and "members" not in schema["required"]
    rent = next(
        rule
        for rule in schema["allOf"]
        if rule["if"] == {"required": ["tenure"], "properties": {"tenure": {"const": "tenant"}}}
    )
    assert rent["then"] == {"required": ["rental_agreement", "monthly_rent"]}
    assert rent["else"] == {"not": {"anyOf": [{"required": ["rental_agreement"]}, {"required": ["monthly_rent"]}]}}


# --- generated answers ----------------------------------------------------------------------------------------

PERSONAL_CODES = st.sampled_from(["161175-19997", "180565-05610", "061193-06460", "290212-29381"]) | st.from_regex(
    r"3[2-9][0-9]{4}-[0-9]{5}", fullmatch=True
)
WORDS = st.text(st.characters(codec="utf-8", categories=["L", "N", "Zs", "P"]), min_size=1, max_size=20)


def cents(amount: float) -> int:
    return int(Decimal(str(amount)) * 100)


def value_of(question: Question) -> st.SearchStrategy[Any]:
    """Answers a question accepts."""
    kind = question.type
    if kind in ("text", "long_text"):
        shortest = max(1, question.min_length or 0)
        letters = st.characters(codec="utf-8", exclude_categories=["Cs"])
        longest = min(shortest + 30, question.max_length) if question.max_length else shortest + 30
        return st.text(letters, min_size=shortest, max_size=longest)
    if kind == "number":
        smallest = question.min if question.min is not None else -1e9
        largest = question.max if question.max is not None else 1e9
        if question.integer:
            return st.integers(math.ceil(smallest), math.floor(largest))
        return st.floats(smallest, largest, allow_nan=False, allow_infinity=False)
    if kind == "money":
        least = cents(question.min) if question.min is not None else 0
        most = cents(question.max) if question.max is not None else 10**11
        return st.integers(least, most).map(lambda c: f"{c // 100}.{c % 100:02d}")
    if kind == "date":
        earliest = TODAY if question.not_in_past else date(1900, 1, 1)
        latest = TODAY if question.not_in_future else date(2100, 12, 31)
        return st.dates(earliest, latest).map(date.isoformat)
    fixed = {
        "email": st.sampled_from(["janis@example.lv", "vards.uzvards+x@mail.example.com"]),
        "phone": st.sampled_from(["+37121234567", "+37167123456", "+37129876543", "+4915112345678"]),
        "personal_code": PERSONAL_CODES,
        "company_number": st.sampled_from(["40003032065", "40003466281", "90000050138", "90000069830"]),
        "iban": st.sampled_from(["LV84TREL1060190913200", "LV80BANK0000435195001"]),
        "postal_code": st.integers(1000, 9999).map(lambda n: f"LV-{n}"),
        "single_choice": st.sampled_from(question.option_values or ("x",)),
        "yes_no": st.booleans(),
        "declaration": st.just(True),
    }
    if kind in fixed:
        return fixed[kind]
    if kind == "address":
        return st.fixed_dictionaries({"street": WORDS, "city": WORDS, "postal_code": fixed["postal_code"]})
    if kind == "multiple_choice":
        values = question.option_values
        low = max(1, question.min_items or 0)
        return st.lists(st.sampled_from(values), unique=True, min_size=low, max_size=question.max_items or len(values))
    assert kind == "file"
    extension = st.sampled_from(question.accept or ("pdf",)).flatmap(lambda ext: st.sampled_from([ext, ext.upper()]))
    limit = math.floor(question.max_size_mb * MIB) if question.max_size_mb else 10**9
    return st.fixed_dictionaries(
        {
            "file_id": st.uuids().map(str),
            "name": st.tuples(WORDS, extension).map(lambda parts: f"{parts[0]}.{parts[1]}"),
            "size": st.integers(0, limit),
            "content_type": st.sampled_from(["application/pdf", "image/jpeg", ""]),
        }
    )


@st.composite
def valid_answers(draw: st.DrawFn, definition: FormDefinition) -> dict[str, Any]:
    """Answer a definition page by page, as a person would: shown questions only, every required one."""
    answers: dict[str, Any] = {}
    for page in definition.pages:
        if not is_visible(page.show_if, answers):
            continue
        for question in page.questions:
            if (
                question.has_answer
                and is_visible(question.show_if, answers)
                and (question.required or draw(st.booleans()))
            ):
                answers[question.id] = draw(
                    group_items(question, answers) if question.type == "group" else value_of(question)
                )
    if definition.declaration is not None:
        answers[DECLARATION_ID] = True
    return answers


@st.composite
def group_items(draw: st.DrawFn, group: Question, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """Items of a group, each answering its shown questions."""
    low = max(1, group.min_items or 0)
    count = draw(st.integers(low, max(low, min(group.max_items or 3, 3))))
    items = []
    for _ in range(count):
        item = {}
        for sub in group.questions:
            if sub.has_answer and is_visible(sub.show_if, answers) and (sub.required or draw(st.booleans())):
                item[sub.id] = draw(value_of(sub))
        items.append(item)
    return items


def schema_errors(path: Path, answers: dict[str, Any]) -> list[str]:
    return [error.message for error in validator(path).iter_errors(answers)]


# Few examples per definition, many definitions: the suite stays fast. No example database in the work tree.
FAST = settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
@FAST
@given(data=st.data())
def test_answers_that_satisfy_the_definition_satisfy_the_schema(path: Path, data: st.DataObject) -> None:
    answers = data.draw(valid_answers(definition(path)))
    assert schema_errors(path, answers) == []
    assert validate_answers(definition(path), answers, today=TODAY) == {}


WRONG_TYPE = {"string": 12345, "number": "12", "boolean": "true", "array": "x", "object": "x"}


def wrong_value(question: Question) -> object:
    """A value of the wrong JSON type for a question."""
    kinds = {"number": "number", "yes_no": "boolean", "declaration": "boolean", "multiple_choice": "array"}
    kinds |= {"group": "array", "address": "object", "file": "object"}
    return WRONG_TYPE[kinds.get(question.type, "string")]


def can_make(mistake: str, path: Path) -> bool:
    """Whether a definition allows the mistake: a hidden answer needs a condition, a wrong option a choice."""
    form = definition(path)
    if mistake == "hidden":
        return any(q.show_if or form.page_of(q.id).show_if for q in form.questions() if q.type not in ("group", "info"))
    if mistake == "not an option":
        return any(q.type in ("single_choice", "multiple_choice") for q in form.questions())
    return True


MISTAKES = ["missing", "hidden", "wrong type", "not an option", "unknown"]


@pytest.mark.parametrize(
    ("mistake", "path"),
    [(mistake, path) for mistake in MISTAKES for path in PATHS if can_make(mistake, path)],
    ids=lambda value: value.stem if isinstance(value, Path) else value,
)
@settings(FAST, max_examples=10, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_the_schema_and_validate_answers_reject_the_same_mistakes(
    mistake: str, path: Path, data: st.DataObject
) -> None:
    form = definition(path)
    answers = data.draw(valid_answers(form))
    shown = visibility(form, answers)
    top = [question for question in form.questions() if question.has_answer]
    if mistake == "missing":
        candidates = [q for q in shown.questions if q.required and q.id in answers]
        assume(candidates)
        target = data.draw(st.sampled_from(candidates))
        del answers[target.id]
        expected: str | None = "declaration.required" if target.type == "declaration" else "required"
    elif mistake == "hidden":
        candidates = [q for q in top if not shown.shows(q.id) and q.type != "group"]
        assume(candidates)
        target = data.draw(st.sampled_from(candidates))
        answers[target.id] = data.draw(value_of(target))
        expected = "hidden"
    elif mistake == "wrong type":
        target = data.draw(st.sampled_from([q for q in top if q.id in answers]))
        answers[target.id] = wrong_value(target)
        expected = None  # the key depends on the type (invalid, number.invalid, not_an_option, ...)
    elif mistake == "not an option":
        candidates = [q for q in top if q.id in answers and q.type in ("single_choice", "multiple_choice")]
        assume(candidates)
        target = data.draw(st.sampled_from(candidates))
        answers[target.id] = "no-such-option" if target.type == "single_choice" else ["no-such-option"]
        expected = "not_an_option"
    else:
        target = Question(id="no_such_question", type="text")
        answers[target.id] = "x"
        expected = "unknown"
    assert schema_errors(path, answers), answers
    problems = validate_answers(form, answers, today=TODAY)
    assert target.id in problems, problems
    if expected is not None:
        assert problems[target.id] == [expected]


def test_the_sample_with_fixed_mistakes() -> None:
    form = definition(SAMPLE)
    base = {
        "applicant_name": "Jānis Bērziņš",
        "applicant_personal_code": "161175-19997",
        "birth_date": "1975-11-16",
        "contact_phone": "+37121234567",
        "address": {"street": "Jēkaba iela 11-5", "city": "Rīga", "postal_code": "LV-1050"},
        "municipality": "riga",
        "moved_in": "2024-03-01",
        "tenure": "owner",
        "rooms": 2,
        "lives_alone": True,
        "monthly_income": "350.00",
        "income_sources": ["pension"],
        "payment_method": "cash",
        "post_office": "LV-1050",
        "registry_check": True,
        "declaration": True,
    }
    assert schema_errors(SAMPLE, base) == [] and validate_answers(form, base, today=TODAY) == {}
    mistakes: list[tuple[dict[str, object], str]] = [
        ({"applicant_personal_code": "161175-19996"}, "personal_code.checksum"),  # a format the schema asserts
        ({"post_office": "1050"}, "postal_code.invalid"),
        ({"iban": "LV84TREL1060190913200"}, "hidden"),
        ({"monthly_income": "350.5"}, "money.invalid"),
        ({"rooms": 2.5}, "number.invalid"),
        ({"members": [{"name": "A", "personal_code": "325794-61005", "relation": "child"}]}, "hidden"),
    ]
    for change, key in mistakes:
        answers = {**base, **change}
        assert schema_errors(SAMPLE, answers), change
        assert validate_answers(form, answers, today=TODAY)[next(iter(change))] == [key]


# --- comparing amounts and dates with patterns ----------------------------------------------------------------


def amount(cents_value: int) -> str:
    return f"{cents_value // 100}.{cents_value % 100:02d}"


@settings(FAST, max_examples=100)
@given(st.integers(0, 10**9), st.integers(0, 10**9), st.booleans())
def test_money_patterns_compare_amounts(value: int, limit: int, inclusive: bool) -> None:
    text, bound = amount(value), amount(limit)
    above = re.search(money_pattern(bound, greater=True, inclusive=inclusive), text) is not None
    below = re.search(money_pattern(bound, greater=False, inclusive=inclusive), text) is not None
    assert above == (value > limit or (inclusive and value == limit))
    assert below == (value < limit or (inclusive and value == limit))


@pytest.mark.parametrize(("value", "limit"), [(0, 0), (5, 0), (0, 5), (99, 100), (100, 99), (1000, 999), (999, 1000)])
def test_money_patterns_at_the_edges(value: int, limit: int) -> None:
    test_money_patterns_compare_amounts.hypothesis.inner_test(value, limit, False)  # type: ignore[attr-defined]
    test_money_patterns_compare_amounts.hypothesis.inner_test(value, limit, True)  # type: ignore[attr-defined]


@settings(FAST, max_examples=100)
@given(st.dates(date(1000, 1, 1)), st.dates(date(1000, 1, 1)))
def test_date_patterns_compare_dates(value: date, limit: date) -> None:
    text, bound = value.isoformat(), limit.isoformat()
    assert (re.search(date_pattern(bound, greater=True), text) is not None) == (value > limit)
    assert (re.search(date_pattern(bound, greater=False), text) is not None) == (value < limit)


def test_patterns_use_ascii_digits_only() -> None:
    assert re.search(money_pattern("10.00", greater=True), "١٢.٠٠") is None
    assert re.search(date_pattern("2025-01-01", greater=True), "٢٠٢٦-01-01") is None
