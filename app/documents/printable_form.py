"""A form definition as a paper form: each question with its label, hint, condition in words and space to answer.

The HTML print view and the PDF both lay out the same `PrintableForm`, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from app.models.answer_display import YES_NO, answer_lines
from app.models.catalogue import Institution, Service
from forms import model
from forms.model import CHOICE_TYPES, Compare, Condition, FormDefinition, Not, Question
from forms.wtforms_builder import ADDRESS_LABELS

GROUP_COPIES = 3  # a repeating group is printed this many times (fewer if it allows fewer); more on another sheet

# Character boxes: numbers are runs of boxes, strings are printed between them.
BOXES: dict[str, tuple[int | str, ...]] = {
    "personal_code": (6, "–", 5),
    "company_number": (11,),
    "postal_code": ("LV–", 4),
    "date": (2, ".", 2, ".", 4),
}
LATVIAN_IBAN = (21,)
LONG_TEXT_LINES = 4


@dataclass(frozen=True)
class Blank:
    """One question as it is printed.

    kind: `lines` (lines to write on), `boxes` (a row of character boxes), `choices` (tick boxes), `tick` (one box
    before the label), `parts` (an address: labelled sub-blanks), `group` (sub-blanks printed once per copy),
    `attachment` (a document to add) or `info` (text between questions, Markdown).
    """

    id: str
    kind: str
    label: str = ""
    hint: str = ""
    note: str = ""
    condition: str = ""
    optional: bool = False
    lines: int = 1
    short: bool = False
    suffix: str = ""
    boxes: tuple[int | str, ...] = ()
    choices: tuple[str, ...] = ()
    parts: tuple[Blank, ...] = ()
    copies: tuple[str, ...] = ()
    text: str = ""


@dataclass(frozen=True)
class Section:
    """A page of the form: a numbered section of the paper form."""

    id: str
    title: str
    condition: str
    blanks: tuple[Blank, ...]


@dataclass(frozen=True)
class PrintableForm:
    """A whole paper form in one language."""

    lang: str
    service_id: str
    title: str
    version_label: str
    service_title: str
    institution: str
    instructions: str
    offices: tuple[str, ...]
    sections: tuple[Section, ...]
    declaration_heading: str
    declaration: str
    signature_labels: tuple[str, ...]

    def labels(self) -> list[str]:
        """Return the label of every question, sub-questions included (what a test looks for on the page)."""
        found: list[str] = []

        def walk(blanks: tuple[Blank, ...]) -> None:
            for blank in blanks:
                if blank.label:
                    found.append(blank.label)
                walk(blank.parts)

        for section in self.sections:
            walk(section.blanks)
        return found


# --- conditions in words ----------------------------------------------------------------------------------------


def _quoted_values(question: Question, values: tuple[object, ...], lang: str) -> str:
    return ", ".join(f"“{_value_text(question, value, lang)}”" for value in values)


def _value_text(question: Question, value: object, lang: str) -> str:
    """Return a value a condition compares with as the person reads it (an option's label, Yes, 1. novembris)."""
    shown = answer_lines(question, [value] if question.type == "multiple_choice" else value, lang)
    return shown[0] if shown else str(value)


def _compare_text(condition: Compare, definition: FormDefinition, lang: str, *, negated: bool = False) -> str:
    question = definition.question(condition.question)
    label = question.label.get(lang) if question.label else question.id
    values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
    if question.type == "multiple_choice":
        if condition.op == "equals":
            text = _(
                "“%(value)s” is ticked at “%(question)s”", value=_value_text(question, values[0], lang), question=label
            )
        else:
            text = _(
                "one of these is ticked at “%(question)s”: %(values)s",
                question=label,
                values=_quoted_values(question, values, lang),
            )
        return _("it is not so that %(condition)s", condition=text) if negated else text
    if condition.op == "equals":
        value = _value_text(question, values[0], lang)
        if negated:
            return _("the answer to “%(question)s” is not “%(value)s”", question=label, value=value)
        return _("the answer to “%(question)s” is “%(value)s”", question=label, value=value)
    if condition.op == "one_of":
        listed = _quoted_values(question, values, lang)
        if negated:
            return _("the answer to “%(question)s” is none of %(values)s", question=label, values=listed)
        return _("the answer to “%(question)s” is one of %(values)s", question=label, values=listed)
    value = _value_text(question, values[0], lang)
    if question.type == "date":
        text = (
            _("the date at “%(question)s” is after %(value)s", question=label, value=value)
            if condition.op == "greater_than"
            else _("the date at “%(question)s” is before %(value)s", question=label, value=value)
        )
    else:
        text = (
            _("the answer to “%(question)s” is more than %(value)s", question=label, value=value)
            if condition.op == "greater_than"
            else _("the answer to “%(question)s” is less than %(value)s", question=label, value=value)
        )
    return _("it is not so that %(condition)s", condition=text) if negated else text


def describe_condition(condition: Condition, definition: FormDefinition, lang: str, *, nested: bool = False) -> str:
    """Return a condition in words, e.g. "the answer to “Marital status” is one of “Divorced”, “Widowed”"."""
    if isinstance(condition, Compare):
        return _compare_text(condition, definition, lang)
    if isinstance(condition, Not):
        inner = condition.condition
        if isinstance(inner, Compare):
            return _compare_text(inner, definition, lang, negated=True)
        return _("it is not so that %(condition)s", condition=describe_condition(inner, definition, lang, nested=True))
    parts = [describe_condition(part, definition, lang, nested=True) for part in condition.conditions]
    joined = parts[0]
    for part in parts[1:]:
        joined = (
            _("%(first)s and %(second)s", first=joined, second=part)
            if isinstance(condition, model.All)
            else _("%(first)s or %(second)s", first=joined, second=part)
        )
    return f"({joined})" if nested and len(parts) > 1 else joined


def _only_if(condition: Condition | None, definition: FormDefinition, lang: str) -> str:
    if condition is None:
        return ""
    return _("Answer only if %(condition)s.", condition=describe_condition(condition, definition, lang))


# --- questions as blanks -----------------------------------------------------------------------------------------


def _blank(question: Question, definition: FormDefinition, lang: str) -> Blank:
    """Return how one question is printed: the space to answer is sized by its type."""
    common = {
        "id": question.id,
        "label": question.label.get(lang) if question.label else "",
        "hint": question.hint.get(lang) if question.hint else "",
        "condition": _only_if(question.show_if, definition, lang),
        "optional": not question.required and question.type not in ("info", "declaration"),
    }
    kind = question.type
    if kind == "info":
        return Blank(
            id=question.id,
            kind="info",
            text=question.text.get(lang) if question.text else "",
            condition=common["condition"],
        )
    if kind == "date":
        return Blank(
            **common, kind="boxes", boxes=BOXES["date"], note=_("Write the date as %(format)s.", format=_("DD.MM.YYYY"))
        )
    if kind in ("personal_code", "company_number", "postal_code"):
        return Blank(**common, kind="boxes", boxes=BOXES[kind])
    if kind == "iban":
        if question.country == "LV":
            return Blank(**common, kind="boxes", boxes=LATVIAN_IBAN)
        return Blank(**common, kind="lines")
    if kind in CHOICE_TYPES:
        note = _("Tick one.") if kind == "single_choice" else _("Tick all that apply.")
        return Blank(**common, kind="choices", note=note, choices=tuple(o.label.get(lang) for o in question.options))
    if kind == "yes_no":
        names = YES_NO.get(lang, YES_NO["lv"])
        return Blank(**common, kind="choices", note=_("Tick one."), choices=(names[True], names[False]))
    if kind == "declaration":
        return Blank(**common, kind="tick")
    if kind == "file":
        return Blank(**common, kind="attachment", note=_("Attach a copy of this document to the form."))
    if kind == "address":
        labels = ADDRESS_LABELS.get(lang, ADDRESS_LABELS["lv"])
        parts = (
            Blank(id=f"{question.id}-street", kind="lines", label=labels["street"]),
            Blank(id=f"{question.id}-city", kind="lines", label=labels["city"]),
            Blank(
                id=f"{question.id}-postal_code", kind="boxes", label=labels["postal_code"], boxes=BOXES["postal_code"]
            ),
        )
        return Blank(**common, kind="parts", parts=parts)
    if kind == "group":
        item = question.item_label.get(lang) if question.item_label else common["label"]
        copies = min(GROUP_COPIES, question.max_items or GROUP_COPIES)
        return Blank(
            **common,
            kind="group",
            note=_("If there are more, add a sheet with the same details for each."),
            parts=tuple(_blank(sub, definition, lang) for sub in question.questions),
            copies=tuple(f"{item} {number}" for number in range(1, copies + 1)),
        )
    if kind == "long_text":
        return Blank(**common, kind="lines", lines=LONG_TEXT_LINES)
    if kind == "money":
        return Blank(**common, kind="lines", short=True, suffix="€")
    if kind == "number":
        return Blank(**common, kind="lines", short=True)
    return Blank(**common, kind="lines")  # text, email, phone


def build_printable_form(
    *,
    definition: FormDefinition,
    service: Service,
    institution: Institution | None,
    lang: str,
) -> PrintableForm:
    """Return the paper version of a form definition in `lang`."""
    authority = (
        (institution.name.get(lang) or institution.name.get("lv")) if institution else service.competent_authority
    )
    offices = tuple(
        ", ".join(part for part in ((c.title.get(lang) or c.title.get("lv")), c.address, c.phone) if part)
        for c in service.offices
        if c.address or c.phone
    )
    sections = tuple(
        Section(
            id=page.id,
            title=page.title.get(lang),
            condition=(
                _(
                    "Fill in this section only if %(condition)s.",
                    condition=describe_condition(page.show_if, definition, lang),
                )
                if page.show_if is not None
                else ""
            ),
            blanks=tuple(_blank(question, definition, lang) for question in page.questions),
        )
        for page in definition.pages
    )
    return PrintableForm(
        lang=lang,
        service_id=service.id,
        title=definition.title.get(lang),
        version_label=_("version %(version)s", version=definition.version),
        service_title=service.title.get(lang) or service.title.get("lv", service.id),
        institution=authority,
        instructions=_(
            "Fill in the form by hand in block letters, sign it and hand it in to %(institution)s.",
            institution=authority,
        ),
        offices=offices,
        sections=sections,
        declaration_heading=_("Declaration and signature"),
        declaration=definition.declaration.get(lang) if definition.declaration else "",
        signature_labels=(_("Date"), _("Signature"), _("Name and surname of the signatory")),
    )
