"""Build the WTForms form of one page of a definition; its validators give the messages validate_answers gives.

One table maps each question type to its field class, widget and answer conversions; `_field` is the only place
that dispatches on type. Labels, hints and option texts are definition text: handed to WTForms as plain strings,
which escapes them when rendered; nothing here builds HTML.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from flask_wtf.file import FileField  # type: ignore[import-untyped]
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3; stubs lag
from wtforms.fields.core import Field, UnboundField
from wtforms.validators import StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, DateInput, EmailInput, ListWidget, TelInput

from forms.answers import check_answer, error_text, is_blank, normalise_answer, required_key
from forms.conditions import visibility, visible_item_questions
from forms.model import ADDRESS_PARTS, FILE_KEYS, FormDefinition, Question

RIGA = ZoneInfo("Europe/Riga")
# Texts of the builder's own, in the definition's two languages (Latvian for any other).
YES_NO = {"lv": (("yes", "Jā"), ("no", "Nē")), "en": (("yes", "Yes"), ("no", "No"))}
CHOOSE = {"lv": "Izvēlieties", "en": "Choose"}
ADDRESS_LABELS = {
    "lv": {"street": "Iela, mājas un dzīvokļa numurs", "city": "Pilsēta vai pagasts", "postal_code": "Pasta indekss"},
    "en": {"street": "Street, house and flat number", "city": "Town, city or parish", "postal_code": "Postal code"},
}
# What browsers may fill in (WCAG 1.3.5, identify input purpose).
ADDRESS_AUTOCOMPLETE = {"street": "street-address", "city": "address-level2", "postal_code": "postal-code"}
# A new upload has no file id yet: the portal stores it first. Checks of type and size use this stand-in.
UPLOAD_ID = "upload"


class UnknownQuestionType(ValueError):
    """A question type the builder has no field for."""


class StoredFileField(FileField):  # type: ignore[misc]
    """A file input that keeps the file answered earlier unless a new one is chosen.

    A browser sends an empty part for a file input left alone; FileField would take that as "no file" and the
    stored answer would be lost on every later save of the page.
    """

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Take a new upload if one was chosen; otherwise keep the data the field was built with."""
        upload = next((value for value in valuelist if getattr(value, "filename", None)), None)
        if upload is not None:
            self.data = upload


@dataclass(frozen=True)
class _Build:
    """What every field of one page is built with."""

    lang: str
    today: date
    answers: Mapping[str, object]  # answers to shown top-level questions, for a group's conditions


def riga_today() -> date:
    """Return today's date in Latvia, which "not in the future" means."""
    return datetime.now(RIGA).date()


def build_page_form(
    definition: FormDefinition,
    page_id: str,
    *,
    lang: str,
    formdata: Any = None,
    data: Mapping[str, object] | None = None,
    base: type[Form] = Form,
    today: date | None = None,
    asked: Collection[str] | None = None,
) -> Form:
    """Return the form of one page: the questions shown for `data` (the answers so far), filled with them.

    `asked` limits the form to the questions the person was actually shown (the page as rendered, before an
    answer on it showed more): a question that appears only now is asked next, not reported as unanswered.
    """
    answers = dict(data or {})
    page = definition.page(page_id)
    seen = visibility(definition, answers)
    build = _Build(lang, today or riga_today(), seen.answers)
    questions = [q for q in page.questions if seen.shows(q.id) and (asked is None or q.id in asked)]
    form_class = _form_class("PageForm", base, questions, build, page=page.id)
    initial = {
        name: _kind(question).to_form(question, answers[name])
        for name, question in form_class.Meta.questions.items()
        if name in answers
    }
    # Only pass formdata when given: Flask-WTF's FlaskForm reads the request itself when it is not passed.
    return form_class(data=initial) if formdata is None else form_class(formdata=formdata, data=initial)


