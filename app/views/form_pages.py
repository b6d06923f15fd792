"""The pages of a form: answer page by page (POST/redirect/GET), or with htmx as the person goes; attached files.

Without JavaScript a page posts as a whole: valid answers (and new uploads, stored in the registry) save the draft
and lead to the next shown page; errors come back with a summary naming each question. With JavaScript the form
also posts every change to `live`, which answers with the parts of the page that changed (docs/portal.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, abort, request, url_for
from flask_wtf import FlaskForm
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.wrappers import Response as BaseResponse

from app.access import signed_in
from app.auth import take_stashed_form
from app.auth.session import stash_form
from app.delivery_points import current_point
from app.models import applications_api, catalogue_api, files_api
from app.registry_client.errors import RegistryError
from app.rendering import render
from app.views.applications import CHECK, bp, next_page, redirect_to
from app.views.form_errors import error_items
from forms.answers import clean_answers, error_text
from forms.conditions import visible_pages, visible_questions
from forms.model import FormDefinition
from forms.wtforms_builder import build_page_form, form_to_answers, pending_uploads

# The questions a page showed, posted with it: a question an answer revealed since is asked, not reported missing.
ASKED_FIELD = "asked"


def _shown_on_page(definition: FormDefinition, page_id: str, answers: dict[str, Any]) -> set[str]:
    """Return the ids of the questions of a page that are shown for `answers` (info texts included)."""
    on_page = {q.id for q in definition.page(page_id).questions}
    return {q.id for q in visible_questions(definition, answers)} & on_page


def _asked(definition: FormDefinition, page_id: str) -> set[str] | None:
    """Return the questions the posted page showed (its `asked` field), or None when it did not say."""
    listed = request.form.get(ASKED_FIELD)
    if listed is None:
        return None
    return set(listed.split()) & {q.id for q in definition.page(page_id).questions}


def _page_form(
    definition: FormDefinition, page_id: str, lang: str, saved: dict[str, Any], formdata: Any, asked: set[str] | None
) -> tuple[Any, dict[str, Any]]:
    """Build a page's form from what was posted, and return it with the answers it gives (not yet validated).

    An answer on the page can show or hide other questions of the page, so the form is built again from the new
    answers until the questions stay the same (conditions are acyclic, so this ends within a few rounds).
    """
    page_questions = {q.id for q in definition.page(page_id).questions}
    answers = dict(saved)
    for _ in range(len(page_questions) + 1):
        form = build_page_form(
            definition, page_id, lang=lang, formdata=formdata, data=answers, base=FlaskForm, asked=asked
        )
        posted = {k: v for k, v in saved.items() if k not in page_questions} | form_to_answers(form)
        if _shown_on_page(definition, page_id, posted) == _shown_on_page(definition, page_id, answers):
            return form, posted
        answers = posted
    return form, answers


def _store_uploads(form: Any, lang: str) -> bool:
    """Store every new upload of a valid form in the registry; put refusals next to their fields. True if all kept."""
    return all([_store_upload(question, bound, lang) for question, bound in pending_uploads(form)])


def _store_upload(question: Any, bound: Any, lang: str) -> bool:
    """Store one new upload and make the field's data the answer that points to it; False (and an error) if refused."""
    try:
        bound.data = files_api.store_upload(bound.data)
    except files_api.UploadRefused as refused:
        bound.errors = [*bound.errors, error_text(question, refused.key, lang)]
        # The file attached before (if any) is still the answer: show it beside the error.
        bound.data = bound.object_data if isinstance(bound.object_data, Mapping) else None
        return False
    return True


def _registry_failed(error: RegistryError) -> bool:
    """Say whether `error` is an outage (no answer, too slow, 5xx, 408, 429, a broken body), not an answer."""
    return error.status is None or error.status in (408, 429) or not 400 <= error.status < 500


@bp.route("/<lang>/my/drafts/<draft_id>/pages/<page_id>", methods=["GET", "POST"])
@signed_in
def page(lang: str, draft_id: str, page_id: str) -> Response | BaseResponse:
    """Show one page of the form; a valid answer saves the draft and moves on (POST/redirect/GET).

    When the registry fails while a page is posted, what was typed is kept: stashed in the session for the next
    GET of the page (app.auth.take_stashed_form), and, if the draft could be read, shown again at once (503).
    """
    try:
        return _page(lang, draft_id, page_id)
    except RegistryError:
        if request.method == "POST":
            stash_form(request.path, request.form)  # the 503 page says nothing entered has been lost
        raise


