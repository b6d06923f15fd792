"""Level 5 in the staff area: ask another institution about a case's applicant, and answer what you are asked.

No client is involved: the asked institution sees the question and whom it is about, never the application. A
question is of a kind (the registry publishes them: who answers each, who may ask it, its answer form) or, for
anything else, a free-text question to an institution the employee chooses. A kind's request is answered with its
answer form, built by the forms package like a step form.

Both pages are whole-page POSTs to their own address (POST/redirect/GET); errors come back with status 422, an error
summary and everything typed kept. With htmx, changing an answer that shows or hides other fields (the kind of
question; a controlling answer of the answer form) posts the form to the same address, which answers with that part
of the page only and records nothing.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import RadioField, SelectField, TextAreaField

from app.access import staff
from app.auth import take_stashed_form
from app.auth.session import get_current_user
from app.i18n import localized
from app.models import catalogue_api, data_requests_api, staff_api
from app.models.data_requests_api import DataRequest, Kind
from app.registry_client.errors import RegistryConflict, RegistryForbidden, RegistryValidationError
from app.rendering import render
from app.views.form_errors import error_items
from forms.answers import clean_answers, error_text
from forms.conditions import visible_questions
from forms.model import FormDefinition, referenced_questions
from forms.wtforms_builder import build_page_form, form_to_answers

bp = Blueprint("data_requests", __name__)

MAX_TEXT = 5000
# The choice of kind that means "none of these": a free-text question to an institution the employee chooses.
OTHER = "other"


def _refreshing() -> bool:
    """Say whether this POST is htmx asking again for part of the page (an answer changed), not a submission."""
    return request.method == "POST" and request.headers.get("HX-Request") == "true"


class AskForm(FlaskForm):  # type: ignore[misc]
    """The kind of question, whom to ask (for another question) and the text (checked by `_checked_question`)."""

    kind = RadioField(validate_choice=False)
    to_institution = SelectField(validate_choice=False)
    text = TextAreaField()


class AnswerForm(FlaskForm):  # type: ignore[misc]
    """The answer to a free-text question another institution asked."""

    text = TextAreaField()


def _text_errors(text: str, *, required: bool) -> list[str]:
    if required and not text:
        return [_("Write the text.")]
    if len(text) > MAX_TEXT:
        return [ngettext("Write at most %(num)d character.", "Write at most %(num)d characters.", MAX_TEXT)]
    return []


def _checked_question(form: AskForm, kinds: dict[str, Kind], institutions: set[str]) -> bool:
    """Check the kind, the institution (for another question) and the text; put translated messages on the fields."""
    if not form.validate():  # the CSRF token
        return False
    chosen = form.kind.data
    if chosen != OTHER and chosen not in kinds:
        form.kind.errors = [_("Choose what to ask.")]
    if chosen == OTHER and form.to_institution.data not in institutions:
        form.to_institution.errors = [_("Choose the institution to ask.")]
    form.text.errors = _text_errors((form.text.data or "").strip(), required=chosen == OTHER)
    return not any(field.errors for field in form)


def _kind_label(kind: Kind, institutions: dict[str, Any], lang: str) -> str:
    answering = institutions.get(kind.answered_by)
    name = localized(answering.name, lang) if answering is not None else kind.answered_by
    return _("%(question)s (answered by %(institution)s)", question=localized(kind.title, lang), institution=name)


@bp.route("/<lang>/staff/cases/<case_id>/ask", methods=["GET", "POST"])
@staff
def ask(lang: str, case_id: str) -> Response | BaseResponse:
    """Ask another institution about the case's applicant; the question and its answer join the case."""
    case = staff_api.get_case(case_id)
    me = get_current_user()
    mine = me.institution if me is not None else None
    institutions = catalogue_api.institutions()
    kinds = {k.id: k for k in data_requests_api.kinds_to_ask(mine, case.principal)}
    # Typed here when the session ran out, and kept for after signing in again (app.access): shown unchecked.
    form = AskForm() if request.method == "POST" else AskForm(formdata=take_stashed_form(request.path))
    form.kind.choices = [(k.id, _kind_label(k, institutions, lang)) for k in kinds.values()] + [
        (OTHER, _("Another question (free text)"))
    ]
    choices = [(i, localized(institutions[i].name, lang)) for i in sorted(institutions) if i != mine]
    form.to_institution.choices = [("", _("Choose")), *choices]
    form.kind.label.text, form.to_institution.label.text = _("What do you want to know?"), _("Institution")
    other = form.kind.data == OTHER
    if other:
        form.text.label.text = _("Question")
    elif form.kind.data in kinds:
        form.text.label.text = _("Note for the institution (optional)")
    else:
        form.text.label.text = _("Question or note")
    status = 200
    if form.is_submitted() and not _refreshing():
        if _checked_question(form, kinds, {value for value, _label in choices}):
            chosen = form.kind.data
            try:
                sent = data_requests_api.ask(
                    case.id,
                    kind=None if chosen == OTHER else chosen,
                    to_institution=form.to_institution.data if chosen == OTHER else None,
                    text=(form.text.data or "").strip(),
                )
            except (RegistryValidationError, RegistryConflict, RegistryForbidden):
                form.form_errors.append(_("The registry did not accept the question: the case may have moved on."))
            else:
                name = institutions.get(sent.to_institution)
                flash(
                    _(
                        "Your question was sent to %(institution)s.",
                        institution=localized(name.name, lang) if name is not None else sent.to_institution,
                    ),
                    "success",
                )
                return redirect(url_for("staff.case", lang=lang, case_id=case.id), code=303)
        status = 422
    errors = error_items(form) + [("main", m) for m in form.form_errors] if status == 422 else []
    return render(
        "pages/staff/ask.html",
        status=status,
        block="details",
        case=case,
        form=form,
        kinds=kinds,
        # Without JavaScript whom to ask is always there; htmx hides it until "another question" is chosen.
        show_institution=other or not _refreshing(),
        errors=errors,
    )