def form_to_answers(form: Form) -> dict[str, object]:
    """Return a built form's data as answers: the JSON shape, normalised, unanswered questions left out.

    A new upload is not an answer yet: the portal stores it and records `{file_id, name, size, content_type}`;
    a file answered earlier (passed in `data`) is kept.
    """
    answers: dict[str, object] = {}
    for name, question in form.meta.questions.items():
        bound = form[name]
        if question.type == "file" and not isinstance(bound.data, Mapping):
            continue
        value = _kind(question).to_answer(question, bound)
        if not is_blank(question, value):
            answers[name] = value
    return answers


def pending_uploads(form: Form) -> list[tuple[Question, Field]]:
    """Return the file fields of a built form that hold a new upload (groups included), with their questions."""
    found: list[tuple[Question, Field]] = []
    for name, question in form.meta.questions.items():
        bound = form[name]
        if question.type == "file" and getattr(bound.data, "filename", None):
            found.append((question, bound))
        elif question.type == "group":
            for entry in cast("FieldList[FormField[Form]]", bound).entries:
                found += pending_uploads(entry.form)
    return found


def _form_class(name: str, base: type[Form], questions: list[Question], build: _Build, **meta: object) -> type[Form]:
    """Create a form class with a field per question that takes an answer; its Meta remembers the questions."""
    fields = {question.id: _field(question, build) for question in questions}
    present = {field_name: field for field_name, field in fields.items() if field is not None}
    by_name = {question.id: question for question in questions if question.id in present}
    meta_class = type("Meta", (), {"questions": by_name, "lang": build.lang, **meta})
    return type(name, (base,), {**present, "Meta": meta_class})


def _kind(question: Question) -> _Kind:
    """Look a question up in the table: by type and widget (a select), else by type; an unknown type raises."""
    kind = _KINDS.get(f"{question.type}/{question.widget}") or _KINDS.get(question.type)
    if kind is None:
        raise UnknownQuestionType(f"no form field for question type {question.type!r} ({question.id})")
    return kind


def _field(question: Question, build: _Build) -> UnboundField[Field] | None:
    """Return the field for a question from its table entry; None for `info`, which has no field."""
    kind = _kind(question)
    if kind.field is None:
        return None
    kwargs: dict[str, Any] = {
        "label": question.label.get(build.lang) if question.label else "",
        "description": question.hint.get(build.lang) if question.hint else "",
        **kind.options(question, build),
    }
    if kind.widget is not None:
        kwargs["widget"] = kind.widget
    if kind.field is not FormField:  # an address is checked part by part, on its own form's fields
        kwargs["validators"] = [_Check(question, build)]
    # Outside a form class, a field's constructor returns an UnboundField, which the form class binds.
    return cast("UnboundField[Field]", kind.field(**kwargs))


# --- validators -----------------------------------------------------------------------------------------------


class _Check:
    """Validate a field with forms.answers.check_answer, so WTForms shows the same keys' texts."""

    def __init__(self, question: Question, build: _Build) -> None:
        self.question = question
        self.build = build
        self.field_flags = {"required": question.required}

    def __call__(self, form: Form, bound: Field) -> None:
        """Raise the first problem of the field's answer, translated."""
        value = _kind(self.question).to_answer(self.question, bound)
        _raise_first(self.question, self.build, value, "")


class _AddressPartCheck:
    """Validate one part of an address: the whole address is checked, and this part's problem shown."""

    def __init__(self, question: Question, part: str, build: _Build) -> None:
        self.question = question
        self.part = part
        self.build = build
        self.field_flags = {"required": question.required}

    def __call__(self, form: Form, bound: Field) -> None:
        """Raise this part's first problem, translated."""
        _raise_first(self.question, self.build, _address_answer(form), self.part)


def _raise_first(question: Question, build: _Build, value: object, path: str) -> None:
    """Stop at an unanswered question (an error if it is required), else raise the first problem at `path`."""
    if is_blank(question, value):
        message = error_text(question, required_key(question), build.lang) if question.required else None
        raise StopValidation(message or "")  # an empty message stops the checks without an error
    keys = check_answer(question, value, today=build.today, answers=build.answers).get(path)
    if keys:
        raise ValidationError(error_text(question, keys[0], build.lang))


