"""Applying online: start or resume a draft, check the answers, submit once, follow it (pages: form_pages.py)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, abort, request, session, url_for
from flask import redirect as flask_redirect
from flask_babel import format_number
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response as BaseResponse

from app.access import signed_in
from app.auth.session import get_current_user
from app.delivery_points import current_point
from app.models import applications_api, catalogue_api, files_api, payments_api
from app.models.answer_display import answer_summary
from app.registry_client.errors import RegistryConflict, RegistryValidationError
from app.rendering import render
from app.views.documents import result_document
from forms.answers import clean_answers, normalise_answers, validate_answers
from forms.conditions import visible_pages
from forms.model import FormDefinition
from forms.validators import message
from forms.wtforms_builder import riga_today
from identity import is_assured

bp = Blueprint("applications", __name__)

CHECK = "check"
# Answering a request for more information (registry: POST /me/applications/<id>/information).
MAX_INFORMATION_TEXT = 5000
MAX_INFORMATION_FILES = 10
REGISTRY_FILE_LIMIT_MB = 20  # the registry's REGISTRY_MAX_FILE_BYTES (docs/registry.md)
ACCEPTED_TYPES = "PDF, JPG, PNG, EDOC, ASICE"  # what the registry keeps (found from the content)
_FILE_ID = re.compile(r"[0-9a-f]{32}")


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
    if not is_assured(get_current_user().acr, service.needed_acr):
        # An internet bank is not enough here (the registry would refuse): sign in again at the level it needs.
        retry = url_for("auth.sign_in", lang=lang, acr=service.needed_acr, next=request.path)
        return render("pages/auth/sign_in_failed.html", status=403, reason="acr", retry_url=retry)
    draft = applications_api.start_or_resume(service.id)
    definition = applications_api.form_definition(draft.service, draft.form, draft.form_version)
    shown = [p.id for p in visible_pages(definition, draft.answers)]
    page = draft.current_page if draft.current_page in (*shown, CHECK) else next_page(definition, draft.answers, None)
    if page == CHECK:
        return redirect_to(".check", lang=lang, draft_id=draft.id)
    return redirect_to(".page", lang=lang, draft_id=draft.id, page_id=page)


@bp.route("/<lang>/my/drafts/<draft_id>/check", methods=["GET", "POST"])
@signed_in
def check(lang: str, draft_id: str) -> Response | BaseResponse:
    """Read the answers back with change links, confirm the declaration, submit exactly once."""
    try:
        draft = applications_api.get_draft(draft_id)
    except NotFound:
        # No draft: perhaps sent by an earlier "send" whose answer was lost (the registry committed, then the
        # connection broke or the registry restarted). That send's key, still here, brings back its application.
        sent_key = session.get(f"submit-key-{draft_id}")
        if request.method == "POST" and (sent := applications_api.sent_before(draft_id, sent_key)) is not None:
            session.pop(f"submit-key-{draft_id}", None)
            return redirect_to(".application", lang=lang, application_id=sent.id)
        raise
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
        summary=answer_summary(definition, answers, lang),
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
    """Show a submitted application: reference, status, the decision or the institution's question, its timeline
    and the answers (printable)."""
    return _application_page(lang, applications_api.get_application(application_id))


def _application_page(
    lang: str, found: applications_api.Application, *, status: int = 200, answer: InformationAnswer | None = None
) -> Response:
    """Render the application page; `answer` is an answer to the institution's question to show again with errors."""
    definition = applications_api.form_definition(found.service, found.form, found.form_version)
    service = catalogue_api.get_service(current_point, found.service)
    return render(
        "pages/applications/application.html",
        status=status,
        application=found,
        service=service,
        summary=answer_summary(definition, found.answers, lang),
        form=FlaskForm(),
        result=result_document(found, service, lang) if found.has_result else None,
        answer=answer or InformationAnswer(),
        payments=payments_api.for_application(found.id),
    )


@dataclass
class InformationAnswer:
    """An answer to the institution's question as posted: the text as typed, files kept, problems by field id."""

    text: str = ""
    files: list[dict[str, Any]] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)


def _kept_files(posted: list[str]) -> list[dict[str, Any]]:
    """Return the files uploaded on an earlier try (hidden `kept_file` fields: "<id> <name>"); the registry checks
    that each is the person's own when the answer is sent."""
    kept = []
    for value in posted[:MAX_INFORMATION_FILES]:
        file_id, _, name = value.partition(" ")
        if _FILE_ID.fullmatch(file_id):
            kept.append({"file_id": file_id, "name": name[:120] or file_id})
    return kept


@bp.post("/<lang>/my/applications/<application_id>/information")
@signed_in
def answer_information(lang: str, application_id: str) -> Response | BaseResponse:
    """Answer the institution's request for more information with text and files; errors keep what was typed."""
    if not FlaskForm().validate():
        abort(400)
    found = applications_api.get_application(application_id)
    if not found.awaits_information:  # answered already (a double click, another tab): show where it stands
        return redirect_to(".application", lang=lang, application_id=application_id)
    answer = InformationAnswer(text=request.form.get("text", ""), files=_kept_files(request.form.getlist("kept_file")))
    text = answer.text.strip()
    if not text:
        answer.errors["information-text"] = [_("Enter your answer to the institution's question.")]
    elif len(text) > MAX_INFORMATION_TEXT:
        limit = format_number(MAX_INFORMATION_TEXT)
        answer.errors["information-text"] = [_("Your answer must be %(max)s characters or fewer.", max=limit)]
    # Files are stored even when the text is not right yet, so nobody has to choose them again.
    for upload in request.files.getlist("files")[:MAX_INFORMATION_FILES]:
        if not upload.filename:
            continue
        try:
            answer.files.append(files_api.store_upload(upload))
        except files_api.UploadRefused as refused:
            problem = message(refused.key, lang, types=ACCEPTED_TYPES, max=format_number(REGISTRY_FILE_LIMIT_MB))
            answer.errors.setdefault("information-files", []).append(
                _("%(name)s: %(problem)s", name=upload.filename, problem=problem)
            )
    if not answer.errors:
        try:
            applications_api.answer_information(found, text, [str(f["file_id"]) for f in answer.files])
        except RegistryConflict:
            return redirect_to(".application", lang=lang, application_id=application_id)
        except RegistryValidationError:
            # The text was checked here, so a kept file is gone (deleted, or taken by another answer): ask again.
            answer.files = []
            answer.errors["information-files"] = [message("file.missing", lang)]
        else:
            return redirect_to(".application", lang=lang, application_id=application_id)
    return _application_page(lang, found, status=422, answer=answer)


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
