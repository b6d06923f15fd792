"""The JSON Schema 2020-12 of a form's submitted (cleaned, normalised) answers.

The Latvian types use the formats of `forms.validators.format_checker()`; validate with it so they are asserted.
What a schema cannot know is left to `forms.answers.validate_answers`: "not in the future" needs today's date.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

from forms import model
from forms.conditions import ISO_DATE
from forms.model import (
    ADDRESS_PART_MAX_LENGTH,
    ADDRESS_PARTS,
    DECLARATION_ID,
    Compare,
    Condition,
    FormDefinition,
    Not,
    Question,
)

Schema = dict[str, Any]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
# [0-9], not \d: a JSON Schema regex may match any Unicode digit with \d, and Decimal() reads those too.
MONEY_PATTERN = r"^(?:0|[1-9][0-9]*)\.[0-9]{2}$"
DATE_PATTERN = f"^{ISO_DATE.pattern}$"
NEVER = "(?!)"  # a pattern nothing matches: "less than 0.00"
_FORMATS = {
    "phone": "lv-phone",
    "personal_code": "lv-personal-code",
    "company_number": "lv-company-number",
    "iban": "iban",
    "postal_code": "lv-postal-code",
    "email": "email",
}


def answers_schema(definition: FormDefinition) -> Schema:
    """Return the JSON Schema of the answers: shown questions may be required, hidden ones must be absent."""
    questions = {question.id: question for question in definition.questions()}
    properties: Schema = {}
    required: list[str] = []
    # Questions shown under the same condition share one if/then/else.
    conditional: dict[str, tuple[Condition, list[Question]]] = {}
    group_rules: list[Schema] = []
    for page in definition.pages:
        for question in page.questions:
            if not question.has_answer:
                continue
            properties[question.id] = question_schema(question)
            condition = _both(page.show_if, question.show_if)
            if condition is None:
                if question.required:
                    required.append(question.id)
            else:
                key = json.dumps(condition_schema(condition, questions), sort_keys=True)
                conditional.setdefault(key, (condition, []))[1].append(question)
            group_rules += _item_rules(question, questions)
    declaration = definition.declaration_question()
    if declaration is not None:
        properties[DECLARATION_ID] = question_schema(declaration)
        required.append(DECLARATION_ID)
    schema: Schema = {
        "$schema": DIALECT,
        "$id": f"urn:lv-eservices:form:{definition.service}:{definition.form}:{definition.version}",
        "title": definition.title.lv,
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    rules = [_shown_or_absent(condition_schema(c, questions), shown) for c, shown in conditional.values()]
    if rules + group_rules:
        schema["allOf"] = rules + group_rules
    return schema


def question_schema(question: Question) -> Schema:
    """Return the schema of one question's answer (its conditions are the form's business)."""
    schema = _TYPE_SCHEMAS[question.type](question)
    if question.label is not None:
        schema = {"title": question.label.lv, **schema}
    return schema


def condition_schema(condition: Condition, questions: dict[str, Question]) -> Schema:
    """Return a schema that an answers object matches exactly when the condition holds."""
    if isinstance(condition, Compare):
        # `required` too: a comparison with an absent answer is false, but `properties` alone would pass.
        target = questions[condition.question]
        return {"required": [target.id], "properties": {target.id: _comparison(target, condition)}}
    if isinstance(condition, Not):
        return {"not": condition_schema(condition.condition, questions)}
    parts = [condition_schema(part, questions) for part in condition.conditions]
    return {"allOf": parts} if isinstance(condition, model.All) else {"anyOf": parts}


def _comparison(target: Question, condition: Compare) -> Schema:
    """The schema of an answer that satisfies one comparison, by the type of the question compared."""
    values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
    if condition.op in ("equals", "one_of"):
        consts = [_money(v) if target.type == "money" else v for v in values]
        match = {"const": consts[0]} if len(consts) == 1 else {"enum": consts}
        # A multiple choice answer is a list: "equals x" means x is among the chosen.
        return {"type": "array", "contains": match} if target.type == "multiple_choice" else match
    greater = condition.op == "greater_than"
    if target.type == "number":
        return {"type": "number", "exclusiveMinimum" if greater else "exclusiveMaximum": condition.value}
    # Money and dates are strings, which JSON Schema cannot compare: a pattern matches the strings after
    # (or before) the limit, as canonical money and YYYY-MM-DD strings sort like what they stand for.
    if target.type == "money":
        return {"type": "string", "pattern": money_pattern(_money(condition.value), greater=greater)}
    return {"type": "string", "pattern": date_pattern(str(condition.value), greater=greater)}


def _both(first: Condition | None, second: Condition | None) -> Condition | None:
    """A question on a conditional page is shown when the page's condition and its own both hold."""
    if first is None or second is None:
        return first or second
    return model.All((first, second))


