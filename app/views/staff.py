"""The staff area: an institution's employee sees the work queue, opens a case, takes it and decides its step.

Pages live under `/<lang>/staff/` on every delivery point and are `@staff` (employees only, never cached, never
framed). The registry decides what the employee may see and do (docs/processing.md); these pages only offer what it
would allow. The queue is a GET form that works without JavaScript; htmx asks the same URL for the `results` block.
A decision is a whole-page POST to the case's own address: errors come back with status 422, an error summary naming
each question and everything typed kept; a valid decision goes once (one Idempotency-Key per case and step, kept in
the session) and leads back to the queue (303) with a message.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, session, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import Form, HiddenField, RadioField, TextAreaField

from app.access import staff
from app.auth import take_stashed_form
from app.auth.session import get_current_user
from app.delivery_points import current_point
from app.models import catalogue_api, data_requests_api, staff_api
from app.models.answer_display import answer_summary
from app.models.staff_api import TEXT_REQUIRED, WITH_STEP_FORM, Case, StaffQuery
from app.registry_client.catalogue import slug
from app.registry_client.errors import RegistryConflict, RegistryNotFound, RegistryValidationError
from app.rendering import render
from app.views.form_errors import error_items
from forms.answers import clean_answers, error_text
from forms.conditions import visible_pages, visible_questions
from forms.model import FormDefinition, Page
from forms.wtforms_builder import RIGA, build_page_form, form_to_answers

bp = Blueprint("staff", __name__)

MAX_TEXT = 5000
MAX_PAGE = 10_000
# The session entry that keeps decisions' Idempotency-Keys: one per case and step, made when the form is shown, so a
# double click, a reload or the back button sends the same key; a case that comes back to the same step after a
# decision gets a new one. Only the newest few are kept: the session is a cookie, which must stay under 4 KB.
DECISION_KEYS = "decision_keys"
MAX_DECISION_KEYS = 8


@bp.before_request
def _check_lang() -> None:
    # Staff addresses are not printed on paper: an unknown language is simply not found.
    view_args = request.view_args or {}
    if "lang" in view_args and view_args["lang"] not in current_app.config["LANGUAGES"]:
        abort(404)


def redirect_to(endpoint: str, **values: Any) -> BaseResponse:
    # 303 after a POST (POST/redirect/GET): reloading never sends a decision again.
    return redirect(url_for(endpoint, **values), code=303 if request.method == "POST" else 302)


@bp.app_template_filter("staff_date")
def staff_date(value: date | datetime) -> str:
    """Format a day as the page's language writes it (lv: 2026. gada 3. nov.); a time by its day in Riga."""
    if isinstance(value, datetime):
        return str(format_date(_in_riga(value), "medium"))
    return str(format_date(value, "medium"))


@bp.app_template_filter("staff_time")
def staff_time(value: datetime) -> str:
    """Format a moment in Riga time, to the minute (lv: 2026. gada 3. nov. 16:05)."""
    local = _in_riga(value)
    return f"{format_date(local, 'medium')} {local:%H:%M}"


def _in_riga(value: datetime) -> datetime:
    # The registry writes UTC; a time without a zone is taken as UTC too.
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(RIGA)


# --- the work queue --------------------------------------------------------------------------------------------


def _parse_query(args: Any) -> tuple[StaffQuery, bool]:
    """Return the queue filters of the query string, and whether anything in it had to be dropped."""
    dropped = False
    service = args.get("service") or None
    if service is not None:
        try:
            slug(service, "service")
        except RegistryNotFound:
            service, dropped = None, True
    status = args.get("status") or None
    if status is not None and not staff_api.is_status(status):
        status, dropped = None, True
    page_text = args.get("page") or "1"
    page = int(page_text) if page_text.isascii() and page_text.isdigit() and 0 < int(page_text) <= MAX_PAGE else 0
    if page == 0:
        page, dropped = 1, True
    overdue, mine = args.get("overdue"), args.get("mine")
    dropped = dropped or overdue not in (None, "", "1") or mine not in (None, "", "1")
    return StaffQuery(service=service, status=status, overdue=overdue == "1", mine=mine == "1", page=page), dropped


