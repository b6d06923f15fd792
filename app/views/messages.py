"""The inbox ("Paziņojumi"): what happened to the person's applications, newest first, and marking messages read.

Marking read is a POST with a CSRF token, one small form per unread message, never a side effect of showing the
page: a GET changes nothing (QUALITY.md), so a prefetching browser, a link checker or a reload cannot mark a message
the person has not seen. Each message is shown in full in the list, so "opening" it is reading it there.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, g, redirect, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse

from app.access import signed_in
from app.auth.session import get_current_user
from app.models import messages_api
from app.rendering import render

bp = Blueprint("messages", __name__)
INBOX = "messages.inbox"


@bp.get("/<lang>/my/messages")
@signed_in
def inbox(lang: str) -> Response:
    """List the person's messages, newest first, the unread ones marked."""
    page = request.args.get("page", "1")
    if not page.isdigit() or not 1 <= int(page) <= 10_000:
        abort(404)
    found = messages_api.inbox(int(page))
    g.unread_messages = found.unread  # the account menu shows what this page just read
    return render("pages/messages/inbox.html", inbox=found, form=FlaskForm())


@bp.post("/<lang>/my/messages/<message_id>/read")
@signed_in
def mark_read(lang: str, message_id: str) -> BaseResponse:
    """Mark one message read and go back to it in the inbox."""
    if not FlaskForm().validate():
        abort(400)
    messages_api.mark_read(message_id)
    page = request.form.get("page", "1")
    target = url_for(".inbox", lang=lang, page=int(page) if page.isdigit() and int(page) > 1 else None)
    return redirect(f"{target}#message-{message_id}", 303)


@bp.before_app_request
def _count_unread() -> None:
    """Count the signed-in applicant's unread messages for the account menu, for whole pages only."""
    g.unread_messages = None
    if request.method != "GET" or request.headers.get("HX-Request") or request.endpoint in (None, "static", INBOX):
        return  # the inbox counts its own unread messages; a fragment has no account menu
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "does_not_extend_session", False) or getattr(view, "access", None) is None:
        return  # JSON and status endpoints, and anything that does not declare a page audience
    user = get_current_user()
    if user is None or user.is_employee:
        return
    g.unread_messages = messages_api.unread_count()


@bp.app_template_global()
def unread_messages() -> int | None:
    """Return the unread count this request already knows (None: unknown), for the account menu."""
    count: int | None = g.get("unread_messages")
    return count
