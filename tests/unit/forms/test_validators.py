"""Latvian validators: the LATVIA.md vectors, generated personal and company codes, messages and JSON Schema formats."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from string import Formatter

import jsonschema
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from forms import validators
from forms.validators import (
    MESSAGES,
    display_phone,
    format_checker,
    message,
    normalise_company_number,
    normalise_iban,
    normalise_personal_code,
    normalise_phone,
    normalise_postal_code,
    personal_code_birth_date,
)

# The keys the form engine uses besides the validators' own.
GENERIC_KEYS = {
    "required",
    "invalid",
    "too_short",
    "too_long",
    "too_small",
    "too_large",
    "not_an_option",
    "date.invalid",
    "date.future",
    "date.past",
    "email.invalid",
    "number.invalid",
    "money.invalid",
    "file.type",
    "file.size",
    "file.empty",
    "file.missing",
    "file.unreadable",
    "group.too_few",
    "group.too_many",
    "declaration.required",
}


def expect_error(key: str, function, *args, **kwargs) -> None:
    """Assert that the call raises ValueError with exactly this message key."""
    with pytest.raises(ValueError) as caught:
        function(*args, **kwargs)
    assert caught.value.args == (key,)


def personal_check_digit(first_ten: str) -> str:
    """The check digit as LATVIA.md states it, independently of stdnum's formulation."""
    weights = (1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(w * int(d) for w, d in zip(weights, first_ten, strict=True))
    return str((1101 - total) % 11 % 10)


def old_code_digits(born: date, serial: str) -> str:
    """The first ten digits of an old-format code: DDMMYY, the century digit and a 3-digit serial."""
    return born.strftime("%d%m%y") + str(born.year // 100 - 18) + serial


# --- personal code ---------------------------------------------------------------------------------------------

VALID_OLD = ["180565-05610", "061193-06460", "161175-19997", "290212-29381"]


@pytest.mark.parametrize("code", VALID_OLD)
def test_valid_old_codes_keep_or_gain_the_hyphen(code: str) -> None:
    assert normalise_personal_code(code) == code
    assert normalise_personal_code(code.replace("-", "")) == code
    assert normalise_personal_code(f"  {code.replace('-', '')} \n") == code
    assert normalise_personal_code(code.replace("-", " ")) == code


def test_old_code_bad_checksum() -> None:
    expect_error("personal_code.checksum", normalise_personal_code, "161175-19996")
    expect_error("personal_code.checksum", normalise_personal_code, "16117519996")


def test_old_code_bad_date() -> None:
    expect_error("personal_code.date", normalise_personal_code, "161375-19997")
    expect_error("personal_code.date", normalise_personal_code, "310475-1999" + personal_check_digit("3104751999"))
    expect_error("personal_code.date", normalise_personal_code, "000175-1999" + personal_check_digit("0001751999"))


def test_leap_years() -> None:
    # 29 February 1900: not a leap year (divisible by 100, not by 400): the date fails before any checksum.
    expect_error("personal_code.date", normalise_personal_code, "290200-10000")
    expect_error("personal_code.date", normalise_personal_code, "290200-1" + "000" + personal_check_digit("2902001000"))
    # 29 February 2000: a leap year, so the date passes and the check digit decides.
    good = "2902002123"
    right = personal_check_digit(good)
    assert normalise_personal_code(good + right) == f"290200-2123{right}"
    assert personal_code_birth_date(good + right) == date(2000, 2, 29)
    wrong = str((int(right) + 1) % 10)
    expect_error("personal_code.checksum", normalise_personal_code, good + wrong)
    # 29 February 2012 (a vector) and 2013.
    assert personal_code_birth_date("290212-29381") == date(2012, 2, 29)
    expect_error("personal_code.date", normalise_personal_code, "290213-2000" + personal_check_digit("2902132000"))


def test_birth_dates() -> None:
    assert personal_code_birth_date("161175-19997") == date(1975, 11, 16)
    assert personal_code_birth_date("18056505610") == date(1865, 5, 18)  # century digit 0: the 1800s
    assert personal_code_birth_date("32579461005") is None
    expect_error("personal_code.checksum", personal_code_birth_date, "161175-19996")


def test_future_birth_date_is_not_real() -> None:
    # Century 2, year 99: 2099, which no one has been born in yet.
    expect_error("personal_code.date", normalise_personal_code, "010199-2000" + personal_check_digit("0101992000"))


@pytest.mark.parametrize("century", "3456789")
def test_century_digit_is_0_1_or_2(century: str) -> None:
    first_ten = "161175" + century + "999"
    expect_error("personal_code.format", normalise_personal_code, first_ten + personal_check_digit(first_ten))


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "161175-1999",  # 10 digits
        "161175-199970",  # 12 digits
        "1611751-9997",  # hyphen in the wrong place
        "161175--19997",
        "161175-1999x",
        "LV161175-19997",
        "40003032065",  # a company number
        "90000050138",  # a company number whose 7th digit could pass for a century digit
        "٣٢٥٧٩٤٦١٠٠٥",  # Arabic-Indic digits: \d would match them
        "161175-19997\n1",
    ],
)
def test_personal_code_format(value: str) -> None:
    expect_error("personal_code.format", normalise_personal_code, value)


