"""Applying online: start or resume a draft, answer it page by page, check, submit once, follow it."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, abort, request, session, url_for
from flask import redirect as flask_redirect
from flask_wtf import FlaskForm
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.wrappers import Response as BaseResponse

from app.access import signed_in
from app.delivery_points import current_point
from app.models import applications_api, catalogue_api
from app.models.answer_display import answer_lines
from app.registry_client.errors import RegistryValidationError
from app.rendering import render
from forms.answers import clean_answers, normalise_answers, validate_answers
from forms.conditions import visible_pages, visible_questions
from forms.model import FormDefinition
from forms.wtforms_builder import build_page_form, form_to_answers, riga_today

bp = Blueprint("applications", __name__)

CHECK = "check"


def _redirect(endpoint: str, **values: Any) -> BaseResponse:
    # 303 after a POST (POST/redirect/GET): the browser follows with a GET, and reloading never resends the form.
    return flask_redirect(url_for(endpoint, **values), code=303 if request.method == "POST" else 302)


def _next_page(definition: FormDefinition, answers: dict[str, Any], after: str | None) -> str:
    """Return the first shown page after `after` (None: the first page), or the check page."""
    pages = [p.id for p in visible_pages(definition, answers)]
    if after is None:
        return pages[0] if pages else CHECK
    if after not in pages:
        return pages[0] if pages else CHECK
    index = pages.index(after)
    return pages[index + 1] if index + 1 < len(pages) else CHECK


def _error_items(form: Any) -> list[tuple[str, str]]:
    """Return (field id, message) for every error of a built form, nested groups and addresses included."""
    items: list[tuple[str, str]] = []
    for bound in form:
        if bound.type == "CSRFTokenField":
            items += [("main", message) for message in bound.errors]
        elif bound.type == "FormField":
            items += _error_items(bound.form)
            items += [(bound.id, m) for m in (bound.errors if isinstance(bound.errors, list) else [])]
        elif bound.type == "FieldList":
            for entry in bound.entries:
                items += _error_items(entry.form)
            items += [(bound.id, m) for m in bound.errors if isinstance(m, str)]
        else:
            items += [(bound.id, m) for m in bound.errors if isinstance(m, str)]
    return items


def _shown_on_page(definition: FormDefinition, page_id: str, answers: dict[str, Any]) -> set[str]:
    """Return the ids of the questions of a page that take an answer and are shown for `answers`."""
    on_page = {q.id for q in definition.page(page_id).questions if q.type != "info"}
    return {q.id for q in visible_questions(definition, answers)} & on_page


@bp.get("/<lang>/services/<service_id>/apply")
@signed_in
def apply(lang: str, service_id: str) -> BaseResponse:
    """Start an application for a service, or resume the draft the person already has."""
    service = catalogue_api.get_service(current_point, service_id)
    if not service.can_apply_online:
        abort(404)
    draft = applications_api.start_or_resume(service.id)
    definition = applications_api.form_definition(draft.service, draft.form, draft.form_version)
    shown = [p.id for p in visible_pages(definition, draft.answers)]
    page = draft.current_page if draft.current_page in (*shown, CHECK) else _next_page(definition, draft.answers, None)
    if page == CHECK:
        return _redirect(".check", lang=lang, draft_id=draft.id)
    return _redirect(".page", lang=lang, draft_id=draft.id, page_id=page)


@bp.route("/<lang>/my/drafts/<draft_id>/pages/<page_id>", methods=["GET", "POST"])
@signed_in
def page(lang: str, draft_id: str, page_id: str) -> Response | BaseResponse:
    """Show one page of the form; a valid answer saves the draft and moves on (POST/redirect/GET)."""
    draft = applications_api.get_draft(draft_id)
    definition = applications_api.form_definition(draft.service, draft.form, draft.form_version)
    shown = [p.id for p in visible_pages(definition, draft.answers)]
    if page_id not in shown:
        abort(404)
    formdata = CombinedMultiDict((request.files, request.form)) if request.method == "POST" else None
    form = build_page_form(definition, page_id, lang=lang, formdata=formdata, data=draft.answers, base=FlaskForm)
    status = 200
    if request.method == "POST":
        adding = request.form.get("add_item")
        if adding and adding in form.meta.questions and form.meta.questions[adding].type == "group":
            form[adding].append_entry()  # "add another" without JavaScript: the same page, one more item
        elif form.validate():
            page_questions = {q.id for q in definition.page(page_id).questions}
            kept = {k: v for k, v in draft.answers.items() if k not in page_questions}
            answers = clean_answers(definition, {**kept, **form_to_answers(form)})
            # An answer may show a question on this same page that the form did not have yet (without JavaScript it
            # cannot appear in place): stay on the page so the person answers it before moving on.
            newly_shown = _shown_on_page(definition, page_id, answers) - set(form.meta.questions)
            following = page_id if newly_shown else _next_page(definition, answers, page_id)
            applications_api.save_draft(draft, answers, following)
            if following == CHECK:
                return _redirect(".check", lang=lang, draft_id=draft.id)
            return _redirect(".page", lang=lang, draft_id=draft.id, page_id=following)
        else:
            status = 422
    service = catalogue_api.get_service(current_point, draft.service)
    return render(
        "pages/applications/form_page.html",
        status=status,
        service=service,
        definition=definition,
        page=definition.page(page_id),
        form=form,
        errors=_error_items(form) if status == 422 else [],
        step=shown.index(page_id) + 1,
        steps=len(shown),
        previous=shown[shown.index(page_id) - 1] if shown.index(page_id) > 0 else None,
        draft=draft,
    )


def _summary(definition: FormDefinition, answers: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """Return the shown pages with their answered questions as lines of text, for reading back."""
    shown = {q.id for q in visible_questions(definition, answers)}
    return [
        {
            "page": p,
            "rows": [
                {"question": q, "lines": answer_lines(q, answers.get(q.id), lang)}
                for q in p.questions
                if q.id in shown and q.type not in ("info", "declaration")
            ],
        }
        for p in visible_pages(definition, answers)
    ]


@bp.route("/<lang>/my/drafts/<draft_id>/check", methods=["GET", "POST"])
@signed_in
def check(lang: str, draft_id: str) -> Response | BaseResponse:
    """Read the answers back with change links, confirm the declaration, submit exactly once."""
    draft = applications_api.get_draft(draft_id)
    definition = applications_api.form_definition(draft.service, draft.form, draft.form_version)
    answers = normalise_answers(definition, clean_answers(definition, draft.answers))
    problems = {
        k: v for k, v in validate_answers(definition, answers, today=riga_today()).items() if k != "declaration"
    }
    # One key per draft, kept in the session: double clicks and the back button resend the same key.
    key_name = f"submit-key-{draft.id}"
    idempotency_key = session.setdefault(key_name, uuid.uuid4().hex)
    form = FlaskForm()
    status = 200
    declaration_missing = False
    if request.method == "POST" and form.validate():
        declared = request.form.get("declaration") == "y"
        declaration_missing = definition.declaration is not None and not declared
        if not problems and not declaration_missing:
            submitted_answers = {**answers, "declaration": True} if definition.declaration is not None else answers
            applications_api.save_draft(draft, submitted_answers, CHECK)
            try:
                application = applications_api.submit(draft, idempotency_key)
            except RegistryValidationError as exc:
                problems = {str(e.get("pointer", "")).removeprefix("#/answers/"): [e["detail"]] for e in exc.errors}
            else:
                session.pop(key_name, None)
                return _redirect(".application", lang=lang, application_id=application.id)
        status = 422
    service = catalogue_api.get_service(current_point, draft.service)
    return render(
        "pages/applications/check.html",
        status=status,
        service=service,
        definition=definition,
        draft=draft,
        summary=_summary(definition, answers, lang),
        problems=problems,
        problem_questions=sorted({path.split("/")[0] for path in problems} & {q.id for q in definition.questions()}),
        declaration_missing=declaration_missing,
        form=form,
    )


@bp.get("/<lang>/my/applications")
@signed_in
def my_applications(lang: str) -> Response:
    """List the person's drafts (to resume on any device) and submitted applications."""
    drafts = applications_api.drafts()
    submitted = applications_api.applications()
    return render(
        "pages/applications/my_applications.html",
        drafts=drafts,
        applications=submitted,
        services=catalogue_api.services_by_id({d.service for d in drafts} | {a.service for a in submitted}),
    )


@bp.get("/<lang>/my/applications/<application_id>")
@signed_in
def application(lang: str, application_id: str) -> Response:
    """Show a submitted application: reference, what happens next, its timeline and the answers (printable)."""
    found = applications_api.get_application(application_id)
    definition = applications_api.form_definition(found.service, found.form, found.form_version)
    return render(
        "pages/applications/application.html",
        application=found,
        service=catalogue_api.get_service(current_point, found.service),
        summary=_summary(definition, found.answers, lang),
        form=FlaskForm(),
    )


@bp.post("/<lang>/my/applications/<application_id>/withdraw")
@signed_in
def withdraw(lang: str, application_id: str) -> BaseResponse:
    """Withdraw an application that is not decided yet."""
    if not FlaskForm().validate():
        abort(400)
    found = applications_api.get_application(application_id)
    if found.can_be_withdrawn:  # withdrawing twice (a double click) just shows the withdrawn application
        applications_api.withdraw(found)
    return _redirect(".application", lang=lang, application_id=application_id)