def _page(lang: str, draft_id: str, page_id: str) -> Response | BaseResponse:
    draft = applications_api.get_draft(draft_id)
    definition = applications_api.form_definition(draft.service, draft.form, draft.form_version)
    shown = [p.id for p in visible_pages(definition, draft.answers)]
    if page_id not in shown:
        abort(404)
    status = 200
    if request.method == "POST":
        formdata = CombinedMultiDict((request.files, request.form))
        asked = _asked(definition, page_id)
        form, _ = _page_form(definition, page_id, lang, draft.answers, formdata, asked)
        adding = request.form.get("add_item")
        removing = request.form.get("remove_file")
        if adding and adding in form.meta.questions and form.meta.questions[adding].type == "group":
            form[adding].append_entry()  # "add another" without JavaScript: the same page, one more item
        elif removing and removing in form.meta.questions and form.meta.questions[removing].type == "file":
            _remove_file(draft, removing)
            return redirect_to(".page", lang=lang, draft_id=draft.id, page_id=page_id)
        elif form.validate() and _store_uploads(form, lang):
            page_questions = {q.id for q in definition.page(page_id).questions}
            kept = {k: v for k, v in draft.answers.items() if k not in page_questions}
            answers = clean_answers(definition, {**kept, **form_to_answers(form)})
            # An answer may show a question on this same page that the person was not shown yet (without
            # JavaScript it cannot appear in place): stay on the page so they answer it before moving on.
            newly_shown = _shown_on_page(definition, page_id, answers) - set(form.meta.questions)
            newly_shown -= {q.id for q in definition.page(page_id).questions if not q.has_answer}
            following = page_id if newly_shown else next_page(definition, answers, page_id)
            try:
                applications_api.save_draft(draft, answers, following)
            except RegistryError as error:
                if not _registry_failed(error):
                    raise
                # Not saved: the same page with what was typed, and why (and it is stashed, by page()).
                stash_form(request.path, request.form)
                unsaved = _render_page(lang, draft, definition, page_id, form, shown, 503, unsaved=True)
                unsaved.headers["Retry-After"] = "60"
                return unsaved
            take_stashed_form(request.path)  # saved: an answer kept from an earlier failed try is out of date
            if following == CHECK:
                return redirect_to(".check", lang=lang, draft_id=draft.id)
            return redirect_to(".page", lang=lang, draft_id=draft.id, page_id=following)
        else:
            status = 422
    else:
        # Typed on this page when the session ran out, and kept for after signing in again (app.access).
        stashed = take_stashed_form(request.path)
        form, _ = _page_form(definition, page_id, lang, draft.answers, stashed, None)
    return _render_page(lang, draft, definition, page_id, form, shown, status)


def _render_page(
    lang: str,
    draft: Any,
    definition: FormDefinition,
    page_id: str,
    form: Any,
    shown: list[str],
    status: int,
    *,
    unsaved: bool = False,
) -> Response:
    service = catalogue_api.get_service(current_point, draft.service)
    answers = {**draft.answers, **form_to_answers(form)}
    shows = {*form.meta.questions} | _info_ids(definition, page_id)
    return render(
        "pages/applications/form_page.html",
        status=status,
        service=service,
        definition=definition,
        page=definition.page(page_id),
        form=form,
        visible=_shown_on_page(definition, page_id, answers) & shows,
        errors=error_items(form) if status == 422 else [],
        step=shown.index(page_id) + 1,
        steps=len(shown),
        previous=shown[shown.index(page_id) - 1] if shown.index(page_id) > 0 else None,
        draft=draft,
        asked_field=ASKED_FIELD,
        unsaved=unsaved,
    )


def _info_ids(definition: FormDefinition, page_id: str) -> set[str]:
    return {q.id for q in definition.page(page_id).questions if not q.has_answer}


