"""Level 5 in the staff area: ask another institution about a case's applicant, and answer what you are asked.

No client is involved: the asked institution sees the question and whom it is about, never the application. Both
forms are whole-page POSTs to their own address (POST/redirect/GET); errors come back with status 422, an error
summary and the text kept.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import SelectField, TextAreaField

from app.access import staff
from app.auth.session import get_current_user
from app.i18n import localized
from app.models import catalogue_api, data_requests_api, staff_api
from app.registry_client.errors import RegistryConflict, RegistryValidationError
from app.rendering import render
from app.views.form_errors import error_items

bp = Blueprint("data_requests", __name__)

MAX_TEXT = 5000


class AskForm(FlaskForm):  # type: ignore[misc]
    """Which institution, and the question (checked by `_checked`, with translated messages)."""

    to_institution = SelectField(validate_choice=False)
    text = TextAreaField()


class AnswerForm(FlaskForm):  # type: ignore[misc]
    """The answer to a question another institution asked."""

    text = TextAreaField()


def _checked(form: FlaskForm, institutions: set[str] | None = None) -> bool:
    """Check the text (and the institution chosen); put translated messages on the fields. True if all is well."""
    if not form.validate():  # the CSRF token
        return False
    text = (form.text.data or "").strip()
    if not text:
        form.text.errors = [_("Write the text.")]
    elif len(text) > MAX_TEXT:
        form.text.errors = [ngettext("Write at most %(num)d character.", "Write at most %(num)d characters.", MAX_TEXT)]
    if institutions is not None and form.to_institution.data not in institutions:
        form.to_institution.errors = [_("Choose the institution to ask.")]
    return not any(field.errors for field in form)


@bp.route("/<lang>/staff/cases/<case_id>/ask", methods=["GET", "POST"])
@staff
def ask(lang: str, case_id: str) -> Response | BaseResponse:
    """Ask another institution about the case's applicant; the question and its answer join the case."""
    case = staff_api.get_case(case_id)
    me = get_current_user()
    institutions = catalogue_api.institutions()
    form = AskForm()
    choices = [(i, localized(institutions[i].name)) for i in sorted(institutions) if me is None or i != me.institution]
    form.to_institution.choices = [("", _("Choose"))] + [(value, str(label)) for value, label in choices]
    form.to_institution.label.text, form.text.label.text = _("Institution"), _("Question")
    status = 200
    if form.is_submitted():
        if _checked(form, {value for value, _label in choices}):
            try:
                data_requests_api.ask(case.id, form.to_institution.data, form.text.data.strip())
            except (RegistryValidationError, RegistryConflict):
                form.text.errors = [_("The registry did not accept the question: the case may have moved on.")]
            else:
                flash(
                    _(
                        "Your question was sent to %(institution)s.",
                        institution=dict(choices)[form.to_institution.data],
                    ),
                    "success",
                )
                return redirect(url_for("staff.case", lang=lang, case_id=case.id), code=303)
        status = 422
    return render(
        "pages/staff/ask.html",
        status=status,
        case=case,
        form=form,
        errors=error_items(form) if status == 422 else [],
    )


@bp.get("/<lang>/staff/requests")
@staff
def requests(lang: str) -> Response:
    """The questions the employee's institution was asked, and those it asked."""
    return render(
        "pages/staff/requests.html",
        incoming=data_requests_api.requests_of(outgoing=False),
        outgoing=data_requests_api.requests_of(outgoing=True),
        institutions=catalogue_api.institutions(),
    )


@bp.route("/<lang>/staff/requests/<request_id>", methods=["GET", "POST"])
@staff
def request_page(lang: str, request_id: str) -> Response | BaseResponse:
    """One question: its answer, or the form to answer it when the employee's institution was asked."""
    found = data_requests_api.get(request_id)
    me = get_current_user()
    can_answer = found.is_open and me is not None and found.to_institution == me.institution
    form = AnswerForm()
    form.text.label.text = _("Answer")
    status = 200
    if can_answer and form.is_submitted():
        if _checked(form):
            try:
                data_requests_api.answer(found, form.text.data.strip())
            except RegistryConflict:
                flash(_("The question was answered already."), "info")
            else:
                flash(_("Your answer was sent."), "success")
            return redirect(url_for("data_requests.requests", lang=lang), code=303)
        status = 422
    return render(
        "pages/staff/request.html",
        status=status,
        request_=found,
        form=form,
        can_answer=can_answer,
        institutions=catalogue_api.institutions(),
        errors=error_items(form) if status == 422 else [],
    )
