"""Latvian validators: personal code, company registration number, IBAN, phone, postal code; error messages.

Every `normalise_*` function takes what a person typed and returns the one canonical form that is stored and
submitted, or raises `ValueError(key)` where `key` is a key of `MESSAGES` (e.g. "personal_code.checksum").
`format_checker()` checks the same rules on submitted (already normalised) data in JSON Schema.

Checks come from maintained libraries where one fits: `stdnum.lv.pvn` (company number checksum, old-format
personal code date and check digit), `stdnum.iban` (ISO 13616), `phonenumbers`. Written here by hand: the
new-format personal code (stdnum applies a check digit to it, which the law does not have) and the postal code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import jsonschema
import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.lv import pvn

# re.ASCII everywhere: `\d` would otherwise match Arabic-Indic and other Unicode digits, which int() accepts.
# Old format: DDMMYY-CNNNZ; the day starts with 0-3, the century digit is 0, 1 or 2.
_OLD_PERSONAL_CODE = re.compile(r"([0-3][0-9]{5}) *-? *([012][0-9]{4})", re.ASCII)
# New format (since 2017-07-01): no birth date, random digits (only 32... is issued today).
_NEW_PERSONAL_CODE = re.compile(r"(3[2-9][0-9]{4}) *-? *([0-9]{5})", re.ASCII)
# 40... companies, 50... non-profits, 90... state and municipal bodies; personal codes start with 0-3.
_COMPANY_NUMBER = re.compile(r"[459][0-9]{10}", re.ASCII)
_LV_IBAN = re.compile(r"LV[0-9]{2}[A-Z]{4}[A-Z0-9]{13}", re.ASCII)
_POSTAL_CODE = re.compile(r"(?:LV *[- ]? *)?([0-9]{4})", re.ASCII | re.IGNORECASE)
# What people type in a phone number; phonenumbers would otherwise read letters as digits ("2123ABCD")
# and pick a number out of free text ("tel 21234567").
_PHONE_CHARACTERS = re.compile(r"[+0-9 ().\-]+", re.ASCII)
_LV_PHONE_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
# The WHATWG (HTML) e-mail syntax that browsers check in <input type=email>, plus a dot in the domain:
# an address people can receive mail at has one. IDN domains are typed in their xn-- form.
_EMAIL = re.compile(
    r"[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+",
    re.ASCII,
)


# --- personal code ---------------------------------------------------------------------------------------------


def normalise_personal_code(value: str) -> str:
    """Return a personal code as `DDMMYY-CNNNN` or `32NNNN-NNNNN`, or raise ValueError("personal_code.<why>")."""
    if not isinstance(value, str):
        raise ValueError("personal_code.format")
    value = value.strip()
    if match := _NEW_PERSONAL_CODE.fullmatch(value):
        # The law calls the digits random: a checksum here would reject real people (stdnum applies one).
        return f"{match[1]}-{match[2]}"
    match = _OLD_PERSONAL_CODE.fullmatch(value)
    if not match:
        raise ValueError("personal_code.format")
    digits = match[1] + match[2]
    _old_code_birth_date(digits)
    # stdnum's weights (10 5 8 4 2 1 6 3 7 9, 1 + sum) are the negatives mod 11 of LATVIA.md's
    # (1 6 3 7 9 10 5 8 4 2, 1101 - sum): the same check digit; the tests compare both on every generated code.
    if pvn.calc_check_digit_pers(digits[:10]) != digits[10]:
        raise ValueError("personal_code.checksum")
    return f"{match[1]}-{match[2]}"


def personal_code_birth_date(code: str) -> date | None:
    """Return the birth date in a personal code, or None for a new-format code (it has none)."""
    canonical = normalise_personal_code(code)
    if _NEW_PERSONAL_CODE.fullmatch(canonical):
        return None
    return _old_code_birth_date(canonical.replace("-", ""))


def _old_code_birth_date(digits: str) -> date:
    """Return the real date in an old-format code's 11 digits, or raise ValueError("personal_code.date")."""
    try:
        # stdnum reads DDMMYY and the century digit (0 = 1800s, 1 = 1900s, 2 = 2000s) and checks leap years.
        born = pvn.get_birth_date(digits)
    except StdnumError:
        raise ValueError("personal_code.date") from None
    if born > date.today():
        raise ValueError("personal_code.date")
    return born