def _remove_file(draft: Any, question_id: str) -> None:
    """Take a file answer off the draft and delete the upload (a person who chose the wrong file)."""
    old = draft.answers.get(question_id)
    answers = {k: v for k, v in draft.answers.items() if k != question_id}
    applications_api.save_draft(draft, answers, draft.current_page or CHECK)
    if isinstance(old, dict) and isinstance(old.get("file_id"), str):
        files_api.delete(old["file_id"])


# --- the same page with JavaScript: answers checked, questions shown and files stored as the person goes -------

# Fields whose value is typed: checked when the person leaves them. A choice cannot be wrong once made.
_TYPED_FIELDS = frozenset({"StringField", "TextAreaField", "EmailField", "TelField", "DateField"})


def _bound_fields(form: Any) -> dict[str, tuple[Any, Any]]:
    """Return every field of a built form by its HTML name, with its question (group items included)."""
    found: dict[str, tuple[Any, Any]] = {}
    for name, question in form.meta.questions.items():
        bound = form[name]
        found[bound.name] = (bound, question)
        if question.type == "group":
            for entry in bound.entries:
                found.update(_bound_fields(entry.form))
    return found


@bp.post("/<lang>/my/drafts/<draft_id>/pages/<page_id>/live")
@signed_in
def live(lang: str, draft_id: str, page_id: str) -> Response | BaseResponse:
    """Answer an htmx request from a form page with the parts of the page that changed (out-of-band swaps).

    The person changed a field (`_changed`): questions an answer shows or hides appear or disappear; a typed field
    the person has left is checked; a chosen file is stored at once (and saved in the draft). Or they pressed
    "Add another" (`add_item`): the group comes back with one more item. Without JavaScript the page itself does
    all of this on "Save and continue".
    """
    if request.headers.get("HX-Request") != "true":
        return redirect_to(".page", lang=lang, draft_id=draft_id, page_id=page_id)
    draft = applications_api.get_draft(draft_id)
    definition = applications_api.form_definition(draft.service, draft.form, draft.form_version)
    if page_id not in {p.id for p in visible_pages(definition, draft.answers)}:
        abort(404)
    formdata = CombinedMultiDict((request.files, request.form))
    before = _asked(definition, page_id) or set()
    form, answers = _page_form(definition, page_id, lang, draft.answers, formdata, None)
    if not form.validate() and "csrf_token" in form.errors:
        abort(400)
    changed = request.form.get("_changed", "")
    fields = _bound_fields(form)
    checked: list[tuple[Any, Any]] = []
    if changed in fields and changed in form.meta.questions and form.meta.questions[changed].type == "file":
        bound, question = fields[changed]
        if getattr(bound.data, "filename", None) and not bound.errors and _store_upload(question, bound, lang):
            # With what is on the page now: the answer that shows this question may not be saved yet.
            answers = clean_answers(definition, {**answers, changed: bound.data})
            applications_api.save_draft(draft, answers, draft.current_page or page_id)
        checked.append(fields[changed])
    elif changed in fields and fields[changed][0].type in _TYPED_FIELDS and not request.form.get("_focused"):
        checked.append(fields[changed])
    now = _shown_on_page(definition, page_id, answers)
    slots = [q for q in definition.page(page_id).questions if (q.id in now) != (q.id in before)]
    adding = request.form.get("add_item")
    if adding in form.meta.questions and form.meta.questions[adding].type == "group":
        form[adding].append_entry()
        slots.append(form.meta.questions[adding])
    return render(
        "partials/form_live.html",
        form=form,
        slots=slots,
        checked=checked,
        visible=now,
        asked_field=ASKED_FIELD,
        live_url=url_for(".live", lang=lang, draft_id=draft.id, page_id=page_id),
    )


@bp.get("/<lang>/my/files/<file_id>")
@signed_in
def download_file(lang: str, file_id: str) -> Response:
    """Give a person back a file they uploaded, as a download that no browser renders or sniffs."""
    content, headers = files_api.download(file_id)
    response = Response(content, mimetype=headers.get("Content-Type", "application/octet-stream"))
    response.headers["Content-Disposition"] = headers.get("Content-Disposition", "attachment")
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "no-store"
    return response