def query_args(query: StaffQuery, **changes: Any) -> dict[str, Any]:
    """Return the query string of `query` (with `changes`) without empty values, for links and redirects."""
    values: dict[str, Any] = {
        "service": query.service,
        "status": query.status,
        "overdue": "1" if query.overdue else None,
        "mine": "1" if query.mine else None,
        "page": query.page if query.page > 1 else None,
    }
    values.update(changes)
    if values["page"] == 1:
        values["page"] = None
    return {key: value for key, value in values.items() if value not in (None, "")}


def _decision_key(case_id: str, step_id: str, *, create: bool) -> str | None:
    """Return the Idempotency-Key of the decision on this case's step (made now if `create`), or None."""
    keys: dict[str, list[Any]] = dict(session.get(DECISION_KEYS) or {})
    name = f"{case_id}:{step_id}"
    if name not in keys and create:
        keys[name] = [uuid.uuid4().hex, time.time()]
        for oldest in sorted(keys, key=lambda k: keys[k][1])[: max(0, len(keys) - MAX_DECISION_KEYS)]:
            del keys[oldest]
        session[DECISION_KEYS] = keys
    found = keys.get(name)
    return str(found[0]) if found else None


def _forget_decision_key(case_id: str, step_id: str) -> None:
    keys = dict(session.get(DECISION_KEYS) or {})
    if keys.pop(f"{case_id}:{step_id}", None) is not None:
        session[DECISION_KEYS] = keys


@bp.get("/<lang>/staff/")
@staff
def queue(lang: str) -> Response | BaseResponse:
    """List the cases waiting for the employee's institution, with filters, counts and pages."""
    query, dropped = _parse_query(request.args)
    if dropped:
        return redirect_to(".queue", lang=lang, **query_args(query, page=None))
    cases = staff_api.queue(query)
    if query.page > cases.pages:
        return redirect_to(".queue", lang=lang, **query_args(query, page=cases.pages))
    user = get_current_user()
    institutions = catalogue_api.institutions()
    services = catalogue_api.search_services(
        current_point, catalogue_api.CatalogueQuery(institution=user.institution if user else None), per_page=100
    )
    by_id = {s.id: s for s in services.items}
    by_id |= catalogue_api.services_by_id({item.service for item in cases.items} - set(by_id))
    if query.service and query.service not in by_id:
        by_id |= catalogue_api.services_by_id({query.service})
    response = render(
        "pages/staff/queue.html",
        block="results",
        cases=cases,
        query=query,
        query_args=query_args,
        services=by_id,
        institutions=institutions,
        institution=institutions.get(user.institution or "") if user else None,
        statuses=staff_api.STATUSES,
    )
    if request.headers.get("HX-Request") == "true":
        # htmx would push every empty field of the form; push the clean URL the plain form would lead to instead.
        response.headers["HX-Push-Url"] = url_for(".queue", lang=lang, **query_args(query))
    return response


# --- a case and its decision -----------------------------------------------------------------------------------


class DecisionForm(FlaskForm):  # type: ignore[misc]
    """The part of a decision every step has: the step it is for, the outcome, and the text that goes with it.

    Its fields are prefixed (`decision-outcome`...): question ids are snake_case, so no step question can clash.
    Their checks are in `_valid_decision`, with this portal's own messages in the page's language.
    """

    step = HiddenField()
    outcome = RadioField(choices=[], validate_choice=False)
    text = TextAreaField()


def _decision_form(case: Case, outcomes: tuple[str, ...], formdata: Any) -> DecisionForm:
    labels = outcome_labels()
    form = DecisionForm(formdata=formdata, prefix="decision")
    form.outcome.label.text = _("Decision")
    form.outcome.choices = [(outcome, labels[outcome]) for outcome in outcomes]
    form.text.label.text = _("Reasoning or message")
    if not form.step.data and case.step is not None:
        form.step.data = case.step.id
    return form


def outcome_labels() -> dict[str, str]:
    """Return what each outcome is called on the decision form."""
    return {
        "approve": _("Approve"),
        "refuse": _("Refuse"),
        "request_info": _("Request more information from the applicant"),
        "return": _("Return to the previous step"),
    }


