"""The applicant's inbox ("Paziņojumi"): messages about their applications, newest first, and marking them read.

Whose messages they are comes only from the signed identity, as for applications: another principal's message is a
404, exactly like one that does not exist. Responses are personal and never cached.
"""

from __future__ import annotations

from flask import Response

from registry.api import api
from registry.api.personal import paging, private, resource_id, scrubbed
from registry.api.problems import ApiProblem
from registry.db import db_session
from registry.identity import require_identity
from registry.models.messages import list_messages, mark_read, message_document


@api.get("/me/messages")
@scrubbed
def my_messages() -> Response:
    """The principal's messages, newest first, with how many there are and how many are unread."""
    principal = require_identity().principal
    page, per_page = paging()
    inbox = list_messages(db_session(), principal, page, per_page)
    return private(
        {
            "items": [message_document(m) for m in inbox.items],
            "total": inbox.total,
            "unread": inbox.unread,
            "page": page,
            "per_page": per_page,
        }
    )


@api.post("/me/messages/<message_id>/read")
@scrubbed
def read_message(message_id: str) -> Response:
    """Mark one of the principal's messages read (again is harmless)."""
    principal = require_identity().principal
    session = db_session()
    if not mark_read(session, principal, resource_id(message_id, "message")):
        raise ApiProblem(404, "There is no such message.")
    session.commit()
    return private(None, 204)