def _shown_or_absent(when: Schema, questions: list[Question]) -> Schema:
    """If `when` holds, the required ones of these questions are required; otherwise none may be answered."""
    rule: Schema = {"if": when}
    needed = [question.id for question in questions if question.required]
    if needed:
        rule["then"] = {"required": needed}
    rule["else"] = {"not": {"anyOf": [{"required": [question.id]} for question in questions]}}
    return rule


def _item_rules(group: Question, questions: dict[str, Question]) -> list[Schema]:
    """Rules for a group's questions that have conditions (on top-level answers): per item, shown or absent."""
    rules: list[Schema] = []
    for sub in group.questions:
        if sub.show_if is None or not sub.has_answer:
            continue
        rule: Schema = {"if": condition_schema(sub.show_if, questions)}
        if sub.required:
            rule["then"] = _in_items(group, {"required": [sub.id]})
        rule["else"] = _in_items(group, {"not": {"required": [sub.id]}})
        rules.append(rule)
    return rules


def _in_items(group: Question, item_schema: Schema) -> Schema:
    """Apply a schema to every item of a group's answer (when the group is answered)."""
    return {"properties": {group.id: {"items": item_schema}}}


# --- one schema per question type -----------------------------------------------------------------------------


def _string(question: Question, **extra: Any) -> Schema:
    """A non-empty string (an unanswered question is absent, never empty)."""
    return {"type": "string", "minLength": 1, **extra}


def _text(question: Question) -> Schema:
    """Text within the length limits."""
    schema = _string(question, minLength=max(1, question.min_length or 0))
    if question.length_limit is not None:
        schema["maxLength"] = question.length_limit
    return schema


def _number(question: Question) -> Schema:
    """A number, whole with `integer`, within min and max."""
    schema: Schema = {"type": "integer" if question.integer else "number"}
    if question.min is not None:
        schema["minimum"] = question.min
    if question.max is not None:
        schema["maximum"] = question.max
    return schema


def _money_schema(question: Question) -> Schema:
    """An amount `"1234.50"`; min and max as patterns, since the amount is a string."""
    patterns = [{"pattern": MONEY_PATTERN}]
    if question.min is not None and question.min > 0:  # every amount is at least 0.00
        patterns.append({"pattern": money_pattern(_money(question.min), greater=True, inclusive=True)})
    if question.max is not None:
        patterns.append({"pattern": money_pattern(_money(question.max), greater=False, inclusive=True)})
    schema: Schema = {"type": "string"}
    if len(patterns) == 1:
        return {**schema, **patterns[0]}
    return {**schema, "allOf": patterns}


def _formatted(question: Question) -> Schema:
    """A value with a format (Latvian types, e-mail); `country` of an IBAN as a pattern."""
    schema = _string(question, format=_FORMATS[question.type])
    if question.type == "iban" and question.country:
        schema["pattern"] = f"^{question.country}"
    return schema


def _address(question: Question) -> Schema:
    """`{street, city, postal_code}`, all three."""
    line = {"type": "string", "minLength": 1, "maxLength": ADDRESS_PART_MAX_LENGTH}
    return {
        "type": "object",
        "properties": {
            "street": line,
            "city": line,
            "postal_code": {"type": "string", "minLength": 1, "format": "lv-postal-code"},
        },
        "required": list(ADDRESS_PARTS),
        "additionalProperties": False,
    }


def _choice(question: Question) -> Schema:
    """One option value."""
    return {"enum": list(question.option_values)}


def _choices(question: Question) -> Schema:
    """Different option values, as many as allowed."""
    schema: Schema = {
        "type": "array",
        "items": {"enum": list(question.option_values)},
        "uniqueItems": True,
        "minItems": max(1, question.min_items or 0),
    }
    if question.max_items is not None:
        schema["maxItems"] = question.max_items
    return schema