def test_personal_code_that_is_not_a_string() -> None:
    expect_error("personal_code.format", normalise_personal_code, None)
    expect_error("personal_code.format", normalise_personal_code, 16117519997)


@pytest.mark.parametrize("value", ["32579461005", "325794-61005", " 325794-61005 ", "325794 61005"])
def test_new_format_codes(value: str) -> None:
    assert normalise_personal_code(value) == "325794-61005"


@pytest.mark.parametrize("last", "0123456789")
def test_new_format_never_has_a_checksum(last: str) -> None:
    # stdnum.lv.pvn rejects most of these ("328673-00677"); the law says the digits are random.
    assert normalise_personal_code("328673-0067" + last) == "328673-0067" + last


@given(
    born=st.dates(min_value=date(1800, 1, 1), max_value=date.today()),
    serial=st.from_regex(r"[0-9]{3}", fullmatch=True),
    hyphen=st.booleans(),
)
def test_every_generated_old_code_passes_and_every_other_check_digit_fails(
    born: date, serial: str, hyphen: bool
) -> None:
    first_ten = old_code_digits(born, serial)
    check = personal_check_digit(first_ten)
    canonical = f"{first_ten[:6]}-{first_ten[6:]}{check}"
    typed = canonical if hyphen else canonical.replace("-", "")
    assert normalise_personal_code(typed) == canonical
    assert personal_code_birth_date(typed) == born
    for other in "0123456789".replace(check, ""):
        expect_error("personal_code.checksum", normalise_personal_code, canonical[:-1] + other)


@given(code=st.from_regex(r"3[2-9][0-9]{9}", fullmatch=True), last=st.sampled_from("0123456789"))
def test_new_format_codes_are_never_rejected_for_their_last_digit(code: str, last: str) -> None:
    changed = code[:-1] + last
    assert normalise_personal_code(changed) == f"{changed[:6]}-{changed[6:]}"
    assert personal_code_birth_date(changed) is None


# --- company registration number -------------------------------------------------------------------------------

COMPANIES = ["40003032065", "40003466281", "90000050138", "90000069830"]


@pytest.mark.parametrize("number", COMPANIES)
def test_real_company_numbers(number: str) -> None:
    assert normalise_company_number(number) == number
    assert normalise_company_number(f"LV{number}") == number
    assert normalise_company_number(f" lv {number[:4]} {number[4:]} ") == number


def test_company_number_checksum() -> None:
    expect_error("company_number.checksum", normalise_company_number, "40003032066")
    expect_error("company_number.checksum", normalise_company_number, "LV90000050139")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "4000303206",
        "400030320650",
        "4000303206A",
        "161175-19997",  # an old personal code: stdnum.lv.pvn accepts it as a (personal) VAT number
        "16117519997",
        "325794-61005",  # a new personal code
        "EE40003032065",
    ],
)
def test_company_number_format(value: str) -> None:
    expect_error("company_number.format", normalise_company_number, value)


@given(first=st.sampled_from("459"), rest=st.from_regex(r"[0-9]{9}", fullmatch=True))
def test_generated_company_numbers_have_exactly_one_check_digit(first: str, rest: str) -> None:
    weights = (9, 1, 4, 8, 3, 10, 2, 5, 7, 6)
    ten = first + rest
    needed = (3 - sum(w * int(d) for w, d in zip(weights, ten, strict=True))) % 11
    assume(needed < 10)  # a remainder of 10 has no digit: such numbers are never issued
    assert normalise_company_number(ten + str(needed)) == ten + str(needed)
    for other in set("0123456789") - {str(needed)}:
        expect_error("company_number.checksum", normalise_company_number, ten + other)


