"""Load a form definition: check it against definition.schema.json and the rules a schema cannot say.

Definition text is untrusted data: the loader only parses it, and nothing here renders it as a template.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, TypeGuard, cast

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from forms import model
from forms.model import (
    CHOICE_TYPES,
    DECLARATION_ID,
    QUESTION_TYPES,
    Compare,
    Condition,
    Errors,
    FormDefinition,
    Not,
    Op,
    Option,
    Page,
    Question,
    Text,
)

SCHEMA_PATH = Path(__file__).with_name("definition.schema.json")

# Ids a question cannot have: the form-level declaration's answer, and the attributes of the WTForms form the
# portal builds (a question called `data` or `errors` would replace them, since fields are named by question id).
RESERVED_IDS = frozenset(
    {
        DECLARATION_ID,
        "data",
        "errors",
        "form_errors",
        "meta",
        "process",
        "populate_obj",
        "validate",
        "csrf_token",
        "hidden_tag",
        "is_submitted",
        "validate_on_submit",
    }
)
# Types whose answer a condition can compare; address, file and group answers are objects and lists of objects.
COMPARABLE_TYPES = frozenset(QUESTION_TYPES) - {"address", "file", "group", "info"}
ORDERED_TYPES = frozenset({"number", "money", "date"})
BOOLEAN_TYPES = frozenset({"yes_no", "declaration"})
OPERATORS = ("equals", "one_of", "greater_than", "less_than")


class DefinitionError(ValueError):
    """A definition breaks the format; `problems` lists every problem found, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _KeepDatesAsText(yaml.SafeLoader):
    """A safe YAML loader that leaves `2024-05-17` a string, as the format (and JSON) has it."""


_KeepDatesAsText.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_definition_file(path: str | Path) -> FormDefinition:
    """Load a definition from a YAML file."""
    with open(path, encoding="utf-8") as stream:
        try:
            data = yaml.load(stream, Loader=_KeepDatesAsText)  # noqa: S506 - a SafeLoader subclass  # nosec B506
        except yaml.YAMLError as error:
            raise DefinitionError([f"{path}: not valid YAML: {error}"]) from None
    if not isinstance(data, Mapping):
        raise DefinitionError([f"{path}: a definition is a mapping, not {type(data).__name__}"])
    return load_definition(data)


def load_definition(data: Mapping[str, Any]) -> FormDefinition:
    """Check a parsed definition and return it as a FormDefinition, or raise DefinitionError with every problem."""
    document = _dates_as_text(data)
    problems = schema_problems(document) + rule_problems(document)
    if problems:
        raise DefinitionError(problems)
    return _definition(document)


