"""Answers to a form: clean them, normalise them, and validate them into message keys per field path.

The answers are the JSON object docs/forms.md describes: one key per answered question, absent when unanswered.
`validate_answers` is the server-side truth (the portal after WTForms, and the registry on submission); the
WTForms validators call `check_answer` below, so both give the same message keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal

from babel.numbers import format_decimal

from forms import validators
from forms.conditions import ISO_DATE, money_value, visibility, visible_item_questions
from forms.model import ADDRESS_PART_MAX_LENGTH, ADDRESS_PARTS, DECLARATION_ID, FILE_KEYS, FormDefinition, Question

Problems = dict[str, list[str]]

# Keys the form engine adds to validators.MESSAGES: answers a client should not have sent (the portal never
# sends them, the registry reports them) and the number of options chosen.
MESSAGES: dict[str, dict[str, str]] = {
    "hidden": {
        "lv": "Izņemiet šo atbildi – jautājums netiek uzdots, ņemot vērā citas atbildes.",
        "en": "Leave this answer out – the question is not asked, given your other answers.",
    },
    "unknown": {
        "lv": "Izņemiet šo atbildi – veidlapā tāda jautājuma nav.",
        "en": "Leave this answer out – the form has no such question.",
    },
    "choice.too_few": {
        "lv": "Atzīmējiet vairāk atbilžu. Mazākais atbilžu skaits ir {min}.",
        "en": "Select more options. The minimum number of options is {min}.",
    },
    "choice.too_many": {
        "lv": "Atzīmējiet mazāk atbilžu. Lielākais atbilžu skaits ir {max}.",
        "en": "Select fewer options. The maximum number of options is {max}.",
    },
}
REQUIRED_KEYS = frozenset({"required", "declaration.required"})
# What the virus scan said of an upload is never the question's own "invalid" text (the file's format was right).
SCAN_KEYS = frozenset({"file.infected", "file.scan_unavailable"})
# The key for a Latvian value that is valid but not written in its canonical form (e.g. postal code "1050").
_NOT_CANONICAL = {
    "personal_code": "personal_code.format",
    "company_number": "company_number.format",
    "iban": "iban.invalid",
    "phone": "phone.invalid",
    "postal_code": "postal_code.invalid",
}
_NORMALISERS: dict[str, Callable[[str], str]] = {
    "personal_code": validators.normalise_personal_code,
    "company_number": validators.normalise_company_number,
    "iban": validators.normalise_iban,
    "phone": validators.normalise_phone,
    "postal_code": validators.normalise_postal_code,
}
_FORMATS = validators.format_checker()
_LATVIAN_DATE = re.compile(r"([0-9]{1,2})\. ?([0-9]{1,2})\. ?([0-9]{4})\.?", re.ASCII)
_TYPED_AMOUNT = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,2})?", re.ASCII)
_TYPED_INTEGER = re.compile(r"-?[0-9]{1,15}", re.ASCII)
_TYPED_DECIMAL = re.compile(r"-?[0-9]{0,15}\.[0-9]{1,15}", re.ASCII)
_SPACES = re.compile(r"[\s\u00a0\u202f]+")


# --- messages -------------------------------------------------------------------------------------------------


def message(key: str, lang: str, **params: object) -> str:
    """Return the text of a message key in `lang`, from this module's keys or validators.MESSAGES."""
    if key in MESSAGES:
        texts = MESSAGES[key]
        return texts.get(lang, texts["lv"]).format(**params)
    return validators.message(key, lang, **params)


def error_text(question: Question, key: str, lang: str) -> str:
    """Return what to show for a message key on a question: its own `errors` text if it has one, else ours."""
    if question.errors is not None and key not in ("hidden", "unknown") and key not in SCAN_KEYS:
        own = question.errors.required if key in REQUIRED_KEYS else question.errors.invalid
        if own is not None:
            return own.get(lang)  # definition text: shown as it is, never formatted or rendered
    return message(key, lang, **_message_params(question, key, lang))


def required_key(question: Question) -> str:
    """Return the key for a question left unanswered."""
    return "declaration.required" if question.type == "declaration" else "required"


def _message_params(question: Question, key: str, lang: str) -> dict[str, object]:
    """Fill a message's placeholders from the question's limits, numbers formatted for the language."""

    def number(value: float | None) -> str:
        return format_decimal(value if value is not None else 0, locale="en" if lang == "en" else "lv")

    limit = question.length_limit or ADDRESS_PART_MAX_LENGTH
    params: dict[str, dict[str, object]] = {
        "too_short": {"min": question.min_length},
        "too_long": {"max": limit},
        "too_small": {"min": number(question.min)},
        "too_large": {"max": number(question.max)},
        "group.too_few": {"min": question.min_items},
        "group.too_many": {"max": question.max_items},
        "choice.too_few": {"min": question.min_items},
        "choice.too_many": {"max": question.max_items},
        "file.size": {"max": number(question.max_size_mb)},
        "file.type": {"types": ", ".join(extension.upper() for extension in question.accept)},
        "iban.country": {"country": question.country},
    }
    return params.get(key, {})