# --- IBAN ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["LV84TREL1060190913200", "LV84 TREL 1060 1909 1320 0", "lv84trel1060190913200", " LV84TREL1060190913200 "]
)
def test_latvian_iban(value: str) -> None:
    assert normalise_iban(value) == "LV84TREL1060190913200"
    assert normalise_iban(value, country="LV") == "LV84TREL1060190913200"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "LV85TREL1060190913200",  # wrong check digits
        "LV84TREL106019091320",  # too short
        "LV84TREL10601909132000",  # too long
        "LV841REL1060190913200",  # a digit where the bank code has letters
        "LV84TREL1060190913200!",
        "XX84TREL1060190913200",
    ],
)
def test_iban_invalid(value: str) -> None:
    expect_error("iban.invalid", normalise_iban, value)
    expect_error("iban.invalid", normalise_iban, value, country="LV")


def test_iban_country() -> None:
    assert normalise_iban("DE89 3704 0044 0532 0130 00") == "DE89370400440532013000"
    expect_error("iban.country", normalise_iban, "DE89370400440532013000", country="LV")
    assert normalise_iban("DE89370400440532013000", country="de") == "DE89370400440532013000"


# --- phone -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "e164"),
    [
        ("21234567", "+37121234567"),  # mobile
        ("21 234 567", "+37121234567"),
        ("+371 21 234 567", "+37121234567"),
        ("00371 21234567", "+37121234567"),
        ("(+371) 2123-4567", "+37121234567"),
        ("67123456", "+37167123456"),  # fixed line
        ("+371 67 123 456", "+37167123456"),
        ("+49 1511 2345678", "+4915112345678"),  # foreign, valid
        ("+1 202 555 0100", "+12025550100"),
    ],
)
def test_valid_phones(value: str, e164: str) -> None:
    assert normalise_phone(value) == e164


@pytest.mark.parametrize(
    "value",
    [
        "",
        "2123456",  # too short
        "212345678",  # too long
        "31234567",  # Latvian numbers start with 2 or 6
        "80001234",  # toll-free: not a contact number
        "90001234",  # premium rate
        "+44 7700 900982",  # not a valid UK number
        "2123ABCD",  # phonenumbers would read the letters as digits
        "tel 21234567",  # phonenumbers would pick the number out of the text
        "21234567 ext. 5",
    ],
)
def test_invalid_phones(value: str) -> None:
    expect_error("phone.invalid", normalise_phone, value)


def test_display_phone() -> None:
    assert display_phone("+37121234567") == "+371 21 234 567"
    assert display_phone("+37167123456") == "+371 67 123 456"
    assert display_phone("+4915112345678") == "+49 1511 2345678"
    assert display_phone("not a number") == "not a number"


# --- postal code -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["LV-1050", "lv-1050", "1050", "LV 1050", "LV1050", " LV-1050 ", "Lv - 1050"])
def test_postal_codes(value: str) -> None:
    assert normalise_postal_code(value) == "LV-1050"


@pytest.mark.parametrize("value", ["", "105", "10500", "LV-105A", "EE-1050", "-1050", "LV--1050", "١٠٥٠", None])
def test_invalid_postal_codes(value: str) -> None:
    expect_error("postal_code.invalid", normalise_postal_code, value)


# --- messages --------------------------------------------------------------------------------------------------


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def keys_raised_by_validators() -> set[str]:
    source = Path(validators.__file__).read_text(encoding="utf-8")
    return set(re.findall(r'ValueError\("([a-z_.]+)"\)', source))


def test_every_key_has_latvian_and_english_text() -> None:
    raised = keys_raised_by_validators()
    assert {"personal_code.checksum", "company_number.format", "iban.country", "phone.invalid"} <= raised
    for key in raised | GENERIC_KEYS:
        assert set(MESSAGES[key]) == {"lv", "en"}, key
        assert all(text.strip() for text in MESSAGES[key].values()), key


def test_both_languages_have_the_same_placeholders() -> None:
    for key, texts in MESSAGES.items():
        assert placeholders(texts["lv"]) == placeholders(texts["en"]), key