# --- company registration number -------------------------------------------------------------------------------


def normalise_company_number(value: str) -> str:
    """Return an 11-digit company registration number (an `LV` VAT prefix is dropped), or raise ValueError."""
    if not isinstance(value, str):
        raise ValueError("company_number.format")
    try:
        number = pvn.compact(value)  # drops spaces, hyphens and the LV prefix of a VAT number
    except StdnumError:
        raise ValueError("company_number.format") from None
    # stdnum.lv.pvn.validate() also accepts personal codes (a person's VAT number): check the first digit here.
    if not _COMPANY_NUMBER.fullmatch(number):
        raise ValueError("company_number.format")
    # pvn.checksum: weights 9 1 4 8 3 10 2 5 7 6 1, valid when the sum mod 11 is 3.
    if pvn.checksum(number) != 3:
        raise ValueError("company_number.checksum")
    return number


# --- IBAN ------------------------------------------------------------------------------------------------------


def normalise_iban(value: str, country: str | None = None) -> str:
    """Return an IBAN without spaces in upper case; with `country`, it must be an account in that country."""
    if not isinstance(value, str):
        raise ValueError("iban.invalid")
    try:
        # check_country: the country's own BBAN structure too, not only the mod-97 check digits.
        number = stdnum_iban.validate(value, check_country=True)
    except StdnumError:
        raise ValueError("iban.invalid") from None
    if number.startswith("LV") and not _LV_IBAN.fullmatch(number):
        raise ValueError("iban.invalid")
    if country is not None and number[:2] != country.strip().upper():
        raise ValueError("iban.country")
    return number


# --- phone -----------------------------------------------------------------------------------------------------


