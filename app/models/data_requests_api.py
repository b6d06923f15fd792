"""Level 5 for the staff area: questions an institution asks another about a case's applicant, and the answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import abort, current_app

from app.auth.session import identity_token
from app.registry_client.errors import RegistryNotFound
from app.registry_client.staff import StaffClient


def _client() -> StaffClient:
    client: StaffClient = current_app.extensions["staff_client"]
    return client


def _moment(value: object) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None


@dataclass(frozen=True)
class DataRequest:
    """A question from one institution to another, and its answer once given."""

    id: str
    case: str | None  # only the asking institution sees which case it is about
    from_institution: str
    to_institution: str
    subject: str
    text: str
    asked_by: str
    asked_at: datetime | None
    status: str
    answer: str | None
    answered_by: str | None
    answered_at: datetime | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DataRequest:
        """Wrap a registry data request."""
        return cls(
            id=data["id"],
            case=data.get("case"),
            from_institution=data["from_institution"],
            to_institution=data["to_institution"],
            subject=data.get("subject", ""),
            text=data.get("text", ""),
            asked_by=data.get("asked_by", ""),
            asked_at=_moment(data.get("asked_at")),
            status=data.get("status", "open"),
            answer=data.get("answer"),
            answered_by=data.get("answered_by"),
            answered_at=_moment(data.get("answered_at")),
        )

    @property
    def is_open(self) -> bool:
        return self.status == "open"


def ask(case_id: str, to_institution: str, text: str) -> DataRequest:
    """Ask another institution about the case's applicant."""
    return DataRequest.from_json(
        _client().ask_institution(identity_token(), case_id, to_institution=to_institution, text=text)
    )


def requests_of(*, outgoing: bool) -> tuple[DataRequest, ...]:
    """The requests the employee's institution was asked (or asked), newest first."""
    data = _client().list_data_requests(identity_token(), outgoing=outgoing)
    return tuple(DataRequest.from_json(item) for item in data["items"])


def get(request_id: str) -> DataRequest:
    """One request of the employee's institution, or abort with 404."""
    try:
        return DataRequest.from_json(_client().get_data_request(identity_token(), request_id))
    except RegistryNotFound:
        abort(404)


def answer(request: DataRequest, text: str) -> DataRequest:
    """Answer a request the employee's institution was asked."""
    return DataRequest.from_json(_client().answer_data_request(identity_token(), request.id, text))