def test_limits_have_placeholders() -> None:
    for key in ("too_short", "too_small", "group.too_few"):
        assert placeholders(MESSAGES[key]["en"]) == {"min"}
    for key in ("too_long", "too_large", "group.too_many", "file.size"):
        assert placeholders(MESSAGES[key]["en"]) == {"max"}


def test_messages_are_sentences_without_jargon() -> None:
    for key, texts in MESSAGES.items():
        for text in texts.values():
            assert text[0].isupper() and text.endswith("."), key
        assert "invalid" not in texts["en"].lower(), key  # GOV.UK style: say what to do instead


def test_latvian_is_written_with_diacritics() -> None:
    latvian = " ".join(texts["lv"] for texts in MESSAGES.values())
    assert set("āčēģīķļņšūž") & set(latvian)
    for ascii_spelling in ("Ievadiet talruna", "ludzu", "ievadits", "skaitli, kas ir {min} vai lielaks"):
        assert ascii_spelling not in latvian


def test_message() -> None:
    assert message("too_long", "en", max=200) == "Your answer is too long. It must be 200 characters or fewer."
    assert message("too_long", "lv", max=200) == "Atbilde ir par garu. Rakstzīmju skaits nedrīkst pārsniegt 200."
    assert message("iban.country", "en", country="LV") == "Enter an account number (IBAN) that starts with LV."
    assert message("required", "ru") == MESSAGES["required"]["lv"]  # Latvian is the fallback
    with pytest.raises(KeyError):
        message("no.such.key", "en")


# --- JSON Schema formats ---------------------------------------------------------------------------------------

CANONICAL = {
    "lv-personal-code": ["161175-19997", "290212-29381", "325794-61005"],
    "lv-company-number": COMPANIES,
    "iban": ["LV84TREL1060190913200", "DE89370400440532013000"],
    "lv-phone": ["+37121234567", "+37167123456", "+4915112345678"],
    "lv-postal-code": ["LV-1050"],
    "date": ["2024-02-29", "2026-03-07"],
    "email": ["vards.uzvards@piemers.lv", "a+b@mail.example.com"],
}
NOT_CANONICAL = {
    "lv-personal-code": ["16117519997", " 161175-19997", "32579461005", "161175-19996", "161375-19997"],
    "lv-company-number": ["LV40003032065", "4000 3032 065", "40003032066", "161175-19997"],
    "iban": ["LV84 TREL 1060 1909 1320 0", "lv84trel1060190913200", "LV85TREL1060190913200"],
    "lv-phone": ["21234567", "+371 21 234 567", "0037121234567", "+3712123456"],
    "lv-postal-code": ["1050", "lv-1050", "LV 1050", "LV-105"],
    "date": ["2023-02-29", "2026-3-7", "20260307", "07.03.2026", "2026-W10-1", "2026-03-07T10:00"],
    "email": ["name", "name@", "@example.com", "name@example", "name @example.com", "name@example.com "],
}


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, values in CANONICAL.items() for v in values])
def test_format_checker_accepts_canonical_values(name: str, value: str) -> None:
    assert format_checker().conforms(value, name)


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, values in NOT_CANONICAL.items() for v in values])
def test_format_checker_rejects_other_values(name: str, value: str) -> None:
    assert not format_checker().conforms(value, name)


def test_format_checker_in_a_schema() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "code": {"type": "string", "format": "lv-personal-code"},
            "born": {"type": "string", "format": "date"},
            "site": {"type": "string", "format": "ipv4"},  # a standard format is still checked
            "count": {"type": ["integer", "string"], "format": "lv-postal-code"},
        },
    }
    validator = jsonschema.Draft202012Validator(schema, format_checker=format_checker())
    assert list(validator.iter_errors({"code": "161175-19997", "born": "1975-11-16", "count": 3})) == []
    errors = {e.path[0]: e for e in validator.iter_errors({"code": "161175-19996", "born": "1975-02-30", "site": "x"})}
    assert set(errors) == {"code", "born", "site"}
    assert errors["code"].cause.args == ("personal_code.checksum",)  # the message key travels with the error


def test_format_checker_does_not_change_the_global_checker() -> None:
    format_checker()
    assert "lv-personal-code" not in jsonschema.FormatChecker().checkers