def _step_forms(definition: FormDefinition, lang: str, formdata: Any) -> list[tuple[Page, Form]]:
    """Build the step form with every shown page on this one page: [(page, its WTForms form)].

    An answer can show or hide later questions, so the forms are built again from the posted answers until the
    shown questions stay the same (conditions are acyclic, so this ends within a few rounds).
    """
    answers: dict[str, Any] = {}
    built: list[tuple[Page, Form]] = []
    for _round in range(len(definition.questions()) + 1):
        built = [
            (page, build_page_form(definition, page.id, lang=lang, formdata=formdata, data=answers, base=Form))
            for page in visible_pages(definition, answers)
        ]
        posted = _answers_of(built)
        if formdata is None or _shown(definition, posted) == _shown(definition, answers):
            return built
        answers = posted
    return built


def _shown(definition: FormDefinition, answers: dict[str, Any]) -> set[str]:
    return {q.id for q in visible_questions(definition, answers)}


def _answers_of(built: list[tuple[Page, Form]]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for _page, form in built:
        answers |= form_to_answers(form)
    return answers


def _registry_problems(
    exc: RegistryValidationError,
    definition: FormDefinition | None,
    built: list[tuple[Any, Any]],
    form: DecisionForm,
    lang: str,
) -> None:
    """Put the registry's 422 problems next to the fields they point at (answers, outcome or text)."""
    fields = {name: bound for _page, page_form in built for name, bound in page_form._fields.items()}
    for error in exc.errors:
        pointer = str(error.get("pointer", "")).removeprefix("#/")
        key = str(error.get("detail", "invalid"))
        name = pointer.removeprefix("answers/").split("/")[0]
        if pointer.startswith("answers/") and name in fields and definition is not None:
            question = next((q for q in definition.questions() if q.id == name), None)
            message = error_text(question, key, lang) if question is not None else key
            fields[name].errors = [*fields[name].errors, message]
        elif pointer in ("outcome", "text"):
            form[pointer].errors = [*form[pointer].errors, _("Check this answer.")]
        else:
            form.form_errors.append(_("The registry did not accept the decision. Check the answers."))


@bp.route("/<lang>/staff/cases/<case_id>", methods=["GET", "POST"])
@staff
def case(lang: str, case_id: str) -> Response | BaseResponse:
    """Show a case (answers, files, process, timeline) and decide its current step (POST/redirect/GET)."""
    found = staff_api.get_case(case_id)
    user = get_current_user()
    outcomes = found.outcomes_for(user)
    step_definition = staff_api.step_form(found) if outcomes else None
    status = 200
    moved_on = False
    # Typed on this page when the session ran out, and kept for after signing in again (app.access): shown unchecked.
    formdata = request.form if request.method == "POST" else take_stashed_form(request.path)
    form = _decision_form(found, outcomes, formdata)
    built = _step_forms(step_definition, lang, formdata) if step_definition is not None else []
    if request.method == "GET" and outcomes and found.step is not None:
        _decision_key(found.id, found.step.id, create=True)  # the key this form will be sent with
    if request.method == "POST":
        if not form.validate_on_submit() and "csrf_token" in form.errors:
            abort(400)
        posted_step = form.step.data or ""
        if found.step is None or posted_step != found.step.id or not outcomes:
            # Decided meanwhile: by the first request of a double click (then the decision is this person's and the
            # form was shown with a key), or by someone else (then they are told, and decide nothing).
            if found.last_decision_on(posted_step, user) and _decision_key(found.id, posted_step, create=False):
                _forget_decision_key(found.id, posted_step)
                flash(_("The decision on case %(reference)s is recorded.", reference=found.reference), "success")
                return redirect_to(".queue", lang=lang)
            moved_on = True
            status = 409
        elif _valid_decision(form, built):
            answers = clean_answers(step_definition, _answers_of(built)) if step_definition is not None else {}
            try:
                staff_api.decide(
                    found,
                    outcome=form.outcome.data,
                    answers=answers,
                    text=(form.text.data or "").strip(),
                    idempotency_key=_decision_key(found.id, posted_step, create=True) or "",
                )
            except RegistryValidationError as exc:
                _registry_problems(exc, step_definition, built, form, lang)
                status = 422
            except RegistryConflict:
                moved_on = True
                status = 409
            else:
                _forget_decision_key(found.id, posted_step)
                flash(_("The decision on case %(reference)s is recorded.", reference=found.reference), "success")
                return redirect_to(".queue", lang=lang)
        else:
            status = 422
    application_definition = staff_api.application_form(found)
    errors = error_items(form) if status == 422 else []
    for _page, page_form in built:
        errors += error_items(page_form) if status == 422 else []
    errors += [("main", message) for message in form.form_errors] if status == 422 else []
    return render(
        "pages/staff/case.html",
        status=status,
        case=found,
        service=_service(found.service),
        institutions=catalogue_api.institutions(),
        summary=answer_summary(application_definition, found.answers, lang),
        data_requests=data_requests_api.of_case(found.id, lang),
        form=form,
        step_forms=built,
        outcomes=outcomes,
        colleagues=staff_api.colleagues() if found.step and found.status in ("submitted", "in_progress") else [],
        text_required=sorted(TEXT_REQUIRED & set(outcomes)),
        errors=errors,
        moved_on=moved_on,
        action_form=FlaskForm(),
    )


def _valid_decision(form: DecisionForm, built: list[tuple[Any, Any]]) -> bool:
    """Check the outcome, its text and (to approve or refuse) the step form; put every problem on its field."""
    valid = form.validate()
    text = (form.text.data or "").strip()
    if form.outcome.data not in {value for value, _label in form.outcome.choices}:
        form.outcome.errors = [_("Choose a decision.")]
        valid = False
    if form.outcome.data in TEXT_REQUIRED and not text:
        form.text.errors = [_("Write the reasoning or the message to the applicant.")]
        valid = False
    elif len(text) > MAX_TEXT:
        form.text.errors = [ngettext("Write at most %(num)d character.", "Write at most %(num)d characters.", MAX_TEXT)]
        valid = False
    if form.outcome.data == WITH_STEP_FORM:
        # Approving a step is what fills in its form; the other outcomes send the reasoning alone.
        valid = all([page_form.validate() for _page, page_form in built]) and valid
    return valid


def _service(service_id: str) -> Any:
    """Return the case's service from the catalogue, or None (a case outlives its service's listing)."""
    return catalogue_api.services_by_id({service_id}).get(service_id)


@bp.post("/<lang>/staff/cases/<case_id>/claim")
@staff
def claim(lang: str, case_id: str) -> BaseResponse:
    """Take a case to work on it (someone else may have taken it first: then the case says who)."""
    if not FlaskForm().validate():
        abort(400)
    found = staff_api.get_case(case_id)
    if found.can_be_claimed_by(get_current_user()):
        try:
            staff_api.claim(found)
        except RegistryConflict:
            flash(_("Another employee has taken this case."), "warning")
    return redirect_to(".case", lang=lang, case_id=found.id)


@bp.post("/<lang>/staff/cases/<case_id>/release")
@staff
def release(lang: str, case_id: str) -> BaseResponse:
    """Give a case back to the queue for someone else to take."""
    if not FlaskForm().validate():
        abort(400)
    found = staff_api.get_case(case_id)
    if found.can_be_released_by(get_current_user()):
        staff_api.release(found)
    return redirect_to(".case", lang=lang, case_id=found.id)


@bp.post("/<lang>/staff/cases/<case_id>/assign")
@staff
def assign(lang: str, case_id: str) -> BaseResponse:
    """Give a case to a colleague of the same institution (a choice of those the registry knows)."""
    if not FlaskForm().validate():
        abort(400)
    found = staff_api.get_case(case_id)
    to_sub = request.form.get("to", "")
    try:
        staff_api.assign(found, to_sub)
    except (RegistryValidationError, RegistryConflict):
        flash(_("The case could not be given to that person: choose a colleague from the list."), "error")
    else:
        flash(_("The case is given to the colleague you chose."), "success")
    return redirect_to(".case", lang=lang, case_id=found.id)


@bp.get("/<lang>/staff/cases/<case_id>/files/<file_id>")
@staff
def download_file(lang: str, case_id: str, file_id: str) -> Response:
    """Give an employee an attachment of a case, as a download that no browser renders or sniffs."""
    content, headers = staff_api.download(case_id, file_id)
    response = Response(content, mimetype=headers.get("Content-Type", "application/octet-stream"))
    response.headers["Content-Disposition"] = headers.get("Content-Disposition", "attachment")
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "no-store"
    return response
