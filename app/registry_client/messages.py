"""The applicant's inbox ("Paziņojumi"): list messages and mark one read, one line each.

Messages are personal: they go with the person's signed identity token in `X-Portal-Identity`, are never cached and
never logged. Ids that cannot be message ids are refused before any request.
"""

from __future__ import annotations

from typing import Any, Final

from .catalogue import API
from .errors import RegistryError
from .personal import PersonalClient, identity_headers, resource_id

MAX_PER_PAGE: Final = 100


class MessagesClient(PersonalClient):
    """A person's messages about their applications (uncached, with their identity token)."""

    def list_messages(self, identity_token: str, *, page: int = 1, per_page: int = 20) -> dict[str, Any]:
        """Return the person's messages, newest first: items, total, unread, page, per_page."""
        if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"page starts at 1 and per_page is 1 to {MAX_PER_PAGE}")
        headers = identity_headers(identity_token)
        params: dict[str, str | int | None] = {"page": page, "per_page": per_page}
        _, data = self.send_json("GET", API + "me/messages", params=params, headers=headers)
        if not isinstance(data, dict):
            raise RegistryError(f"expected a JSON object from GET me/messages, got {type(data).__name__}")
        return data

    def mark_read(self, identity_token: str, message_id: str) -> None:
        """Mark one of the person's messages read (RegistryNotFound for anybody else's); sent once."""
        path = f"{API}me/messages/{resource_id(message_id, 'message')}/read"
        self.send_json("POST", path, headers=identity_headers(identity_token))