# --- cleaning -------------------------------------------------------------------------------------------------


def clean_answers(definition: FormDefinition, answers: Mapping[str, object]) -> dict[str, object]:
    """Keep only answers to shown questions: drop unknown keys, hidden answers and empty ones (unanswered)."""
    seen = visibility(definition, answers)
    cleaned: dict[str, object] = {}
    for question in seen.questions:
        if question.has_answer and question.id in answers:
            value = _clean(question, answers[question.id], seen.answers)
            if not is_blank(question, value):
                cleaned[question.id] = value
    if definition.declaration is not None and answers.get(DECLARATION_ID) is True:
        cleaned[DECLARATION_ID] = True
    return cleaned


def is_blank(question: Question, value: object) -> bool:
    """Whether an answer says nothing: missing, blank text, nothing chosen, an unticked declaration."""
    if value is None or value == [] or value == {}:
        return True
    if isinstance(value, str):
        return not value.strip()
    return question.type == "declaration" and value is False


def _clean(question: Question, value: object, shown: Mapping[str, object]) -> object:
    """Drop unknown and hidden keys inside an answer; other values are kept as they are for validation."""
    if question.type == "group" and isinstance(value, list):
        subs = [sub for sub in visible_item_questions(question, shown) if sub.has_answer]
        return [_clean_item(subs, item, shown) if isinstance(item, Mapping) else item for item in value]
    if question.type == "address" and isinstance(value, Mapping):
        return {part: value[part] for part in ADDRESS_PARTS if part in value and not is_blank(question, value[part])}
    if question.type == "file" and isinstance(value, Mapping):
        return {key: value[key] for key in FILE_KEYS if key in value}
    return value


def _clean_item(subs: list[Question], item: Mapping[str, object], shown: Mapping[str, object]) -> dict[str, object]:
    """Clean one group item: its shown questions only, unanswered ones left out."""
    cleaned: dict[str, object] = {}
    for sub in subs:
        if sub.id in item:
            value = _clean(sub, item[sub.id], shown)
            if not is_blank(sub, value):
                cleaned[sub.id] = value
    return cleaned


# --- normalising ----------------------------------------------------------------------------------------------


def normalise_answers(definition: FormDefinition, answers: Mapping[str, object]) -> dict[str, object]:
    """Return the answers in canonical form (personal code with hyphen, LV-NNNN, IBAN, E.164, amounts, dates)."""
    questions = {question.id: question for question in definition.questions()}
    return {
        key: normalise_answer(questions[key], value) if key in questions else value for key, value in answers.items()
    }


def normalise_answer(question: Question, value: object) -> object:
    """Return one answer in canonical form; a value that cannot be read is returned as it is, for validation."""
    if isinstance(value, str):
        value = value.strip()
    kind = question.type
    if kind in _NORMALISERS and isinstance(value, str):
        try:
            return _NORMALISERS[kind](value)
        except ValueError:
            return value
    if kind == "money":
        return amount_from_input(value)
    if kind == "number" and isinstance(value, str):
        return number_from_input(value)
    if kind == "date":
        return date_from_input(value)
    if kind == "address" and isinstance(value, Mapping):
        parts = {"street": "text", "city": "text", "postal_code": "postal_code"}
        return {k: normalise_answer(Question(id=k, type=parts.get(k, "text")), v) for k, v in value.items()}
    if kind == "group" and isinstance(value, list):
        subs = {sub.id: sub for sub in question.questions}
        return [
            {k: normalise_answer(subs[k], v) if k in subs else v for k, v in item.items()}
            if isinstance(item, Mapping)
            else item
            for item in value
        ]
    return value


def amount_from_input(value: object) -> object:
    """Read an amount as typed (`1 234,5`, `12`, 12.5) into the canonical `"1234.50"`; else return it as is."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return value
    typed = _SPACES.sub("", str(value)).replace(",", ".")
    if not _TYPED_AMOUNT.fullmatch(typed):
        return value
    return str(Decimal(typed).quantize(Decimal("0.01")))


def number_from_input(value: str) -> object:
    """Read a typed number (`1 234`, `2,5`) as an int or a float; else return the text as is."""
    typed = _SPACES.sub("", value).replace(",", ".")
    if _TYPED_INTEGER.fullmatch(typed):
        return int(typed)
    if _TYPED_DECIMAL.fullmatch(typed):
        return float(typed)
    return value


def date_from_input(value: object) -> object:
    """Read a date (a `date`, `YYYY-MM-DD` or the Latvian `17.05.2024`) as `YYYY-MM-DD`; else return it as is."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and (match := _LATVIAN_DATE.fullmatch(value.strip())):
        try:
            return date(int(match[3]), int(match[2]), int(match[1])).isoformat()
        except ValueError:
            return value
    return value


