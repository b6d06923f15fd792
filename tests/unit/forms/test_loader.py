"""Loading definitions: the sample and the seed forms load; every broken rule is reported, all at once."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from forms import model
from forms.loader import DefinitionError, load_definition, load_definition_file
from forms.model import Compare, Not

FIXTURES = Path(__file__).parents[2] / "fixtures" / "forms"
SEED_FORMS = sorted((Path(__file__).parents[3] / "registry" / "seed" / "forms").glob("*.yaml"))


def text(words: str) -> dict[str, str]:
    return {"lv": words, "en": words}


def minimal(**extra_questions: Any) -> dict[str, Any]:
    """A small valid definition: two pages, a choice and a group."""
    return {
        "service": "test-service",
        "form": "application",
        "version": 1,
        "title": text("Test"),
        "pages": [
            {
                "id": "first",
                "title": text("First"),
                "questions": [
                    {
                        "id": "ground",
                        "type": "single_choice",
                        "label": text("Ground"),
                        "options": [
                            {"value": "owner", "label": text("Owner")},
                            {"value": "tenant", "label": text("Tenant")},
                        ],
                    },
                    {"id": "name", "type": "text", "label": text("Name"), "required": True},
                ],
            },
            {
                "id": "second",
                "title": text("Second"),
                "questions": [
                    {
                        "id": "children",
                        "type": "group",
                        "label": text("Children"),
                        "questions": [{"id": "child_name", "type": "text", "label": text("Name")}],
                    }
                ],
            },
        ],
        "declaration": {"text": text("I confirm.")},
    }


def problems_of(document: dict[str, Any]) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        load_definition(document)
    return caught.value.problems


def test_the_sample_loads() -> None:
    definition = load_definition_file(FIXTURES / "sample.application.yaml")
    assert definition.key == ("majokla-pabalsts", "application", 2)
    assert [page.id for page in definition.pages] == ["applicant", "home", "household", "members", "income", "payment"]
    assert definition.questions()[0].id == "applicant_intro"
    assert definition.page_of("iban").id == "payment"
    assert definition.page("members").show_if == Compare("lives_alone", "equals", False)
    assert definition.question("monthly_rent").show_if == Compare("tenure", "one_of", ("tenant",))
    assert definition.question("municipality").widget == "select"
    assert definition.question("tenure").widget == "radios"  # the documented default
    assert definition.question("rental_agreement").accept == ("pdf", "jpg", "png", "edoc", "asice")
    proof = definition.question("income_proof").show_if
    assert isinstance(proof, model.All) and proof.conditions[1] == Not(Compare("lives_alone", "equals", True))
    assert definition.question("members").sub_question("income").type == "money"
    declaration = definition.declaration_question()
    assert declaration is not None and declaration.id == "declaration" and declaration.required


def test_every_question_type_is_in_the_sample() -> None:
    definition = load_definition_file(FIXTURES / "sample.application.yaml")
    types = {q.type for q in definition.questions()} | {s.type for q in definition.questions() for s in q.questions}
    assert types == set(model.QUESTION_TYPES)


@pytest.mark.parametrize("path", SEED_FORMS, ids=lambda p: p.stem)
def test_seed_forms_load(path: Path) -> None:
    assert load_definition_file(path).pages


def test_the_model_is_frozen() -> None:
    definition = load_definition(minimal())
    with pytest.raises(AttributeError):
        definition.version = 2  # type: ignore[misc]


@pytest.mark.parametrize("label", ["{{ 7*7 }}", "<script>alert(1)</script>", "{% include 'x' %}", "{0.__class__}"])
def test_definition_text_is_plain_text(label: str) -> None:
    document = minimal()
    document["pages"][0]["questions"][1]["label"] = {"lv": label, "en": label}
    question = load_definition(document).question("name")
    assert question.label is not None and question.label.lv == label and question.label.en == label


def test_every_rule_violation_is_reported_at_once() -> None:
    document = minimal()
    first, second = document["pages"]
    ground, name = first["questions"]
    ground["options"].append({"value": "owner", "label": text("Owner again")})
    name["show_if"] = {"question": "later", "equals": "x"}
    first["questions"] += [
        {"id": "name", "type": "text", "label": text("Name again")},
        {"id": "declaration", "type": "yes_no", "label": text("Reserved")},
        {"id": "errors", "type": "text", "label": text("Reserved by WTForms")},
        {"id": "by_ground", "type": "text", "label": text("x"), "show_if": {"question": "ground", "equals": "renter"}},
        {"id": "big", "type": "text", "label": text("x"), "show_if": {"question": "ground", "greater_than": 3}},
        {"id": "self", "type": "text", "label": text("x"), "show_if": {"question": "self", "equals": "a"}},
        {"id": "numbers", "type": "number", "label": text("x"), "min": 5, "max": 1},
        {"id": "nowhere", "type": "text", "label": text("x"), "show_if": {"question": "missing", "equals": "a"}},
    ]
    second["id"] = "first"
    children = second["questions"][0]
    children["questions"] += [
        {"id": "child_name", "type": "text", "label": text("Name again")},
        {
            "id": "nested",
            "type": "group",
            "label": text("Nested"),
            "questions": [{"id": "x", "type": "text", "label": text("x")}],
        },
    ]
    second["questions"].append(
        {"id": "into_group", "type": "text", "label": text("x"), "show_if": {"question": "child_name", "equals": "a"}}
    )
    second["questions"].append({"id": "later", "type": "text", "label": text("x")})
    problems = "\n".join(problems_of(document))
    expected = [
        "pages/1: page id 'first' is used more than once",
        "pages/0/questions/2: question id 'name' is used more than once",
        "pages/1/questions/0/questions/1: id 'child_name' is used more than once",
        "groups cannot be nested",
        "pages/0/questions/0/options/2: option value 'owner' is used more than once",
        "the id 'declaration' is reserved",
        "the id 'errors' is reserved",
        "pages/0/questions/1/show_if: refers to 'later', which does not come before it",
        "refers to 'self', which does not come before it",
        "'renter' is not an option of 'ground'",
        "greater_than needs a number, money or date question; 'ground' is single_choice",
        "min (5) is more than max (1)",
        "refers to 'missing', no question of this form",
        "refers to 'child_name', a question inside a group",
    ]
    for problem in expected:
        assert problem in problems
    assert len(problems.splitlines()) == len(expected)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.pop("title"), "definition: 'title' is a required property"),
        (lambda d: d["title"].pop("en"), "title: 'en' is a required property"),
        (lambda d: d.update(colour="red"), "Additional properties are not allowed ('colour' was unexpected)"),
        (lambda d: d.update(version=0), "version: 0 is less than the minimum of 1"),
        (lambda d: d.update(version="3"), "version: '3' is not of type 'integer'"),
        (lambda d: d["pages"][0].update(id="Not A Slug"), "pages/0/id: 'Not A Slug' does not match"),
        (lambda d: q(d, 1).update(type="signature"), "pages/0/questions/1/type: 'signature' is not one of"),
        (lambda d: q(d, 1).update(max_size_mb=3), "('max_size_mb' was unexpected)"),
        (lambda d: q(d, 1).update(options=[]), "only single_choice and multiple_choice questions have options"),
        (
            lambda d: q(d, 1).update(prefill="person.personal_code"),
            "prefill: 'person.personal_code' is not one of ['person.name', 'company.name']",
        ),
        (lambda d: q(d, 1).pop("label"), "'label' is a required property"),
        (lambda d: q(d, 1)["label"].pop("lv"), "pages/0/questions/1/label: 'lv' is a required property"),
        (lambda d: q(d, 0).pop("options"), "'options' is a required property"),
        (lambda d: q(d, 0).update(widget="slider"), "'slider' is not one of ['radios', 'select']"),
        (
            lambda d: q(d, 1).update(show_if={"question": "ground", "equals": "owner", "one_of": ["owner"]}),
            "has too many properties",
        ),
        (
            lambda d: q(d, 1).update(show_if={"not": {"question": "ground"}}),
            "show_if/not: {'question': 'ground'} does not have enough properties",
        ),
        (
            lambda d: q(d, 1).update(show_if={"either": []}),
            "Additional properties are not allowed ('either' was unexpected)",
        ),
        (lambda d: q(d, 1).update(errors={"missing": text("x")}), "('missing' was unexpected)"),
    ],
)
def test_schema_problems(change: Any, problem: str) -> None:
    document = minimal()
    change(document)
    assert any(problem in found for found in problems_of(document)), problems_of(document)


def q(document: dict[str, Any], index: int) -> dict[str, Any]:
    """The question at `index` on the first page."""
    question: dict[str, Any] = document["pages"][0]["questions"][index]
    return question


@pytest.mark.parametrize(
    ("question", "condition", "problem"),
    [
        ({"type": "yes_no"}, {"equals": "yes"}, "use equals: true or equals: false"),
        ({"type": "number"}, {"equals": "3"}, "compare it with a number, not '3'"),
        (
            {"type": "money", "min": 0.001},
            {"greater_than": 1},
            "min must be an amount in euro with at most two decimals",
        ),
        ({"type": "money"}, {"greater_than": 1.005}, "compare it with an amount with at most two decimals"),
        ({"type": "date"}, {"less_than": "2025-02-30"}, "compare it with a date YYYY-MM-DD, not '2025-02-30'"),
        ({"type": "text"}, {"equals": 3}, "compare it with text, not 3"),
        ({"type": "address"}, {"equals": "x"}, "a condition cannot look at 'earlier', a question of type address"),
        (
            {"type": "multiple_choice", "options": [{"value": "a", "label": text("A")}]},
            {"one_of": ["a", "b"]},
            "'b' is not an option",
        ),
    ],
)
def test_condition_values_must_suit_the_question(
    question: dict[str, Any], condition: dict[str, Any], problem: str
) -> None:
    document = minimal()
    earlier = {"id": "earlier", "label": text("Earlier"), **question}
    later = {"id": "later", "type": "text", "label": text("Later"), "show_if": {"question": "earlier", **condition}}
    document["pages"][0]["questions"] += [copy.deepcopy(earlier), later]
    assert any(problem in found for found in problems_of(document)), problems_of(document)


def test_page_conditions_look_at_earlier_pages_only() -> None:
    document = minimal()
    document["pages"][1]["show_if"] = {"question": "ground", "equals": "tenant"}
    assert load_definition(document).pages[1].show_if == Compare("ground", "equals", "tenant")
    document["pages"][0]["show_if"] = {"question": "ground", "equals": "tenant"}
    assert problems_of(document) == ["pages/0/show_if: refers to 'ground', which does not come before it in the form"]


def test_unquoted_dates_stay_text(tmp_path: Path) -> None:
    document = minimal()
    document["pages"][0]["questions"].append({"id": "moved", "type": "date", "label": text("Moved")})
    document["pages"][1]["show_if"] = {
        "question": "moved",
        "greater_than": date(2025, 1, 1),
    }  # what yaml.safe_load gives
    assert load_definition(document).pages[1].show_if == Compare("moved", "greater_than", "2025-01-01")
    path = tmp_path / "dated.yaml"
    source = (FIXTURES / "sample.application.yaml").read_text(encoding="utf-8").replace('"2025-01-01"', "2025-01-01")
    path.write_text(source, encoding="utf-8")
    assert load_definition_file(path).question("previous_address_proof").show_if == Compare(
        "moved_in", "greater_than", "2025-01-01"
    )


def test_broken_yaml_is_a_definition_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("service: [unclosed", encoding="utf-8")
    with pytest.raises(DefinitionError, match="not valid YAML"):
        load_definition_file(path)
    path.write_text("- a list", encoding="utf-8")
    with pytest.raises(DefinitionError, match="a definition is a mapping"):
        load_definition_file(path)


def test_rules_survive_a_document_the_schema_refuses() -> None:
    document = minimal()
    document["pages"][0]["questions"] = "not a list"
    document["pages"].append(42)
    problems = problems_of(document)
    assert any("pages/0/questions: 'not a list' is not of type 'array'" in p for p in problems)
    assert any("pages/2: 42 is not of type 'object'" in p for p in problems)