def normalise_phone(value: str) -> str:
    """Return a phone number in E.164 (`+37121234567`); a number without a country code is Latvian."""
    if not isinstance(value, str) or not _PHONE_CHARACTERS.fullmatch(value.strip()):
        raise ValueError("phone.invalid")
    try:
        number = phonenumbers.parse(value, "LV")
    except phonenumbers.NumberParseException:
        raise ValueError("phone.invalid") from None
    if number.extension or not phonenumbers.is_valid_number(number):
        raise ValueError("phone.invalid")
    # A Latvian contact number is a mobile (2...) or fixed (6...) line; not toll-free or premium-rate numbers.
    if number.country_code == 371 and phonenumbers.number_type(number) not in _LV_PHONE_TYPES:
        raise ValueError("phone.invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    """Return a stored phone number for reading: `+371 21 234 567`; a value that is not a number is returned as is."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        # Display never fails a page: an unexpected stored value is shown as it is.
        return e164
    # phonenumbers' international format for Latvia is already "+371 21 234 567" (groups 2 3 3).
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# --- postal code -----------------------------------------------------------------------------------------------


def normalise_postal_code(value: str) -> str:
    """Return a Latvian postal code as `LV-NNNN` (`1050`, `lv-1050` and `LV 1050` are accepted)."""
    if not isinstance(value, str) or not (match := _POSTAL_CODE.fullmatch(value.strip())):
        raise ValueError("postal_code.invalid")
    return f"LV-{match[1]}"


# --- messages --------------------------------------------------------------------------------------------------

# Error messages in the GOV.UK style: say what to do, without blame, jargon or "invalid".
# Placeholders (str.format names) the caller passes to message():
#   too_short, too_small, group.too_few: {min}        too_long, too_large, group.too_many: {max}
#   file.size: {max} (megabytes)                      file.type: {types} (e.g. "PDF, JPG, PNG")
#   iban.country: {country} (e.g. "LV")
# Latvian wording avoids a noun right after a number ("{min} rakstzīmes") so that 1, 21 or 5 all read correctly.
MESSAGES: dict[str, dict[str, str]] = {
    "required": {
        "lv": "Atbildiet uz šo jautājumu.",
        "en": "Answer this question.",
    },
    "invalid": {
        "lv": "Pārbaudiet atbildi – tā nav vajadzīgajā formātā.",
        "en": "Check your answer – it is not in the format this question needs.",
    },
    "too_short": {
        "lv": "Atbilde ir par īsu. Rakstzīmju skaitam jābūt vismaz {min}.",
        "en": "Your answer is too short. It must be at least {min} characters long.",
    },
    "too_long": {
        "lv": "Atbilde ir par garu. Rakstzīmju skaits nedrīkst pārsniegt {max}.",
        "en": "Your answer is too long. It must be {max} characters or fewer.",
    },
    "too_small": {
        "lv": "Ievadiet skaitli, kas ir {min} vai lielāks.",
        "en": "Enter a number that is {min} or more.",
    },
    "too_large": {
        "lv": "Ievadiet skaitli, kas ir {max} vai mazāks.",
        "en": "Enter a number that is {max} or less.",
    },
    "not_an_option": {
        "lv": "Izvēlieties kādu no piedāvātajām atbildēm.",
        "en": "Select one of the options.",
    },
    "date.invalid": {
        "lv": "Ievadiet pareizu datumu – pārbaudiet dienu, mēnesi un gadu.",
        "en": "Enter a real date – check the day, month and year.",
    },
    "date.future": {
        "lv": "Datums nedrīkst būt nākotnē. Ievadiet šodienas vai agrāku datumu.",
        "en": "The date must be today or in the past.",
    },
    "date.past": {
        "lv": "Datums nedrīkst būt pagātnē. Ievadiet šodienas vai vēlāku datumu.",
        "en": "The date must be today or in the future.",
    },
    "email.invalid": {
        "lv": "Ievadiet e-pasta adresi pareizā formātā, piemēram, vards.uzvards@piemers.lv.",
        "en": "Enter an email address in the correct format, like name@example.com.",
    },
    "number.invalid": {
        "lv": "Ievadiet skaitli, izmantojot tikai ciparus, piemēram, 12.",
        "en": "Enter a number using digits only, like 12.",
    },
    "money.invalid": {
        "lv": "Ievadiet summu eiro, piemēram, 1234,50.",
        "en": "Enter an amount in euros, like 1234.50.",
    },
    "file.type": {
        "lv": "Izvēlētajam failam jābūt kādā no šiem formātiem: {types}.",
        "en": "The selected file must be one of these types: {types}.",
    },
    "file.size": {
        "lv": "Izvēlētajam failam jābūt mazākam par {max} MB.",
        "en": "The selected file must be smaller than {max} MB.",
    },
    "file.empty": {
        "lv": "Izvēlētais fails ir tukšs. Izvēlieties citu failu.",
        "en": "The selected file is empty. Choose another file.",
    },
    "file.missing": {
        "lv": "Pievienotais fails vairs nav pieejams. Pievienojiet to vēlreiz.",
        "en": "The attached file is no longer available. Attach it again.",
    },
    "file.unreadable": {
        "lv": "Failu neizdevās saglabāt. Mēģiniet vēlreiz.",
        "en": "The file could not be saved. Try again.",
    },
    # The registry's virus scan (registry/antivirus.py): a file it found something in, and no verdict (fail-closed).
    "file.infected": {
        "lv": "Izvēlētajā failā ir atrasts vīruss. Izvēlieties citu failu.",
        "en": "The selected file contains a virus. Choose another file.",
    },
    "file.scan_unavailable": {
        "lv": "Izvēlēto failu pašlaik nevar pārbaudīt, vai tajā nav vīrusu, tāpēc tas netika saglabāts. "
        "Mēģiniet vēlreiz vēlāk.",
        "en": "The selected file cannot be checked for viruses right now, so it was not saved. Try again later.",
    },
    "group.too_few": {
        "lv": "Pievienojiet vēl ierakstus. Mazākais ierakstu skaits ir {min}.",
        "en": "Add more entries. The minimum number of entries is {min}.",
    },
    "group.too_many": {
        "lv": "Izdzēsiet liekos ierakstus. Lielākais ierakstu skaits ir {max}.",
        "en": "Remove some entries. The maximum number of entries is {max}.",
    },
    "declaration.required": {
        "lv": "Atzīmējiet rūtiņu, lai apstiprinātu apliecinājumu.",
        "en": "Tick the box to confirm the declaration.",
    },
    "personal_code.format": {
        "lv": "Ievadiet personas kodu no 11 cipariem, piemēram, 123456-12345.",
        "en": "Enter a personal code of 11 digits, like 123456-12345.",
    },
    "personal_code.date": {
        "lv": "Pārbaudiet personas kodu – tā pirmie cipari neveido derīgu dzimšanas datumu.",
        "en": "Check the personal code – its first digits do not make a real date of birth.",
    },
    "personal_code.checksum": {
        "lv": "Pārbaudiet personas kodu – šķiet, ka kāds cipars ievadīts nepareizi.",
        "en": "Check the personal code – one of the digits seems to be wrong.",
    },
    "company_number.format": {
        "lv": "Ievadiet reģistrācijas numuru no 11 cipariem, kas sākas ar 4, 5 vai 9, piemēram, 40001234567.",
        "en": "Enter a registration number of 11 digits starting with 4, 5 or 9, like 40001234567.",
    },
    "company_number.checksum": {
        "lv": "Pārbaudiet reģistrācijas numuru – šķiet, ka kāds cipars ievadīts nepareizi.",
        "en": "Check the registration number – one of the digits seems to be wrong.",
    },
    "iban.invalid": {
        "lv": "Pārbaudiet konta numuru – IBAN izskatās, piemēram, šādi: LV80BANK0000435195001.",
        "en": "Check the account number – an IBAN looks like LV80BANK0000435195001.",
    },
    "iban.country": {
        "lv": "Ievadiet konta numuru (IBAN), kas sākas ar {country}.",
        "en": "Enter an account number (IBAN) that starts with {country}.",
    },
    "phone.invalid": {
        "lv": "Ievadiet tālruņa numuru, piemēram, 21234567 vai +371 21 234 567.",
        "en": "Enter a phone number, like 21234567 or +371 21 234 567.",
    },
    "postal_code.invalid": {
        "lv": "Ievadiet pasta indeksu, piemēram, LV-1050.",
        "en": "Enter a postal code, like LV-1050.",
    },
}


def message(key: str, lang: str, **params: object) -> str:
    """Return the error message `key` in `lang` (Latvian for an unknown language) with its placeholders filled."""
    texts = MESSAGES[key]  # an unknown key is a programming error: fail loudly
    # Same fallback as app.i18n.localized: Latvian is the portal's default language.
    return texts.get(lang, texts["lv"]).format(**params)


# --- JSON Schema formats ---------------------------------------------------------------------------------------


def _is_canonical(normalise: Callable[[str], str]) -> Callable[[object], bool]:
    """Wrap a normaliser as a format check: true iff the value is already its own canonical form."""

    def check(instance: object) -> bool:
        # Formats only constrain strings; "type" says what else is allowed (JSON Schema convention).
        if not isinstance(instance, str):
            return True
        return normalise(instance) == instance

    return check


def _is_date(instance: object) -> bool:
    """True for a real date written `YYYY-MM-DD`."""
    if not isinstance(instance, str):
        return True
    # The pattern first: date.fromisoformat also reads "20260307" and "2026-W10-1".
    if not _ISO_DATE.fullmatch(instance):
        return False
    date.fromisoformat(instance)  # ValueError for 2023-02-29, kept as the FormatError's cause
    return True


def _is_email(instance: object) -> bool:
    """True for an e-mail address people can write to (RFC 5321 length, WHATWG syntax, a dotted domain)."""
    if not isinstance(instance, str):
        return True
    return len(instance) <= 254 and bool(_EMAIL.fullmatch(instance))


def format_checker() -> jsonschema.FormatChecker:
    """Return a FormatChecker with the standard formats and the Latvian ones, checking canonical submitted data."""
    checker = jsonschema.FormatChecker()  # a fresh instance: registering below does not touch other checkers
    for name, check in {
        "lv-personal-code": _is_canonical(normalise_personal_code),
        "lv-company-number": _is_canonical(normalise_company_number),
        "iban": _is_canonical(normalise_iban),
        "lv-phone": _is_canonical(normalise_phone),
        "lv-postal-code": _is_canonical(normalise_postal_code),
        "date": _is_date,
        "email": _is_email,
    }.items():
        checker.checks(name, raises=ValueError)(check)  # the ValueError key becomes the FormatError's cause
    return checker