# --- validating -----------------------------------------------------------------------------------------------


def validate_answers(definition: FormDefinition, answers: Mapping[str, object], *, today: date) -> Problems:
    """Return message keys per field path (`children/0/personal_code`) for everything wrong with the answers."""
    if not isinstance(answers, Mapping):
        return {"": ["invalid"]}
    seen = visibility(definition, answers)
    shown = {question.id for question in seen.questions}
    questions = [question for question in definition.questions() if question.has_answer]
    declaration = definition.declaration_question()
    if declaration is not None:
        questions.append(declaration)
        shown.add(declaration.id)
    problems: Problems = {}
    for question in questions:
        if question.id not in shown:
            if question.id in answers:
                problems[question.id] = ["hidden"]
        elif question.id not in answers:
            if question.required:
                problems[question.id] = [required_key(question)]
        else:
            found = check_answer(question, answers[question.id], today=today, answers=seen.answers)
            _merge(problems, question.id, found)
    known = {question.id for question in questions}
    problems.update({str(key): ["unknown"] for key in answers if key not in known})
    return problems


def check_answer(
    question: Question, value: object, *, today: date, answers: Mapping[str, object] | None = None
) -> Problems:
    """Return message keys by path relative to the question ("" for itself) for one given answer.

    `answers` are the answers to shown top-level questions, for the conditions of a group's questions.
    """
    if (question.type == "declaration" and value is False) or value is None or value in ("", [], {}):
        # An unanswered question is absent from the answers, never null or empty.
        return {"": [required_key(question) if question.required else "invalid"]}
    if question.type == "address":
        return _check_address(value)
    if question.type == "group":
        return _check_group(question, value, today=today, answers=answers or {})
    check = _CHECKS.get(question.type)
    if check is None:
        return {"": ["unknown"]}  # an info question takes no answer
    key = check(question, value, today)
    return {"": [key]} if key else {}


def _merge(problems: Problems, prefix: str, found: Problems) -> None:
    """Add problems found inside an answer under the answer's own path."""
    for path, keys in found.items():
        problems.setdefault(f"{prefix}/{path}" if path else prefix, []).extend(keys)


def _check_text(question: Question, value: object, today: date) -> str | None:
    """Text and long text: a string within the length limits."""
    if not isinstance(value, str):
        return "invalid"
    if question.min_length is not None and len(value) < question.min_length:
        return "too_short"
    limit = question.length_limit
    return "too_long" if limit is not None and len(value) > limit else None


def _check_number(question: Question, value: object, today: date) -> str | None:
    """A JSON number (a whole one with `integer`) within min and max."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value or abs(value) == float("inf"):
        return "number.invalid"
    if question.integer and not float(value).is_integer():
        return "number.invalid"
    return _check_limits(question, Decimal(str(value)))


def _check_money(question: Question, value: object, today: date) -> str | None:
    """An amount written `"1234.50"` within min and max."""
    amount = money_value(value)
    return "money.invalid" if amount is None else _check_limits(question, amount)


def _check_limits(question: Question, amount: Decimal) -> str | None:
    """Compare a number or an amount with the question's min and max."""
    if question.min is not None and amount < Decimal(str(question.min)):
        return "too_small"
    if question.max is not None and amount > Decimal(str(question.max)):
        return "too_large"
    return None


def _check_date(question: Question, value: object, today: date) -> str | None:
    """A real date `YYYY-MM-DD`, not in the future or past when the question says so."""
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        return "date.invalid"
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return "date.invalid"
    if question.not_in_future and day > today:
        return "date.future"
    if question.not_in_past and day < today:
        return "date.past"
    return None


def _check_email(question: Question, value: object, today: date) -> str | None:
    """An e-mail address, by the same check as the JSON Schema format."""
    return None if isinstance(value, str) and _FORMATS.conforms(value, "email") else "email.invalid"


def _check_latvian(question: Question, value: object, today: date) -> str | None:
    """A personal code, company number, IBAN, phone or postal code, valid and in canonical form."""
    if not isinstance(value, str):
        return _NOT_CANONICAL[question.type]
    try:
        if question.type == "iban":
            canonical = validators.normalise_iban(value, question.country)
        else:
            canonical = _NORMALISERS[question.type](value)
    except ValueError as error:
        return str(error.args[0])
    return None if canonical == value else _NOT_CANONICAL[question.type]


