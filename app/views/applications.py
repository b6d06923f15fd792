"""Applying online: start or resume a draft, check the answers, submit once, follow it (pages: form_pages.py)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, abort, request, session, url_for
from flask import redirect as flask_redirect
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse

from app.access import signed_in
from app.auth.session import get_current_user
from app.delivery_points import current_point
from app.models import applications_api, catalogue_api
from app.models.answer_display import answer_lines
from app.registry_client.errors import RegistryValidationError
from app.rendering import render
from forms.answers import clean_answers, normalise_answers, validate_answers
from forms.conditions import visible_pages, visible_questions
from forms.model import FormDefinition
from forms.wtforms_builder import riga_today

bp = Blueprint("applications", __name__)

CHECK = "check"


def redirect_to(endpoint: str, **values: Any) -> BaseResponse:
    # 303 after a POST (POST/redirect/GET): the browser follows with a GET, and reloading never resends the form.
    return flask_redirect(url_for(endpoint, **values), code=303 if request.method == "POST" else 302)


def next_page(definition: FormDefinition, answers: dict[str, Any], after: str | None) -> str:
    """Return the first shown page after `after` (None: the first page), or the check page."""
    pages = [p.id for p in visible_pages(definition, answers)]
    if after is None:
        return pages[0] if pages else CHECK
    if after not in pages:
        return pages[0] if pages else CHECK
    index = pages.index(after)
    return pages[index + 1] if index + 1 < len(pages) else CHECK


@bp.get("/<lang>/services/<service_id>/apply")
@signed_in
def apply(lang: str, service_id: str) -> BaseResponse:
    """Start an application for a service, or resume the draft the person already has."""
    service = catalogue_api.get_service(current_point, service_id)
    if not service.is_applied_for_here:
        abort(404)
    if not service.is_for(get_current_user()):
        # The registry would refuse the draft (403): say why here, rather than a "not available" page.
        return render("pages/applications/not_for_you.html", status=403, service=service)
    draft = applications_api.start_or_resume(service.id)
    definition = applications_api.form_definition(draft.service, draft.form, draft.form_version)
    shown = [p.id for p in visible_pages(definition, draft.answers)]
    page = draft.current_page if draft.current_page in (*shown, CHECK) else next_page(definition, draft.answers, None)
    if page == CHECK:
        return redirect_to(".check", lang=lang, draft_id=draft.id)
    return redirect_to(".page", lang=lang, draft_id=draft.id, page_id=page)


def _summary(definition: FormDefinition, answers: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """Return the shown pages with their answered questions as lines of text, for reading back."""
    shown = {q.id for q in visible_questions(definition, answers)}
    return [
        {
            "page": p,
            "rows": [
                {"question": q, "lines": answer_lines(q, answers.get(q.id), lang), "value": answers.get(q.id)}
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
                return redirect_to(".application", lang=lang, application_id=application.id)
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
    return redirect_to(".application", lang=lang, application_id=application_id)


# The form pages register their routes on `bp` (a module of their own, like the registry's API modules).
from app.views import form_pages  # noqa: E402, F401
