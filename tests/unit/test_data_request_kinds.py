"""Kinds of data request (registry/seed/data_requests): each seeded kind loads, its answer form is a form the forms
package builds and validates, and a kind that breaks the rules is refused with every problem named."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from app.models.data_requests_api import Kind as PortalKind
from forms.answers import validate_answers
from forms.examples import example_answers
from forms.json_schema import answers_schema
from forms.validators import format_checker
from registry.catalogue.data_request_kinds import KindError, data_request_kind_problems, kind_problems, load_kind
from registry.catalogue.seed import read_seed, seed_problems

SEED = read_seed()
INSTITUTIONS = {i["id"] for i in SEED.institutions}
KINDS = {k["id"]: k for k in SEED.data_request_kinds}


def test_at_least_three_kinds_are_seeded_and_the_seed_is_valid() -> None:
    assert {"vsaa-benefits", "pmlp-residence", "nva-status"} <= set(KINDS)
    assert seed_problems(SEED) == []


@pytest.mark.parametrize("kind_id", sorted(KINDS))
def test_every_seeded_answer_form_can_be_answered(kind_id: str) -> None:
    kind = load_kind(KINDS[kind_id])
    assert kind.answered_by in INSTITUTIONS and set(kind.asked_by or ()) <= INSTITUTIONS
    assert kind.answer_form.key == (kind_id, "answer", kind.version)
    schema = Draft202012Validator(answers_schema(kind.answer_form), format_checker=format_checker())
    for yes in (True, False):
        answers = example_answers(kind.answer_form, today=date.today(), yes=yes, every_question=True)
        assert validate_answers(kind.answer_form, answers, today=date.today()) == {}
        assert list(schema.iter_errors(answers)) == []
        assert list(schema.iter_errors(answers | {"extra": 1})) != []  # unknown fields are refused


def _kind(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(KINDS["vsaa-benefits"])
    document.update(changes)
    return document


def _with_question(question: dict[str, Any]) -> dict[str, Any]:
    document = _kind()
    document["answer_form"]["pages"][0]["questions"].append(question)
    return document


LABEL = {"lv": "Jautājums", "en": "Question"}
SECOND_PAGE = {"id": "more", "title": LABEL, "questions": [{"id": "more_text", "type": "text", "label": LABEL}]}


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (_with_question({"id": "scan", "type": "file", "label": LABEL}), "no file questions"),
        (
            _with_question({"id": "code", "type": "personal_code", "label": LABEL, "prefill": "person.personal_code"}),
            "prefills nothing",
        ),
        (_kind(answer_form=_kind()["answer_form"] | {"declaration": {"text": LABEL}}), "no declaration"),
        (
            _kind(answer_form=_kind()["answer_form"] | {"pages": [*_kind()["answer_form"]["pages"], SECOND_PAGE]}),
            "exactly one page",
        ),
        (_kind(asked_by=["vsaa", "nva"]), "does not ask itself"),
        (_kind(answered_by="no-such-office"), "unknown institution 'no-such-office'"),
        (_kind(asked_by=["no-such-office"]), "unknown institution 'no-such-office'"),
        (_kind(about=["animal"]), "about/0"),
        (_kind(answer_form=_kind()["answer_form"] | {"version": 2}), "answer_form"),
        (_kind(title={"lv": "Tikai latviski"}), "title"),
        (_with_question({"id": "receives", "type": "text", "label": LABEL}), "question id"),
    ],
)
def test_a_kind_that_breaks_the_rules_is_refused(document: dict[str, Any], problem: str) -> None:
    problems = kind_problems(document, INSTITUTIONS)
    assert any(problem in p for p in problems), problems
    if "institution" not in problem:
        with pytest.raises(KindError):
            load_kind(document)


def test_a_kind_id_is_used_once() -> None:
    problems = data_request_kind_problems([KINDS["nva-status"], KINDS["nva-status"]], INSTITUTIONS)
    assert problems == ["Data request kind nva-status: duplicate id"]


def test_who_may_ask_a_kind_and_about_whom() -> None:
    nva_status = load_kind(KINDS["nva-status"])
    assert nva_status.may_be_asked_by("vsaa") and nva_status.may_be_asked_by("riga-municipality")
    assert not nva_status.may_be_asked_by("nva") and not nva_status.may_be_asked_by("pmlp")
    benefits = load_kind(KINDS["vsaa-benefits"])
    assert benefits.may_be_asked_by("pmlp") and not benefits.may_be_asked_by("vsaa")
    assert benefits.is_about("161175-19997") and benefits.is_about("321234-12345")
    assert not benefits.is_about("40003032065")  # a company
    assert load_kind(KINDS["vid-tax-debts"]).is_about("40003032065")
    # The portal offers the same kinds by the same rules.
    published = {
        "id": "nva-status",
        "version": 1,
        "title": {"lv": "Statuss", "en": "Status"},
        "answered_by": "nva",
        "asked_by": ["vsaa"],
        "about": ["person"],
    }
    portal = PortalKind.from_json(published)
    assert portal.may_be_asked_by("vsaa") and not portal.may_be_asked_by("nva") and not portal.may_be_asked_by(None)
    assert portal.is_about("161175-19997") and not portal.is_about("40003032065")
    assert PortalKind.from_json(published | {"asked_by": None}).may_be_asked_by("pmlp")