# --- answers of fields ----------------------------------------------------------------------------------------


def _same(question: Question, value: object) -> object:
    """Form data as the answer has it."""
    return value


def _as_text(question: Question, value: object) -> object:
    """A number or amount as the text box shows it."""
    return str(value)


def _typed(question: Question, bound: Field) -> object:
    """Text typed into a box, read and normalised like normalise_answers does."""
    data = bound.data
    return None if is_blank(question, data) else normalise_answer(question, data)


def _yes_no(question: Question, bound: Field) -> object:
    """The radio's "yes" / "no" as true / false."""
    return {"yes": True, "no": False}.get(bound.data, bound.data or None) if isinstance(bound.data, str) else None


def _yes_no_form(question: Question, value: object) -> object:
    """true / false as the radio's value."""
    return {True: "yes", False: "no"}.get(value) if isinstance(value, bool) else None


def _chosen(question: Question, bound: Field) -> object:
    """The ticked options."""
    return list(bound.data or [])


def _ticked(question: Question, bound: Field) -> object:
    """A ticked declaration is true; unticked is unanswered."""
    return True if bound.data else None


def _file(question: Question, bound: Field) -> object:
    """A stored file's answer, or for a new upload a stand-in with its name, size and type (to check them)."""
    data = bound.data
    if isinstance(data, Mapping):
        return {key: data[key] for key in FILE_KEYS if key in data}
    if not getattr(data, "filename", None):
        return None
    stream = data.stream
    position = stream.tell()
    size = stream.seek(0, 2)  # the browser's Content-Length of a part is not always sent
    stream.seek(position)
    return {"file_id": UPLOAD_ID, "name": data.filename, "size": size, "content_type": data.mimetype or ""}


def _address_answer(form: Form) -> dict[str, object]:
    """The parts of an address form that are filled in, normalised."""
    typed = {part: form[part].data for part in ADDRESS_PARTS}
    question = Question(id="address", type="address")
    answer = normalise_answer(question, {k: v for k, v in typed.items() if isinstance(v, str) and v.strip()})
    return dict(answer) if isinstance(answer, Mapping) else {}


def _address(question: Question, bound: Field) -> object:
    """An address field's answer."""
    return _address_answer(cast("FormField[Form]", bound).form)


def _items(question: Question, bound: Field) -> object:
    """A group's answer: one object per entry (an empty entry stays, so its required questions are reported)."""
    items: list[object] = []
    for entry in cast("FieldList[FormField[Form]]", bound).entries:
        item: dict[str, object] = {}
        for name, sub in entry.form.meta.questions.items():
            if sub.type == "file" and not isinstance(entry.form[name].data, Mapping):
                continue
            value = _kind(sub).to_answer(sub, entry.form[name])
            if not is_blank(sub, value):
                item[name] = value
        items.append(item)
    return items


def _items_form(question: Question, value: object) -> object:
    """A group's answer as the list of its entries' data."""
    if not isinstance(value, list):
        return []
    subs = {sub.id: sub for sub in question.questions if sub.has_answer}
    return [
        {k: _kind(subs[k]).to_form(subs[k], v) for k, v in item.items() if k in subs}
        for item in value
        if isinstance(item, Mapping)
    ]


# --- field options by type ------------------------------------------------------------------------------------


def _no_options(question: Question, build: _Build) -> dict[str, Any]:
    """Nothing beyond label, hint and validators."""
    return {}


def _attributes(**render_kw: str) -> Callable[[Question, _Build], dict[str, Any]]:
    """Options that only add HTML attributes."""
    return lambda question, build: {"render_kw": dict(render_kw)}


def _options(question: Question, build: _Build) -> list[SelectChoice]:
    """The options, labelled in the page's language."""
    return [SelectChoice(option.value, option.label.get(build.lang)) for option in question.options]


def _single_choice(question: Question, build: _Build) -> dict[str, Any]:
    """Options; our own check reports a value that is not an option (WTForms' message is English only)."""
    choices = _options(question, build)
    if question.widget == "select":
        choices = [SelectChoice("", CHOOSE.get(build.lang, CHOOSE["lv"])), *choices]
    return {"choices": choices, "validate_choice": False}


