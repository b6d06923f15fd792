"""The WTForms form of a page: fields by type, only shown questions, the same messages as validate_answers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms import FieldList, FormField, RadioField, SelectField, SelectMultipleField

from forms import validators
from forms.answers import clean_answers, message, validate_answers
from forms.loader import load_definition_file
from forms.model import FormDefinition, Page, Question, Text
from forms.wtforms_builder import UnknownQuestionType, build_page_form, form_to_answers

SAMPLE = load_definition_file(Path(__file__).parents[2] / "fixtures" / "forms" / "sample.application.yaml")
TODAY = date(2026, 3, 7)
APPLICANT = {
    "applicant_name": "Jānis Bērziņš",
    "applicant_personal_code": "161175-19997",
    "birth_date": "1975-11-16",
    "contact_phone": "+37121234567",
    "contact_email": "janis@example.lv",
}


@pytest.fixture(autouse=True)
def request_context() -> Iterator[None]:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "test-only"
    with app.test_request_context(method="POST"):
        yield


def build(
    page: str, formdata: Mapping[str, object] | None = None, data: Mapping[str, object] | None = None, lang: str = "lv"
) -> Any:
    """Build a page of the sample, posted with `formdata` when given (Any: its fields are made at run time)."""
    return build_page_form(
        SAMPLE, page, lang=lang, formdata=MultiDict(formdata) if formdata is not None else None, data=data, today=TODAY
    )


def test_valid_input_gives_the_cleaned_answers() -> None:
    typed = {
        "applicant_name": " Jānis Bērziņš ",
        "applicant_personal_code": "16117519997",
        "birth_date": "16.11.1975",
        "contact_phone": "21 234 567",
        "contact_email": "janis@example.lv",
        "employer_number": "",
    }
    form = build("applicant", typed)
    assert form.validate(), form.errors
    answers = form_to_answers(form)
    assert answers == APPLICANT
    assert clean_answers(SAMPLE, answers) == answers
    assert {
        key: problems for key, problems in validate_answers(SAMPLE, answers, today=TODAY).items() if key in answers
    } == {}


def test_a_page_with_an_address_a_choice_a_number_money_and_a_stored_file() -> None:
    stored = {"file_id": "f-1", "name": "ligums.pdf", "size": 1000, "content_type": "application/pdf"}
    form = build(
        "home",
        {
            "address-street": "Jēkaba iela 11-5",
            "address-city": "Rīga",
            "address-postal_code": "1050",
            "municipality": "riga",
            "moved_in": "2024-03-01",
            "tenure": "tenant",
            "monthly_rent": "1 250,5",
            "rooms": "2",
        },
        data={"tenure": "tenant", "rental_agreement": stored},
    )
    assert form.validate(), form.errors
    assert form_to_answers(form) == {
        "address": {"street": "Jēkaba iela 11-5", "city": "Rīga", "postal_code": "LV-1050"},
        "municipality": "riga",
        "moved_in": "2024-03-01",
        "tenure": "tenant",
        "rental_agreement": stored,  # kept: no new upload replaced it
        "monthly_rent": "1250.50",
        "rooms": 2,
    }


@pytest.mark.parametrize("lang", ["lv", "en"])
def test_an_invalid_personal_code_gives_the_message_in_the_page_language(lang: str) -> None:
    form = build("applicant", {**APPLICANT, "applicant_personal_code": "161175-19996"}, lang=lang)
    assert not form.validate()
    assert form.errors == {"applicant_personal_code": [validators.MESSAGES["personal_code.checksum"][lang]]}


def test_the_latvian_and_english_messages_differ() -> None:
    lv = build("applicant", {**APPLICANT, "applicant_personal_code": "161175-19996"}, lang="lv")
    en = build("applicant", {**APPLICANT, "applicant_personal_code": "161175-19996"}, lang="en")
    lv.validate()
    en.validate()
    assert lv.errors["applicant_personal_code"] != en.errors["applicant_personal_code"]
    assert "personas kodu" in lv.errors["applicant_personal_code"][0]


def test_required_and_limits_use_the_same_keys_as_validate_answers() -> None:
    form = build("applicant", {"applicant_name": "J", "birth_date": "2030-01-01", "contact_phone": "123"}, lang="en")
    assert not form.validate()
    assert form.errors == {
        "applicant_name": [message("too_short", "en", min=2)],
        "applicant_personal_code": [message("required", "en")],
        "birth_date": [message("date.future", "en")],
        "contact_phone": [message("phone.invalid", "en")],
    }
    answers = {"applicant_name": "J", "birth_date": "2030-01-01", "contact_phone": "123"}
    server = validate_answers(SAMPLE, answers, today=TODAY)
    assert {key: server[key] for key in form.errors} == {
        "applicant_name": ["too_short"],
        "applicant_personal_code": ["required"],
        "birth_date": ["date.future"],
        "contact_phone": ["phone.invalid"],
    }


def test_an_address_reports_each_part() -> None:
    form = build("home", {"address-street": "Jēkaba iela 11-5", "address-postal_code": "10500"}, lang="en")
    form.validate()
    assert form.errors["address"] == {
        "city": [message("required", "en")],
        "postal_code": [message("postal_code.invalid", "en")],
    }
    empty = build("home", {}, lang="en")
    empty.validate()
    assert set(empty.errors["address"]) == {"street", "city", "postal_code"}


def test_a_hidden_question_is_not_in_the_form() -> None:
    cash = build("payment", data={"payment_method": "cash"})
    assert "post_office" in cash._fields and "iban" not in cash._fields
    account = build("payment", data={"payment_method": "account"})
    assert "iban" in account._fields and "post_office" not in account._fields
    neither = build("payment")
    assert "iban" not in neither._fields and "post_office" not in neither._fields
    # A hidden page has no questions.
    assert list(build("members", data={"lives_alone": True})._fields) == []


def test_a_posted_answer_to_a_hidden_question_is_ignored() -> None:
    posted = {
        "payment_method": "cash",
        "post_office": "LV-1050",
        "iban": "LV84TREL1060190913200",
        "registry_check": "y",
    }
    form = build("payment", posted, data={"payment_method": "cash"})
    assert form.validate(), form.errors
    assert "iban" not in form_to_answers(form)


def test_info_has_no_field() -> None:
    assert "applicant_intro" not in build("applicant")._fields


def test_an_unknown_type_raises() -> None:
    label = Text("Paraksts", "Signature")
    question = Question(id="signature", type="signature", label=label)
    definition = FormDefinition("x", "application", 1, label, (Page("only", label, (question,)),))
    with pytest.raises(UnknownQuestionType, match="signature"):
        build_page_form(definition, "only", lang="lv")


def labels(field: SelectField) -> list[tuple[str, str]]:
    """The (value, label) of each option as rendered."""
    return [(value, label) for value, label, *_ in field.iter_choices()]


def test_choice_widgets_and_texts() -> None:
    lv, en = build("home", lang="lv"), build("household", lang="en")
    assert isinstance(lv.municipality, SelectField) and not isinstance(lv.municipality, RadioField)
    assert labels(lv.municipality)[:2] == [("", "Izvēlieties"), ("riga", "Rīga")]
    assert isinstance(lv.tenure, RadioField)
    assert isinstance(en.lives_alone, RadioField) and labels(en.lives_alone) == [("yes", "Yes"), ("no", "No")]
    assert labels(build("household", lang="lv").lives_alone) == [("yes", "Jā"), ("no", "Nē")]
    income = build("income", lang="en")
    assert isinstance(income.income_sources, SelectMultipleField)
    assert 'type="checkbox"' in str(income.income_sources())
    assert income.monthly_income.label.text == "Your monthly income"
    assert build("applicant", lang="lv").contact_email.description == "Nav obligāts."


def test_yes_no_and_multiple_choice_answers() -> None:
    form = build("household", {"lives_alone": "no"})
    assert form.validate() and form_to_answers(form) == {"lives_alone": False}
    assert build("household", data={"lives_alone": True}).lives_alone.data == "yes"
    income = build(
        "income",
        {"monthly_income": "850", "income_sources": ["salary", "other"], "other_income": "x"},
        data={"income_sources": ["salary", "other"]},
    )
    assert income.validate(), income.errors
    assert form_to_answers(income) == {
        "monthly_income": "850.00",
        "income_sources": ["salary", "other"],
        "other_income": "x",
    }
    too_many = build("income", {"monthly_income": "850", "income_sources": ["salary", "pension", "benefit", "other"]})
    too_many.validate()
    assert too_many.errors["income_sources"] == [message("choice.too_many", "lv", max=3)]
    wrong = build("income", {"monthly_income": "850", "income_sources": ["lottery"]})
    wrong.validate()
    assert wrong.errors["income_sources"] == [message("not_an_option", "lv")]


def test_a_declaration_must_be_ticked() -> None:
    unticked = build("payment", {"payment_method": "cash", "post_office": "LV-1050"}, data={"payment_method": "cash"})
    assert not unticked.validate()
    assert unticked.errors == {"registry_check": [message("declaration.required", "lv")]}
    ticked = build(
        "payment",
        {"payment_method": "cash", "post_office": "1050", "registry_check": "y"},
        data={"payment_method": "cash"},
    )
    assert ticked.validate(), ticked.errors
    assert form_to_answers(ticked) == {"payment_method": "cash", "post_office": "LV-1050", "registry_check": True}


def test_a_question_can_override_its_invalid_message() -> None:
    form = build(
        "payment",
        {"payment_method": "account", "iban": "DE89370400440532013000", "registry_check": "y"},
        data={"payment_method": "account"},
        lang="en",
    )
    assert not form.validate()
    assert form.errors == {"iban": ["Enter a Latvian bank account number."]}


def test_a_group_is_a_list_of_item_forms() -> None:
    data: dict[str, object] = {"lives_alone": False, "tenure": "tenant"}
    empty = build("members", data=data)
    assert isinstance(empty.members, FieldList) and len(empty.members.entries) == 1  # min_items
    assert isinstance(empty.members.entries[0], FormField)
    assert list(empty.members.entries[0].form._fields) == ["name", "personal_code", "relation", "income"]
    two = {**data, "members": [{"name": "Anna"}, {"name": "Pēteris"}]}
    assert len(build("members", data=two).members.entries) == 2  # as many as the answers so far
    owner = build("members", data={"lives_alone": False, "tenure": "owner"})
    assert list(owner.members.entries[0].form._fields) == ["name", "personal_code", "relation"]

    posted = {
        "members-0-name": "Anna Bērziņa",
        "members-0-personal_code": "32579461005",
        "members-0-relation": "child",
        "members-0-income": "0",
        "members-1-name": "Pēteris",
        "members-1-personal_code": "161175-19996",
        "members-1-relation": "spouse",
    }
    form = build("members", posted, data=data, lang="en")
    assert not form.validate()
    assert form.errors == {"members": [{}, {"personal_code": [validators.MESSAGES["personal_code.checksum"]["en"]]}]}
    answers = form_to_answers(form)
    assert answers["members"][0] == {  # type: ignore[index]
        "name": "Anna Bērziņa",
        "personal_code": "325794-61005",
        "relation": "child",
        "income": "0.00",
    }
    server = validate_answers(SAMPLE, {**data, **answers}, today=TODAY)
    assert server["members/1/personal_code"] == ["personal_code.checksum"]


def test_too_many_group_items_are_reported_not_dropped() -> None:
    posted = {f"members-{i}-name": f"Person {i}" for i in range(11)}
    form = build("members", posted, data={"lives_alone": False})
    form.validate()
    assert len(form.members.entries) == 11
    assert message("group.too_many", "lv", max=10) in form.errors["members"]


def test_files_upload_with_accept_and_checks() -> None:
    data = {"tenure": "tenant"}
    form = build("home", data=data, lang="en")
    assert 'accept=".pdf,.jpg,.png,.edoc,.asice"' in str(form.rental_agreement())
    upload = FileStorage(BytesIO(b"%PDF" * 10), filename="ligums.exe", content_type="application/octet-stream")
    wrong = build("home", {"rental_agreement": upload}, data=data, lang="en")
    wrong.validate()
    assert wrong.errors["rental_agreement"] == [message("file.type", "en", types="PDF, JPG, PNG, EDOC, ASICE")]
    big = FileStorage(BytesIO(b"0" * (10 * 1024 * 1024 + 1)), filename="ligums.pdf", content_type="application/pdf")
    large = build("home", {"rental_agreement": big}, data=data, lang="en")
    large.validate()
    assert large.errors["rental_agreement"] == [message("file.size", "en", max="10")]
    good = FileStorage(BytesIO(b"%PDF"), filename="ligums.pdf", content_type="application/pdf")
    fine = build("home", {"rental_agreement": good}, data=data)
    fine.validate()
    assert "rental_agreement" not in fine.errors
    assert "rental_agreement" not in form_to_answers(fine)  # the portal stores the upload and records its answer


def test_definition_text_is_escaped_not_rendered() -> None:
    label = Text("<script>alert(1)</script> {{ 7*7 }}", "<b>bold</b>")
    question = Question(id="name", type="text", label=label, hint=Text("{{ config }}", "x"))
    definition = FormDefinition("x", "application", 1, label, (Page("only", label, (question,)),))
    form = build_page_form(definition, "only", lang="lv")
    rendered = str(form["name"].label)
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered and "{{ 7*7 }}" in rendered
    assert form["name"].description == "{{ config }}"


def test_the_portal_can_add_csrf_with_flask_wtf() -> None:
    class Base(FlaskForm):  # type: ignore[misc]
        class Meta:
            csrf = False  # the portal keeps CSRF on; the test has no session

    form = build_page_form(SAMPLE, "household", lang="en", formdata=MultiDict({"lives_alone": "yes"}), base=Base)
    assert isinstance(form, FlaskForm) and form.validate()
    assert form.meta.questions["lives_alone"].type == "yes_no"
    assert form_to_answers(form) == {"lives_alone": True}


def test_existing_answers_fill_the_form() -> None:
    form = build("applicant", data=APPLICANT)
    assert form.applicant_name.data == "Jānis Bērziņš"
    home = build("home", data={"rooms": 3, "monthly_rent": "250.00", "tenure": "tenant", "address": {"city": "Rīga"}})
    assert home.rooms.data == "3" and home.monthly_rent.data == "250.00"
    assert home.address.form.city.data == "Rīga"
