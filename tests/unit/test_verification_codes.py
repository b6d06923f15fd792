"""Verification codes of result documents: random, easy to type, forgiving of how they are typed."""

from __future__ import annotations

import re

import pytest

from app.models.applications_api import printed_code
from registry.models.results import ALPHABET, canonical_code, grouped, new_code

PRINTED = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")


def test_alphabet_is_crockford_base32() -> None:
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)


def test_new_codes_are_printed_in_groups_and_differ() -> None:
    codes = {new_code() for _ in range(500)}
    assert len(codes) == 500
    assert all(PRINTED.fullmatch(code) for code in codes)
    # Every character of the alphabet turns up: the codes are not drawn from a small part of it.
    assert set("".join(codes).replace("-", "")) == set(ALPHABET)


def test_grouped() -> None:
    assert grouped("7K3M9QXR2ABC") == "7K3M-9QXR-2ABC"


@pytest.mark.parametrize(
    "typed",
    ["7K3M-9QXR-2ABC", "7k3m-9qxr-2abc", "7K3M9QXR2ABC", "7k3m9qxr2abc", " 7K3M-9QXR2ABC ", "7K3M9QXR-2ABC"],
)
def test_any_case_and_dashes_optional(typed: str) -> None:
    assert canonical_code(typed) == "7K3M-9QXR-2ABC"


def test_letters_read_as_digits() -> None:
    assert canonical_code("O0IL-oil1-0000") == "0011-0111-0000"


@pytest.mark.parametrize(
    "typed",
    [
        None,
        42,
        "",
        "7K3M-9QXR",
        "7K3M-9QXR-2ABC-D",
        "7K3M--9QXR-2ABC",
        "7K3M 9QXR 2ABC",
        "UUUU-UUUU-UUUU",  # U is not in the alphabet
        "7K3M-9QXR-2AB!",
        "7K3M-9QXR-2ABĀ",
        "-7K3M9QXR2ABC",
    ],
)
def test_what_cannot_be_a_code(typed: object) -> None:
    assert canonical_code(typed) is None


@pytest.mark.parametrize(
    ("typed", "printed"),
    [
        ("7k3m-9qxr-2abc", "7K3M-9QXR-2ABC"),
        ("7K3M9QXR2ABC", "7K3M-9QXR-2ABC"),
        (" 7k3m 9qxr 2abc ", "7K3M-9QXR-2ABC"),
        ("7K3M-9QXR", None),
        ("7K3M-9QXR-2ABC-1", None),
        ("7K3M-9QXR-2AB!", None),
        ("7K3M-9QXR-2ABĀ", None),
        ("", None),
    ],
)
def test_the_portal_prints_what_was_typed_as_one_address_per_code(typed: str, printed: str | None) -> None:
    assert printed_code(typed) == printed