@cache
def definition_schema() -> dict[str, Any]:
    """Return the JSON Schema of the definition format."""
    return cast(dict[str, Any], json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


@cache
def _validator() -> Draft202012Validator:
    """Return the (cached) validator of the definition format."""
    return Draft202012Validator(definition_schema())


def schema_problems(document: object) -> list[str]:
    """Return what the JSON Schema finds wrong, one line per problem, in document order."""
    # Zero-padded indexes, so that pages/10 sorts after pages/9.
    errors = sorted(
        _validator().iter_errors(document),
        key=lambda e: [f"{p:09d}" if isinstance(p, int) else p for p in e.absolute_path],
    )
    return [f"{_where(error.absolute_path)}: {_explain(error)}" for error in errors]


def rule_problems(document: object) -> list[str]:
    """Return what breaks the rules the schema cannot express; tolerant of a document the schema rejects."""
    problems: list[str] = []
    pages = _list(_dict(document).get("pages"))
    problems += _duplicates([(f"pages/{i}", _dict(page).get("id")) for i, page in enumerate(pages)], "page id")
    top: dict[str, tuple[int, int]] = {}  # question id -> (page index, question index): what "earlier" means
    in_groups: set[str] = set()
    located: list[tuple[str, Any]] = []
    for p, page in enumerate(pages):
        for q, question in enumerate(_list(_dict(page).get("questions"))):
            where = f"pages/{p}/questions/{q}"
            located.append((where, question))
            question_id = _dict(question).get("id")
            if isinstance(question_id, str):
                top.setdefault(question_id, (p, q))
            for sub in _list(_dict(question).get("questions")):
                if isinstance(_dict(sub).get("id"), str):
                    in_groups.add(_dict(sub)["id"])
    problems += _duplicates([(where, _dict(question).get("id")) for where, question in located], "question id")
    questions_by_id = {
        _dict(q).get("id"): _dict(q) for _, q in reversed(located) if isinstance(_dict(q).get("id"), str)
    }
    scope = _Scope(top, in_groups, questions_by_id)
    for p, page in enumerate(pages):
        condition = _dict(page).get("show_if")
        if condition is not None:
            problems += scope.condition_problems(f"pages/{p}/show_if", condition, before=(p, -1))
    for where, question in located:
        position = top.get(str(_dict(question).get("id")), (len(pages), 0))
        problems += _question_problems(where, _dict(question), scope, position, in_group=False)
    return problems


class _Scope:
    """What a condition may refer to: top-level questions, by position."""

    def __init__(
        self, top: dict[str, tuple[int, int]], in_groups: set[str], questions: dict[Any, dict[str, Any]]
    ) -> None:
        self.top = top
        self.in_groups = in_groups
        self.questions = questions

    def condition_problems(self, where: str, condition: object, *, before: tuple[int, int]) -> list[str]:
        """Check every comparison in a condition: it looks at an earlier top-level question, with a fitting value."""
        problems: list[str] = []
        for path, compare in _comparisons(where, condition):
            target = compare.get("question")
            if not isinstance(target, str):
                continue
            if target not in self.top:
                reason = "a question inside a group" if target in self.in_groups else "no question of this form"
                problems.append(f"{path}: refers to {target!r}, {reason}")
                continue
            if self.top[target] >= before:
                problems.append(f"{path}: refers to {target!r}, which does not come before it in the form")
                continue
            problems += _value_problems(path, compare, self.questions[target])
        return problems


def _question_problems(
    where: str, question: dict[str, Any], scope: _Scope, position: tuple[int, int], *, in_group: bool
) -> list[str]:
    """Check one question (and a group's questions): ids, options, limits and its condition."""
    problems: list[str] = []
    question_id, kind = question.get("id"), question.get("type")
    label = f"{where} ({question_id})" if isinstance(question_id, str) else where
    if question_id in RESERVED_IDS:
        problems.append(f"{label}: the id {question_id!r} is reserved")
    if question.get("show_if") is not None:
        problems += scope.condition_problems(f"{where}/show_if", question["show_if"], before=position)
    values = [_dict(option).get("value") for option in _list(question.get("options"))]
    problems += _duplicates([(f"{where}/options/{i}", v) for i, v in enumerate(values)], "option value")
    if "options" in question and kind not in CHOICE_TYPES:
        problems.append(f"{label}: only single_choice and multiple_choice questions have options")
    problems += _range_problems(label, question)
    if kind == "group":
        if in_group:
            problems.append(f"{label}: groups cannot be nested")
        subs = _list(question.get("questions"))
        problems += _duplicates([(f"{where}/questions/{i}", _dict(s).get("id")) for i, s in enumerate(subs)], "id")
        for i, sub in enumerate(subs):
            problems += _question_problems(f"{where}/questions/{i}", _dict(sub), scope, position, in_group=True)
    return problems


def _range_problems(label: str, question: dict[str, Any]) -> list[str]:
    """Check that limits leave something to answer, and that money limits are amounts in cents."""
    problems: list[str] = []
    kind = question.get("type")
    default_max = model.DEFAULT_MAX_LENGTH.get(kind) if isinstance(kind, str) else None
    pairs = [
        ("min", question.get("min"), "max", question.get("max")),
        ("min_length", question.get("min_length"), "max_length", question.get("max_length", default_max)),
        ("min_items", question.get("min_items"), "max_items", question.get("max_items")),
    ]
    for low_name, low, high_name, high in pairs:
        if _is_number(low) and _is_number(high) and low > high:
            problems.append(f"{label}: {low_name} ({low}) is more than {high_name} ({high})")
    options = _list(question.get("options"))
    if kind == "multiple_choice" and _is_number(question.get("min_items")) and question["min_items"] > len(options):
        problems.append(f"{label}: min_items ({question['min_items']}) is more than the number of options")
    if kind == "money":
        for name in ("min", "max"):
            if _is_number(question.get(name)) and not _is_cents(question[name]):
                problems.append(f"{label}: {name} must be an amount in euro with at most two decimals")
    return problems


def _value_problems(path: str, compare: dict[str, Any], target: dict[str, Any]) -> list[str]:
    """Check a comparison's operator and value against the type of the question it looks at."""
    kind = target.get("type")
    op = next((name for name in OPERATORS if name in compare), None)
    if op is None or not isinstance(kind, str):
        return []
    value = compare[op]
    name = compare["question"]
    if kind not in COMPARABLE_TYPES:
        return [f"{path}: a condition cannot look at {name!r}, a question of type {kind}"]
    if op in ("greater_than", "less_than") and kind not in ORDERED_TYPES:
        return [f"{path}: {op} needs a number, money or date question; {name!r} is {kind}"]
    if kind in BOOLEAN_TYPES:
        fits = op == "equals" and isinstance(value, bool)
        return [] if fits else [f"{path}: {name!r} is of type {kind}: use equals: true or equals: false"]
    values = value if op == "one_of" and isinstance(value, list) else [value]
    if kind in CHOICE_TYPES:
        allowed = {_dict(option).get("value") for option in _list(target.get("options"))}
        return [
            f"{path}: {v!r} is not an option of {name!r}" for v in values if not (isinstance(v, str) and v in allowed)
        ]
    fits_kind: dict[str, tuple[str, Callable[[object], bool]]] = {
        "number": ("a number", _is_number),
        "money": ("an amount with at most two decimals", lambda v: _is_number(v) and _is_cents(cast(float, v))),
        "date": ("a date YYYY-MM-DD", _is_date),
    }
    what, fits_value = fits_kind.get(kind, ("text", lambda v: isinstance(v, str)))
    return [
        f"{path}: {name!r} is of type {kind}: compare it with {what}, not {v!r}" for v in values if not fits_value(v)
    ]


def _comparisons(where: str, condition: object) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield every comparison inside a (possibly malformed) condition, with its path."""
    node = _dict(condition)
    if "question" in node:
        yield where, node
    if "not" in node:
        yield from _comparisons(f"{where}/not", node["not"])
    for name in ("all", "any"):
        for i, part in enumerate(_list(node.get(name))):
            yield from _comparisons(f"{where}/{name}/{i}", part)


def _duplicates(located: list[tuple[str, object]], what: str) -> list[str]:
    """Report every value that occurs more than once, at each place after the first."""
    first: dict[object, str] = {}
    problems: list[str] = []
    for where, value in located:
        if not isinstance(value, str):
            continue
        if value in first:
            problems.append(f"{where}: {what} {value!r} is used more than once (first at {first[value]})")
        else:
            first[value] = where
    return problems


# --- building the model from a checked document ---------------------------------------------------------------


def _definition(document: Mapping[str, Any]) -> FormDefinition:
    """Build the model from a document that passed every check."""
    declaration = document.get("declaration")
    return FormDefinition(
        service=document["service"],
        form=document["form"],
        version=document["version"],
        title=_text(document["title"]),
        pages=tuple(_page(page) for page in document["pages"]),
        declaration=_text(declaration["text"]) if declaration else None,
    )


def _page(page: Mapping[str, Any]) -> Page:
    """Build a page."""
    return Page(
        id=page["id"],
        title=_text(page["title"]),
        questions=tuple(_question(q) for q in page["questions"]),
        show_if=_condition(page["show_if"]) if "show_if" in page else None,
    )


def _question(data: Mapping[str, Any]) -> Question:
    """Build a question; the schema has already refused properties its type does not have."""
    errors = data.get("errors")
    return Question(
        id=data["id"],
        type=data["type"],
        label=_optional_text(data.get("label")),
        hint=_optional_text(data.get("hint")),
        required=data.get("required", False),
        options=tuple(Option(o["value"], _text(o["label"])) for o in data.get("options", ())),
        widget=data.get("widget", "radios" if data["type"] == "single_choice" else None),
        show_if=_condition(data["show_if"]) if "show_if" in data else None,
        questions=tuple(_question(q) for q in data.get("questions", ())),
        min_items=data.get("min_items"),
        max_items=data.get("max_items"),
        item_label=_optional_text(data.get("item_label")),
        accept=tuple(data.get("accept", ())),
        max_size_mb=data.get("max_size_mb"),
        min=data.get("min"),
        max=data.get("max"),
        integer=data.get("integer", False),
        min_length=data.get("min_length"),
        max_length=data.get("max_length"),
        not_in_future=data.get("not_in_future", False),
        not_in_past=data.get("not_in_past", False),
        country=data.get("country"),
        text=_optional_text(data.get("text")),
        errors=Errors(_optional_text(errors.get("required")), _optional_text(errors.get("invalid")))
        if errors
        else None,
        prefill=data.get("prefill"),
    )


def _condition(data: Mapping[str, Any]) -> Condition:
    """Build a condition tree."""
    if "not" in data:
        return Not(_condition(data["not"]))
    if "all" in data:
        return model.All(tuple(_condition(part) for part in data["all"]))
    if "any" in data:
        return model.Any(tuple(_condition(part) for part in data["any"]))
    op = cast(Op, next(name for name in OPERATORS if name in data))
    value = data[op]
    return Compare(data["question"], op, tuple(value) if isinstance(value, list) else value)


def _text(data: Mapping[str, str]) -> Text:
    """Build a text in both languages."""
    return Text(lv=data["lv"], en=data["en"])


def _optional_text(data: Mapping[str, str] | None) -> Text | None:
    """Build a text, or None when the property is absent."""
    return _text(data) if data is not None else None


# --- small helpers --------------------------------------------------------------------------------------------


def _dates_as_text(value: Any) -> Any:
    """Turn dates that a plain YAML loader made (`greater_than: 2024-05-17`) back into the format's strings."""
    if isinstance(value, Mapping):
        return {key: _dates_as_text(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_dates_as_text(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def _where(path: Sequence[object]) -> str:
    """Name a place in the document the way problems do: `pages/0/questions/2`."""
    return "/".join(str(part) for part in path) or "definition"


def _explain(error: ValidationError) -> str:
    """Say what is wrong; for a failed choice between schemas, the likeliest reason."""
    if error.context:
        return _explain(best_match(error.context))
    return error.message


def _dict(value: object) -> dict[str, Any]:
    """The value if it is a mapping, else an empty one (rules run on documents the schema may have refused)."""
    return dict(value) if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    """The value if it is a list, else an empty one."""
    return list(value) if isinstance(value, list | tuple) else []


def _is_number(value: object) -> TypeGuard[int | float]:
    """Whether a value is a number (a bool is not)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_cents(value: float) -> bool:
    """Whether an amount has at most two decimals."""
    amount = Decimal(str(value))
    return amount == amount.quantize(Decimal("0.01"))


def _is_date(value: object) -> bool:
    """Whether a value is a real date written YYYY-MM-DD."""
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        return date.fromisoformat(value).isoformat() == value
    except ValueError:
        return False