def _check_single_choice(question: Question, value: object, today: date) -> str | None:
    """One of the option values."""
    return None if isinstance(value, str) and value in question.option_values else "not_an_option"


def _check_multiple_choice(question: Question, value: object, today: date) -> str | None:
    """A list of different option values, as many as min_items and max_items allow."""
    if not isinstance(value, list):
        return "invalid"
    if not all(isinstance(item, str) and item in question.option_values for item in value):
        return "not_an_option"
    if len(set(value)) != len(value):
        return "invalid"
    if question.min_items is not None and len(value) < question.min_items:
        return "choice.too_few"
    if question.max_items is not None and len(value) > question.max_items:
        return "choice.too_many"
    return None


def _check_yes_no(question: Question, value: object, today: date) -> str | None:
    """true or false."""
    return None if isinstance(value, bool) else "invalid"


def _check_declaration(question: Question, value: object, today: date) -> str | None:
    """Only `true` (unticked is unanswered)."""
    return None if value is True else "invalid"


def _check_file(question: Question, value: object, today: date) -> str | None:
    """`{file_id, name, size, content_type}` of an accepted type and size."""
    if not isinstance(value, Mapping) or set(value) != set(FILE_KEYS):
        return "invalid"
    file_id, name, size, content_type = (value[key] for key in FILE_KEYS)
    if not (isinstance(file_id, str) and file_id and isinstance(name, str) and name and isinstance(content_type, str)):
        return "invalid"
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        return "invalid"
    if question.accept and file_extension(name) not in question.accept:
        return "file.type"
    if question.max_size_mb is not None and size > question.max_size_mb * 1024 * 1024:
        return "file.size"
    return None


def file_extension(name: str) -> str:
    """Return a file name's extension in lower case (ASCII only, as the JSON Schema pattern matches it)."""
    extension = name.rpartition(".")[2] if "." in name else ""
    return extension.lower() if extension.isascii() else extension


_CHECKS: dict[str, Callable[[Question, object, date], str | None]] = {
    "text": _check_text,
    "long_text": _check_text,
    "number": _check_number,
    "money": _check_money,
    "date": _check_date,
    "email": _check_email,
    "phone": _check_latvian,
    "personal_code": _check_latvian,
    "company_number": _check_latvian,
    "iban": _check_latvian,
    "postal_code": _check_latvian,
    "single_choice": _check_single_choice,
    "multiple_choice": _check_multiple_choice,
    "yes_no": _check_yes_no,
    "declaration": _check_declaration,
    "file": _check_file,
}


def _check_address(value: object) -> Problems:
    """`{street, city, postal_code}`: all three, once any is given."""
    if not isinstance(value, Mapping):
        return {"": ["invalid"]}
    problems: Problems = {str(key): ["unknown"] for key in value if key not in ADDRESS_PARTS}
    for part in ADDRESS_PARTS:
        text = value.get(part)
        if text is None or text == "":
            problems[part] = ["required"]
        elif not isinstance(text, str):
            problems[part] = ["invalid"]
        elif part == "postal_code":
            key = _check_latvian(Question(id=part, type="postal_code"), text, date.min)
            if key:
                problems[part] = [key]
        elif len(text) > ADDRESS_PART_MAX_LENGTH:
            problems[part] = ["too_long"]
    return problems


def _check_group(question: Question, value: object, *, today: date, answers: Mapping[str, object]) -> Problems:
    """A list of items within min_items and max_items, each checked like a small form."""
    if not isinstance(value, list):
        return {"": ["invalid"]}
    problems: Problems = {}
    if question.min_items is not None and len(value) < question.min_items:
        problems[""] = ["group.too_few"]
    elif question.max_items is not None and len(value) > question.max_items:
        problems[""] = ["group.too_many"]
    subs = [sub for sub in question.questions if sub.has_answer]
    shown = {sub.id for sub in visible_item_questions(question, answers)}
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            problems[str(index)] = ["invalid"]
            continue
        known = {sub.id for sub in subs}
        problems.update({f"{index}/{key}": ["unknown"] for key in item if key not in known})
        for sub in subs:
            path = f"{index}/{sub.id}"
            if sub.id not in shown:
                if sub.id in item:
                    problems[path] = ["hidden"]
            elif sub.id not in item:
                if sub.required:
                    problems[path] = [required_key(sub)]
            else:
                _merge(problems, path, check_answer(sub, item[sub.id], today=today, answers=answers))
    return problems