@bp.get("/<lang>/staff/requests")
@staff
def requests(lang: str) -> Response:
    """The questions the employee's institution was asked, and those it asked."""
    return render(
        "pages/staff/requests.html",
        incoming=data_requests_api.requests_of(outgoing=False),
        outgoing=data_requests_api.requests_of(outgoing=True),
        kinds=data_requests_api.kinds(),
        institutions=catalogue_api.institutions(),
    )


def _answer_form(definition: FormDefinition, lang: str, formdata: Any) -> FlaskForm:
    """Build the answer form (one page) from what was posted.

    An answer can show or hide other questions, so the form is built again from the posted answers until the shown
    questions stay the same (conditions are acyclic, so this ends within a few rounds).
    """
    page = definition.pages[0]
    answers: dict[str, Any] = {}
    form = build_page_form(definition, page.id, lang=lang, formdata=formdata, data=answers, base=FlaskForm)
    for _round in range(len(page.questions)):
        posted = form_to_answers(form)
        if formdata is None or _shown(definition, posted) == _shown(definition, answers):
            break
        answers = posted
        form = build_page_form(definition, page.id, lang=lang, formdata=formdata, data=answers, base=FlaskForm)
    return form


def _shown(definition: FormDefinition, answers: dict[str, Any]) -> set[str]:
    return {q.id for q in visible_questions(definition, answers)}


def _controlling(definition: FormDefinition) -> set[str]:
    """Return the questions whose answers show or hide others: htmx asks again for the form when they change."""
    found: set[str] = set()
    for question in definition.questions():
        if question.show_if is not None:
            found |= set(referenced_questions(question.show_if))
    return found


def _registry_problems(exc: RegistryValidationError, definition: FormDefinition, form: Any, lang: str) -> None:
    """Put the registry's 422 problems next to the questions they point at; anything else above the form."""
    for error in exc.errors:
        pointer = str(error.get("pointer", "")).removeprefix("#/")
        name = pointer.removeprefix("answers/").split("/")[0]
        if pointer.startswith("answers/") and name in form._fields:
            message = error_text(definition.question(name), str(error.get("detail", "invalid")), lang)
            form[name].errors = [*form[name].errors, message]
        else:
            form.form_errors.append(_("The registry did not accept the answer. Check the answers."))


def _send_answer(found: DataRequest, form: Any, definition: FormDefinition | None, lang: str) -> bool | None:
    """Check and send the answer; True if sent, None if it was answered already, False (errors on fields) if not."""
    if definition is not None:
        if not form.validate():
            return False
        answers = clean_answers(definition, form_to_answers(form))
    else:
        if not form.validate():  # the CSRF token
            return False
        form.text.errors = _text_errors((form.text.data or "").strip(), required=True)
        if form.text.errors:
            return False
    try:
        if definition is not None:
            data_requests_api.answer(found, answers=answers)
        else:
            data_requests_api.answer(found, text=(form.text.data or "").strip())
    except RegistryConflict:
        return None
    except RegistryValidationError as exc:
        if definition is not None:
            _registry_problems(exc, definition, form, lang)
        else:
            form.text.errors = [_("The registry did not accept the answer. Check the answers.")]
        return False
    return True


@bp.route("/<lang>/staff/requests/<request_id>", methods=["GET", "POST"])
@staff
def request_page(lang: str, request_id: str) -> Response | BaseResponse:
    """One question: its answer, or the form to answer it when the employee's institution was asked."""
    found = data_requests_api.get(request_id)
    me = get_current_user()
    can_answer = found.is_open and me is not None and found.to_institution == me.institution
    definition = data_requests_api.answer_form(found)
    formdata = None
    if can_answer:
        # Typed here when the session ran out, and kept for after signing in again (app.access): shown unchecked.
        formdata = request.form if request.method == "POST" else take_stashed_form(request.path)
    if definition is not None:
        form = _answer_form(definition, lang, formdata)
    else:
        form = AnswerForm(formdata=formdata)
        form.text.label.text = _("Answer")
    status = 200
    submitted = request.method == "POST" and not _refreshing()
    if submitted and not found.is_open and me is not None and found.to_institution == me.institution:
        # A second answer (another tab, a colleague first): say so, and show where the answered questions are.
        flash(_("The question was answered already."), "info")
        return redirect(url_for("data_requests.requests", lang=lang), code=303)
    if can_answer and submitted:
        sent = _send_answer(found, form, definition, lang)
        if sent is not False:
            if sent:
                flash(_("Your answer was sent."), "success")
            else:
                flash(_("The question was answered already."), "info")
            return redirect(url_for("data_requests.requests", lang=lang), code=303)
        status = 422
    kinds = data_requests_api.kinds() if found.kind else {}
    errors = error_items(form) + [("main", m) for m in form.form_errors] if status == 422 else []
    return render(
        "pages/staff/request.html",
        status=status,
        block="answer_questions",
        request_=found,
        title=found.title(kinds, lang),
        kind=kinds.get(found.kind) if found.kind else None,
        form=form,
        definition=definition,
        controlling=_controlling(definition) if definition is not None else set(),
        summary=data_requests_api.answer_summary_of(found, definition, lang),
        can_answer=can_answer,
        institutions=catalogue_api.institutions(),
        errors=errors,
    )
