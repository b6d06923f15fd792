"""Answers: cleaning drops what was not asked; validation gives the right message key for every type."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from forms import validators
from forms.answers import (
    MESSAGES,
    clean_answers,
    error_text,
    message,
    normalise_answers,
    validate_answers,
)
from forms.loader import load_definition_file

SAMPLE = load_definition_file(Path(__file__).parents[2] / "fixtures" / "forms" / "sample.application.yaml")
TODAY = date(2026, 3, 7)
MIB = 1024 * 1024


def a_file(name: str = "ligums.pdf", size: int = 1000) -> dict[str, object]:
    return {"file_id": "f-1", "name": name, "size": size, "content_type": "application/pdf"}


VALID: dict[str, Any] = {
    "applicant_name": "Jānis Bērziņš",
    "applicant_personal_code": "161175-19997",
    "birth_date": "1975-11-16",
    "contact_phone": "+37121234567",
    "contact_email": "janis.berzins@example.lv",
    "employer_number": "40003032065",
    "address": {"street": "Jēkaba iela 11-5", "city": "Rīga", "postal_code": "LV-1050"},
    "municipality": "riga",
    "moved_in": "2025-03-01",
    "previous_address_proof": a_file("izzina.pdf"),
    "tenure": "tenant",
    "rental_agreement": a_file("ligums.PDF"),
    "monthly_rent": "250.00",
    "rooms": 2,
    "lives_alone": False,
    "members": [{"name": "Anna Bērziņa", "personal_code": "325794-61005", "relation": "child", "income": "0.00"}],
    "monthly_income": "850.00",
    "income_sources": ["salary", "other"],
    "other_income": "Autoratlīdzība",
    "income_proof": a_file("alga.pdf"),
    "payment_method": "account",
    "iban": "LV84TREL1060190913200",
    "registry_check": True,
    "declaration": True,
}


def valid(**changes: Any) -> dict[str, Any]:
    """The valid answers with some changed; a change to None removes the answer."""
    answers = copy.deepcopy(VALID)
    for key, value in changes.items():
        if value is None:
            answers.pop(key, None)
        else:
            answers[key] = value
    return answers


def problems(answers: dict[str, Any]) -> dict[str, list[str]]:
    return validate_answers(SAMPLE, answers, today=TODAY)


def test_valid_answers_have_no_problems() -> None:
    assert problems(valid()) == {}
    assert clean_answers(SAMPLE, VALID) == VALID


def test_optional_questions_may_be_left_out() -> None:
    assert problems(valid(contact_email=None, employer_number=None, previous_address_proof=None)) == {}
    # A question shown for one answer and not another: leaving the page out is fine once it is hidden.
    assert problems(valid(lives_alone=True, members=None, income_proof=None)) == {}


def test_missing_required_answers() -> None:
    assert problems(valid(applicant_name=None, address=None)) == {
        "applicant_name": ["required"],
        "address": ["required"],
    }
    assert problems(valid(registry_check=None, declaration=None)) == {
        "registry_check": ["declaration.required"],
        "declaration": ["declaration.required"],
    }
    # Shown by a condition, so required now.
    assert problems(valid(payment_method="cash", iban=None)) == {"post_office": ["required"]}


def test_answers_to_hidden_or_unknown_questions() -> None:
    assert problems(valid(post_office="LV-1050")) == {"post_office": ["hidden"]}
    assert problems(valid(lives_alone=True, income_proof=None)) == {"members": ["hidden"]}
    assert problems(valid(colour="red", applicant_intro="an info question takes no answer")) == {
        "colour": ["unknown"],
        "applicant_intro": ["unknown"],
    }
    assert validate_answers(SAMPLE, ["not", "an", "object"], today=TODAY) == {"": ["invalid"]}  # type: ignore[arg-type]


def test_empty_answers_are_not_answers() -> None:
    assert problems(valid(applicant_name="")) == {"applicant_name": ["required"]}
    assert problems(valid(contact_email="")) == {"contact_email": ["invalid"]}  # unanswered is absent, not empty
    assert problems(valid(contact_email=[])) == {"contact_email": ["invalid"]}
    assert problems(valid(members=[])) == {"members": ["required"]}
    assert problems(valid(registry_check=False)) == {"registry_check": ["declaration.required"]}
    assert problems(valid(declaration=False)) == {"declaration": ["declaration.required"]}


@pytest.mark.parametrize(
    ("question", "value", "path", "key"),
    [
        ("applicant_name", "J", "applicant_name", "too_short"),
        ("applicant_name", "J" * 101, "applicant_name", "too_long"),
        ("applicant_name", 42, "applicant_name", "invalid"),
        ("other_income", "x" * 5001, "other_income", "too_long"),  # long_text's default limit
        ("applicant_personal_code", "161175-19996", "applicant_personal_code", "personal_code.checksum"),
        ("applicant_personal_code", "161375-19997", "applicant_personal_code", "personal_code.date"),
        ("applicant_personal_code", "12345", "applicant_personal_code", "personal_code.format"),
        ("applicant_personal_code", "16117519997", "applicant_personal_code", "personal_code.format"),  # not canonical
        ("applicant_personal_code", 16117519997, "applicant_personal_code", "personal_code.format"),
        ("birth_date", "2030-01-01", "birth_date", "date.future"),
        ("birth_date", "2026-02-30", "birth_date", "date.invalid"),
        ("birth_date", "16.11.1975", "birth_date", "date.invalid"),
        ("birth_date", "19751116", "birth_date", "date.invalid"),
        ("contact_phone", "21234567", "contact_phone", "phone.invalid"),  # not E.164
        ("contact_phone", "+3712", "contact_phone", "phone.invalid"),
        ("contact_email", "janis@", "contact_email", "email.invalid"),
        ("employer_number", "40003032066", "employer_number", "company_number.checksum"),
        ("employer_number", "4000303206", "employer_number", "company_number.format"),
        (
            "address",
            {"street": "Iela 1", "city": "Rīga", "postal_code": "10500"},
            "address/postal_code",
            "postal_code.invalid",
        ),
        (
            "address",
            {"street": "Iela 1", "city": "Rīga", "postal_code": "1050"},
            "address/postal_code",
            "postal_code.invalid",
        ),
        ("address", {"street": "Iela 1", "city": "Rīga"}, "address/postal_code", "required"),
        ("address", {"street": "x" * 201, "city": "Rīga", "postal_code": "LV-1050"}, "address/street", "too_long"),
        ("address", {"street": 1, "city": "Rīga", "postal_code": "LV-1050"}, "address/street", "invalid"),
        ("address", {**VALID["address"], "flat": "5"}, "address/flat", "unknown"),
        ("address", "Jēkaba iela 11-5, Rīga", "address", "invalid"),
        ("municipality", "valmiera", "municipality", "not_an_option"),
        ("municipality", ["riga"], "municipality", "not_an_option"),
        ("moved_in", "2026-03-08", "moved_in", "date.future"),
        ("previous_address_proof", a_file("izzina.docx"), "previous_address_proof", "file.type"),
        ("previous_address_proof", a_file("izzina"), "previous_address_proof", "file.type"),
        ("previous_address_proof", a_file(size=5 * MIB + 1), "previous_address_proof", "file.size"),
        ("previous_address_proof", {"file_id": "f-1", "name": "x.pdf"}, "previous_address_proof", "invalid"),
        ("previous_address_proof", {**a_file(), "size": "1000"}, "previous_address_proof", "invalid"),
        ("previous_address_proof", {**a_file(), "path": "/etc"}, "previous_address_proof", "invalid"),
        ("monthly_rent", "250", "monthly_rent", "money.invalid"),
        ("monthly_rent", 250, "monthly_rent", "money.invalid"),
        ("monthly_rent", "0250.00", "monthly_rent", "money.invalid"),
        ("monthly_rent", "5000.01", "monthly_rent", "too_large"),
        ("monthly_income", "-1.00", "monthly_income", "money.invalid"),
        ("rooms", 2.5, "rooms", "number.invalid"),  # integer: true
        ("rooms", "2", "rooms", "number.invalid"),
        ("rooms", True, "rooms", "number.invalid"),
        ("rooms", 0, "rooms", "too_small"),
        ("rooms", 21, "rooms", "too_large"),
        ("lives_alone", "no", "lives_alone", "invalid"),
        ("members", "Anna", "members", "invalid"),
        ("members", [VALID["members"][0]] * 11, "members", "group.too_many"),
        (
            "members",
            [{**VALID["members"][0], "personal_code": "161175-19996"}],
            "members/0/personal_code",
            "personal_code.checksum",
        ),
        ("members", [{"personal_code": "325794-61005", "relation": "child"}], "members/0/name", "required"),
        ("members", [{**VALID["members"][0], "age": 4}], "members/0/age", "unknown"),
        ("members", [{**VALID["members"][0], "relation": "cousin"}], "members/0/relation", "not_an_option"),
        ("members", [VALID["members"][0], "Anna"], "members/1", "invalid"),
        ("income_sources", ["salary", "pension", "benefit", "other"], "income_sources", "choice.too_many"),
        ("income_sources", ["salary", "lottery"], "income_sources", "not_an_option"),
        ("income_sources", ["salary", "salary"], "income_sources", "invalid"),
        ("income_sources", "salary", "income_sources", "invalid"),
        ("iban", "DE89370400440532013000", "iban", "iban.country"),
        ("iban", "LV85TREL1060190913200", "iban", "iban.invalid"),
        ("iban", "LV84 TREL 1060 1909 1320 0", "iban", "iban.invalid"),  # not canonical
        ("registry_check", "yes", "registry_check", "invalid"),
        ("declaration", "true", "declaration", "invalid"),
    ],
)
def test_invalid_values_give_the_right_key(question: str, value: object, path: str, key: str) -> None:
    assert problems(valid(**{question: value}))[path] == [key]


def test_group_item_conditions() -> None:
    owner = valid(tenure="owner", rental_agreement=None, monthly_rent=None)
    assert problems(owner) == {"members/0/income": ["hidden"]}
    del owner["members"][0]["income"]
    assert problems(owner) == {}


def test_date_rules_use_the_given_today() -> None:
    assert problems(valid(birth_date="2026-03-07")) == {}
    assert validate_answers(SAMPLE, valid(birth_date="2026-03-07"), today=date(2026, 3, 6)) == {
        "birth_date": ["date.future"]
    }


def test_cleaning_drops_what_was_not_asked() -> None:
    messy = valid(
        colour="red",  # unknown
        applicant_intro="x",  # an info question
        post_office="LV-1050",  # hidden by payment_method
        home_notes="  ",  # hidden by rooms and tenure
        contact_email="   ",  # blank: unanswered
        employer_number=None,
        address={**VALID["address"], "flat": "5"},
        rental_agreement={**VALID["rental_agreement"], "path": "../../etc/passwd"},
        members=[{**VALID["members"][0], "age": 4, "nickname": ""}, {"name": " "}],
        registry_check=False,
    )
    cleaned = clean_answers(SAMPLE, messy)
    expected = valid(contact_email=None, employer_number=None, registry_check=None)
    expected["members"] = [VALID["members"][0], {}]  # an empty item stays, so its required questions are reported
    assert cleaned == expected
    assert problems(cleaned) == {
        "members/1/name": ["required"],
        "members/1/personal_code": ["required"],
        "members/1/relation": ["required"],
        "registry_check": ["declaration.required"],
    }


def test_cleaning_drops_hidden_pages_and_answers_that_depend_on_hidden_ones() -> None:
    cleaned = clean_answers(SAMPLE, valid(lives_alone=True, tenure="owner"))
    assert "members" not in cleaned and "income_proof" not in cleaned
    assert "rental_agreement" not in cleaned and "monthly_rent" not in cleaned
    assert problems(cleaned) == {}


def test_cleaning_drops_group_answers_hidden_by_a_top_level_answer() -> None:
    cleaned = clean_answers(SAMPLE, valid(tenure="owner"))
    assert cleaned["members"] == [{"name": "Anna Bērziņa", "personal_code": "325794-61005", "relation": "child"}]


def test_the_declaration_is_kept_only_when_ticked() -> None:
    assert clean_answers(SAMPLE, {"declaration": True}) == {"declaration": True}
    assert clean_answers(SAMPLE, {"declaration": "yes"}) == {}


def test_normalising() -> None:
    typed = valid(
        applicant_name="  Jānis Bērziņš ",
        applicant_personal_code="16117519997",
        birth_date="16.11.1975",
        contact_phone="21 234 567",
        address={"street": " Jēkaba iela 11-5 ", "city": "Rīga", "postal_code": "lv 1050"},
        monthly_rent="250",
        monthly_income="850,0",
        rooms="2",
        iban="lv84 trel 1060 1909 1320 0",
        members=[{**VALID["members"][0], "personal_code": "32579461005", "income": 0}],
    )
    assert normalise_answers(SAMPLE, typed) == VALID
    assert problems(normalise_answers(SAMPLE, typed)) == {}


@pytest.mark.parametrize(
    ("question", "typed", "canonical"),
    [
        ("monthly_rent", "1 250,5", "1250.50"),
        ("monthly_rent", 12.5, "12.50"),
        ("monthly_rent", "12.345", "12.345"),  # no silent rounding: validation reports it
        ("monthly_rent", "12 EUR", "12 EUR"),
        ("rooms", "2,5", 2.5),
        ("rooms", "two", "two"),
        ("birth_date", date(1975, 11, 16), "1975-11-16"),
        ("birth_date", "31.02.1975", "31.02.1975"),
        ("applicant_personal_code", "161175-19996", "161175-19996"),  # invalid: kept for validation
        ("post_office", "1050", "LV-1050"),
        ("employer_number", "LV 4000 3032 065", "40003032065"),
        ("unknown_key", " kept ", " kept "),
    ],
)
def test_normalising_one_value(question: str, typed: object, canonical: object) -> None:
    assert normalise_answers(SAMPLE, {question: typed}) == {question: canonical}


def test_a_question_can_override_the_invalid_message() -> None:
    iban = SAMPLE.question("iban")
    assert error_text(iban, "iban.country", "en") == "Enter a Latvian bank account number."
    assert error_text(iban, "iban.invalid", "lv") == "Ievadiet Latvijas bankas konta numuru."
    assert error_text(iban, "required", "en") == validators.MESSAGES["required"]["en"]


def test_messages_name_the_question_limits() -> None:
    assert error_text(SAMPLE.question("applicant_name"), "too_long", "en") == message("too_long", "en", max=100)
    assert error_text(SAMPLE.question("applicant_name"), "too_short", "lv") == message("too_short", "lv", min=2)
    assert "5,000" in error_text(SAMPLE.question("monthly_rent"), "too_large", "en")
    assert "PDF, EDOC" in error_text(SAMPLE.question("previous_address_proof"), "file.type", "en")
    assert " 5 " in error_text(SAMPLE.question("previous_address_proof"), "file.size", "lv")
    assert "3" in error_text(SAMPLE.question("income_sources"), "choice.too_many", "lv")
    assert error_text(SAMPLE.question("iban"), "hidden", "en") == MESSAGES["hidden"]["en"]  # never overridden


KEYS = {
    "required", "invalid", "hidden", "unknown", "too_short", "too_long", "too_small", "too_large", "not_an_option",
    "date.invalid", "date.future", "date.past", "email.invalid", "number.invalid", "money.invalid", "file.type",
    "file.size", "group.too_few", "group.too_many", "choice.too_few", "choice.too_many", "declaration.required",
    "personal_code.format", "personal_code.date", "personal_code.checksum", "company_number.format",
    "company_number.checksum", "iban.invalid", "iban.country", "phone.invalid", "postal_code.invalid",
}  # fmt: skip


@pytest.mark.parametrize("key", sorted(KEYS))
@pytest.mark.parametrize("lang", ["lv", "en"])
def test_every_key_has_a_text_in_both_languages(key: str, lang: str) -> None:
    for question in SAMPLE.questions():
        text = error_text(question, key, lang)
        assert text and "{" not in text, (question.id, key)