def _file(question: Question) -> Schema:
    """`{file_id, name, size, content_type}`; the name's extension and the size within the question's limits."""
    name: Schema = {"type": "string", "minLength": 1}
    if question.accept:
        # Case-insensitive by hand: JSON Schema patterns have no flags.
        alternatives = "|".join(
            "".join(f"[{c}{c.upper()}]" if c.isalpha() else c for c in ext) for ext in question.accept
        )
        name["pattern"] = rf"\.(?:{alternatives})$"
    size: Schema = {"type": "integer", "minimum": 0}
    if question.max_size_mb is not None:
        size["maximum"] = math.floor(question.max_size_mb * 1024 * 1024)
    return {
        "type": "object",
        "properties": {
            "file_id": {"type": "string", "minLength": 1},
            "name": name,
            "size": size,
            "content_type": {"type": "string"},
        },
        "required": list(model.FILE_KEYS),
        "additionalProperties": False,
    }


def _group(question: Question) -> Schema:
    """A list of items, each an object of the group's questions."""
    subs = [sub for sub in question.questions if sub.has_answer]
    item: Schema = {
        "type": "object",
        "properties": {sub.id: question_schema(sub) for sub in subs},
        "additionalProperties": False,
    }
    always = [sub.id for sub in subs if sub.required and sub.show_if is None]
    if always:
        item["required"] = always
    schema: Schema = {"type": "array", "minItems": max(1, question.min_items or 0), "items": item}
    if question.max_items is not None:
        schema["maxItems"] = question.max_items
    return schema


_TYPE_SCHEMAS = {
    "text": _text,
    "long_text": _text,
    "number": _number,
    "money": _money_schema,
    "date": lambda question: _string(question, format="date", pattern=DATE_PATTERN),
    "email": _formatted,
    "phone": _formatted,
    "personal_code": _formatted,
    "company_number": _formatted,
    "iban": _formatted,
    "postal_code": _formatted,
    "address": _address,
    "single_choice": _choice,
    "multiple_choice": _choices,
    "yes_no": lambda question: {"type": "boolean"},
    "declaration": lambda question: {"const": True},
    "file": _file,
    "group": _group,
}


# --- comparing strings with patterns --------------------------------------------------------------------------


def _money(value: object) -> str:
    """Write an amount from the definition the way answers write it: `"1234.50"`."""
    return f"{Decimal(str(value)).quantize(Decimal('0.01'))}"


def money_pattern(limit: str, *, greater: bool, inclusive: bool = False) -> str:
    """Return a pattern matching the canonical amounts above (or below) `limit`, itself included if inclusive."""
    whole, cents = limit.split(".")
    alternatives: list[str] = []
    if greater:
        alternatives.append(f"[1-9][0-9]{{{len(whole)},}}\\.[0-9]{{2}}")  # more digits before the point
    elif len(whole) > 1:
        alternatives.append(f"[0-9]{{1,{len(whole) - 1}}}\\.[0-9]{{2}}")  # fewer digits
    alternatives += [f"{a}\\.[0-9]{{2}}" for a in _same_width(whole, greater=greater)]
    alternatives += [f"{whole}\\.{a}" for a in _same_width(cents, greater=greater)]
    if inclusive:
        alternatives.append(f"{whole}\\.{cents}")
    return _anchored(alternatives)


def date_pattern(limit: str, *, greater: bool) -> str:
    """Return a pattern matching the `YYYY-MM-DD` strings after (or before) `limit`."""
    return _anchored(_same_width(limit, greater=greater))


def _same_width(limit: str, *, greater: bool) -> list[str]:
    """Alternatives matching strings of the limit's shape that sort after (or before) it, digit by digit."""
    alternatives: list[str] = []
    for index, char in enumerate(limit):
        if not char.isdigit():
            continue
        digit = int(char)
        low, high = (digit + 1, 9) if greater else (0, digit - 1)
        if low > high:
            continue
        here = str(low) if low == high else f"[{low}-{high}]"
        rest = "".join("[0-9]" if c.isdigit() else c for c in limit[index + 1 :])
        # Only digits, '-' and '.' occur; a bare '-' is literal outside a class, '.' needs escaping.
        alternatives.append(f"{limit[:index]}{here}{rest}".replace(".", "\\."))
    return alternatives


def _anchored(alternatives: list[str]) -> str:
    """Join alternatives into one anchored pattern."""
    return f"^(?:{'|'.join(alternatives)})$" if alternatives else NEVER