def _multiple_choice(question: Question, build: _Build) -> dict[str, Any]:
    """Options as checkboxes."""
    return {"choices": _options(question, build), "validate_choice": False, "option_widget": CheckboxInput()}


def _yes_no_options(question: Question, build: _Build) -> dict[str, Any]:
    """Jā / Nē, Yes / No."""
    choices = [SelectChoice(value, label) for value, label in YES_NO.get(build.lang, YES_NO["lv"])]
    return {"choices": choices, "validate_choice": False}


def _file_options(question: Question, build: _Build) -> dict[str, Any]:
    """The accepted extensions for the browser's file picker."""
    return {"render_kw": {"accept": ",".join(f".{ext}" for ext in question.accept)}} if question.accept else {}


def _address_options(question: Question, build: _Build) -> dict[str, Any]:
    """A form of three parts, each checked as part of the whole address."""
    labels = ADDRESS_LABELS.get(build.lang, ADDRESS_LABELS["lv"])
    parts = {
        part: StringField(
            label=labels[part],
            validators=[_AddressPartCheck(question, part, build)],
            render_kw={"autocomplete": ADDRESS_AUTOCOMPLETE[part]},
        )
        for part in ADDRESS_PARTS
    }
    return {"form_class": type("AddressForm", (Form,), parts)}


def _group_options(question: Question, build: _Build) -> dict[str, Any]:
    """A list of item forms; as many entries as the answers so far have, at least min_items."""
    subs = visible_item_questions(question, build.answers)
    item_form = _form_class("ItemForm", Form, subs, build, group=question.id)  # Form: no CSRF token per item
    answered = build.answers.get(question.id)
    entries = len(answered) if isinstance(answered, list) else 0
    # No max_entries: FieldList would silently drop the extra entries; our check says there are too many.
    return {
        "unbound_field": FormField(item_form),
        "min_entries": max(entries, question.min_items or 0, 1 if question.required else 0),
    }


@dataclass(frozen=True)
class _Kind:
    """How one question type becomes a field: class, widget, extra options and the answer conversions."""

    field: type[Field] | None
    widget: Any = None
    options: Callable[[Question, _Build], dict[str, Any]] = _no_options
    to_answer: Callable[[Question, Field], object] = _typed
    to_form: Callable[[Question, object], object] = _same


_KINDS: dict[str, _Kind] = {
    "text": _Kind(StringField),
    "long_text": _Kind(TextAreaField),
    "number": _Kind(StringField, options=_attributes(inputmode="decimal"), to_form=_as_text),
    "money": _Kind(StringField, options=_attributes(inputmode="decimal")),
    "date": _Kind(StringField, widget=DateInput()),
    "email": _Kind(StringField, widget=EmailInput(), options=_attributes(autocomplete="email")),
    "phone": _Kind(StringField, widget=TelInput(), options=_attributes(autocomplete="tel")),
    "personal_code": _Kind(StringField),
    "company_number": _Kind(StringField, options=_attributes(inputmode="numeric")),
    "iban": _Kind(StringField),
    "postal_code": _Kind(StringField, options=_attributes(autocomplete="postal-code")),
    "address": _Kind(FormField, options=_address_options, to_answer=_address),
    "single_choice": _Kind(RadioField, options=_single_choice),
    "single_choice/select": _Kind(SelectField, options=_single_choice),
    "multiple_choice": _Kind(
        SelectMultipleField, widget=ListWidget(prefix_label=False), options=_multiple_choice, to_answer=_chosen
    ),
    "yes_no": _Kind(RadioField, options=_yes_no_options, to_answer=_yes_no, to_form=_yes_no_form),
    "declaration": _Kind(BooleanField, to_answer=_ticked),
    "file": _Kind(StoredFileField, options=_file_options, to_answer=_file),
    "group": _Kind(FieldList, options=_group_options, to_answer=_items, to_form=_items_form),
    "info": _Kind(None),
}
