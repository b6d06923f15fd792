"""A loaded form definition: frozen dataclasses built by `forms.loader` from the YAML format in docs/forms.md."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

# Answers to the form-level declaration are stored under this key, so no question may use it as its id.
DECLARATION_ID = "declaration"

QUESTION_TYPES = (
    "text",
    "long_text",
    "number",
    "money",
    "date",
    "email",
    "phone",
    "personal_code",
    "company_number",
    "iban",
    "postal_code",
    "address",
    "single_choice",
    "multiple_choice",
    "yes_no",
    "declaration",
    "file",
    "group",
    "info",
)
CHOICE_TYPES = frozenset({"single_choice", "multiple_choice"})
ADDRESS_PARTS = ("street", "city", "postal_code")
FILE_KEYS = ("file_id", "name", "size", "content_type")
DEFAULT_MAX_LENGTH = {"text": 200, "long_text": 5000}
ADDRESS_PART_MAX_LENGTH = 200  # street, city

Scalar = str | int | float | bool
Op = Literal["equals", "one_of", "greater_than", "less_than"]


@dataclass(frozen=True)
class Text:
    """A text in both languages; Latvian is the fallback for any other language."""

    lv: str
    en: str

    def get(self, lang: str) -> str:
        """Return the text in `lang`."""
        return self.en if lang == "en" else self.lv


@dataclass(frozen=True)
class Compare:
    """`{question: q, <op>: value}`: compares the answer to an earlier question."""

    question: str
    op: Op
    value: Scalar | tuple[Scalar, ...]


@dataclass(frozen=True)
class Not:
    """`{not: condition}`."""

    condition: Condition


@dataclass(frozen=True)
class All:
    """`{all: [conditions]}`: every one holds."""

    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Any:
    """`{any: [conditions]}`: at least one holds."""

    conditions: tuple[Condition, ...]


Condition = Compare | Not | All | Any


def referenced_questions(condition: Condition) -> Iterator[str]:
    """Yield the id of every question a condition looks at."""
    if isinstance(condition, Compare):
        yield condition.question
    elif isinstance(condition, Not):
        yield from referenced_questions(condition.condition)
    else:
        for part in condition.conditions:
            yield from referenced_questions(part)


@dataclass(frozen=True)
class Option:
    """One choice of a single or multiple choice question."""

    value: str
    label: Text


@dataclass(frozen=True)
class Errors:
    """Messages a question overrides: `required` when unanswered, `invalid` for every other problem."""

    required: Text | None = None
    invalid: Text | None = None


@dataclass(frozen=True)
class Question:
    """One question; only the properties its type allows are set (the schema enforces which)."""

    id: str
    type: str
    label: Text | None = None
    hint: Text | None = None
    required: bool = False
    options: tuple[Option, ...] = ()
    widget: str | None = None
    show_if: Condition | None = None
    questions: tuple[Question, ...] = ()
    min_items: int | None = None
    max_items: int | None = None
    item_label: Text | None = None
    accept: tuple[str, ...] = ()
    max_size_mb: float | None = None
    min: float | None = None
    max: float | None = None
    integer: bool = False
    min_length: int | None = None
    max_length: int | None = None
    not_in_future: bool = False
    not_in_past: bool = False
    country: str | None = None
    text: Text | None = None
    errors: Errors | None = None
    prefill: str | None = None

    @property
    def has_answer(self) -> bool:
        """Whether the question takes an answer (`info` only shows text)."""
        return self.type != "info"

    @property
    def option_values(self) -> tuple[str, ...]:
        """The values of the options, in order."""
        return tuple(option.value for option in self.options)

    @property
    def length_limit(self) -> int | None:
        """The maximum length of a text answer, with the format's default."""
        return self.max_length if self.max_length is not None else DEFAULT_MAX_LENGTH.get(self.type)

    def sub_question(self, question_id: str) -> Question:
        """Return a question of this group by id (KeyError if there is none)."""
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)


@dataclass(frozen=True)
class Page:
    """One page of the form; a page may be shown only when its condition holds."""

    id: str
    title: Text
    questions: tuple[Question, ...]
    show_if: Condition | None = None


@dataclass(frozen=True)
class FormDefinition:
    """One version of a service's form."""

    service: str
    form: str
    version: int
    title: Text
    pages: tuple[Page, ...]
    declaration: Text | None = None

    @property
    def key(self) -> tuple[str, str, int]:
        """Return (service, form, version): what identifies this definition."""
        return (self.service, self.form, self.version)

    def questions(self) -> tuple[Question, ...]:
        """Return every top-level question, page by page, in order."""
        return tuple(question for page in self.pages for question in page.questions)

    def page(self, page_id: str) -> Page:
        """Return a page by id (KeyError if there is none)."""
        for page in self.pages:
            if page.id == page_id:
                return page
        raise KeyError(page_id)

    def page_of(self, question_id: str) -> Page:
        """Return the page a top-level question is on (KeyError if there is none)."""
        for page in self.pages:
            if any(question.id == question_id for question in page.questions):
                return page
        raise KeyError(question_id)

    def question(self, question_id: str) -> Question:
        """Return a top-level question by id (KeyError if there is none)."""
        for question in self.questions():
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def declaration_question(self) -> Question | None:
        """Return the form-level declaration as a required `declaration` question, or None if the form has none."""
        if self.declaration is None:
            return None
        return Question(id=DECLARATION_ID, type="declaration", label=self.declaration, required=True)
