"""Telling applicants what happened to their applications: the inbox, email, and later the official e-address.

A message is first stored in the applicant's inbox (`registry.models.messages`) in the same transaction as the
change it tells about, so the portal's "Paziņojumi" never misses one and never shows one for a change that was
rolled back. The other channels are *notifiers*, chosen by `REGISTRY_NOTIFIERS` (docs/registry.md, Notifications):
each gets the message and its recipient only **after** that transaction has committed, and a channel that fails is
logged and skipped: sending can never undo or break a decision.

A new channel (e-adrese) is a class with `name` and `send(message, recipient)`, registered with `register_notifier`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_PENDING = "pending_notifications"
_LISTENING = "notifications_listening"


@dataclass(frozen=True)
class Notification:
    """What the applicant is told: plain data, so it can be sent after the session's transaction has ended."""

    id: str
    application_id: str | None
    reference: str | None
    kind: str
    subject: Mapping[str, str]
    body: Mapping[str, str]
    at: str


@dataclass(frozen=True)
class Recipient:
    """Where the applicant can be reached: the principal (for the e-address later) and the email they gave, if any."""

    principal: str
    name: str
    email: str | None = None


class Notifier(Protocol):
    """A channel that delivers a stored message to its recipient; it raises on failure (the caller logs it)."""

    name: str

    def send(self, message: Notification, recipient: Recipient) -> None:
        """Deliver the message, or do nothing when the recipient cannot be reached this way."""


class InboxNotifier:
    """The portal inbox. The message is already stored with the change it tells about, so there is nothing to send.

    It is a notifier all the same, so `REGISTRY_NOTIFIERS` names every channel a message reaches.
    """

    name = "inbox"

    @classmethod
    def from_config(cls, _config: Mapping[str, Any]) -> InboxNotifier:
        """Return the inbox notifier (it has no settings)."""
        return cls()

    def send(self, message: Notification, recipient: Recipient) -> None:
        """Do nothing: the inbox row was written in the decision's transaction."""


NotifierFactory = Callable[[Mapping[str, Any]], Notifier]
_FACTORIES: dict[str, NotifierFactory] = {"inbox": InboxNotifier.from_config}


def register_notifier(name: str, factory: NotifierFactory) -> None:
    """Make a channel available to `REGISTRY_NOTIFIERS` under `name`; the factory builds it from the app config."""
    _FACTORIES[name] = factory


def notifier_names(setting: str) -> list[str]:
    """Return the channel names of a `REGISTRY_NOTIFIERS` value (`inbox,email`), in order, without repeats."""
    names: list[str] = []
    for part in setting.split(","):
        name = part.strip().lower()
        if name and name not in names:
            names.append(name)
    return names


def configured_notifiers(config: Mapping[str, Any]) -> list[Notifier]:
    """Build the channels `NOTIFIERS` names; an unknown name is logged and left out (the inbox always works)."""
    found: list[Notifier] = []
    for name in notifier_names(str(config.get("NOTIFIERS") or "inbox")):
        factory = _FACTORIES.get(name)
        if factory is None:
            log.error("REGISTRY_NOTIFIERS names an unknown notifier %r; it is left out", name)
            continue
        found.append(factory(config))
    return found


def _app_notifiers() -> list[Notifier]:
    notifiers: list[Notifier] | None = current_app.extensions.get("registry_notifiers")
    if notifiers is None:
        notifiers = configured_notifiers(current_app.config)
        current_app.extensions["registry_notifiers"] = notifiers
    return notifiers


def deliver(items: list[tuple[Notification, Recipient]], notifiers: list[Notifier]) -> dict[str, list[str]]:
    """Send each message through each channel; log failures (never the address) and go on. Return what failed."""
    failed: dict[str, list[str]] = {}
    for message, recipient in items:
        for notifier in notifiers:
            try:
                notifier.send(message, recipient)
            except Exception as exc:  # a failing channel stops neither the others nor the request
                # Only ids and the error's type: an SMTP error's text can carry the recipient's address.
                log.warning("notification %s not sent by %s: %s", message.id, notifier.name, type(exc).__name__)
                failed.setdefault(message.id, []).append(notifier.name)
    return failed


def send_after_commit(session: Session, message: Notification, recipient: Recipient) -> None:
    """Queue the message for the configured channels once `session` commits; a rollback forgets it."""
    pending: list[tuple[Notification, Recipient]] = session.info.setdefault(_PENDING, [])
    pending.append((message, recipient))
    session.info["notifiers"] = _app_notifiers()
    if session.info.get(_LISTENING):
        return
    session.info[_LISTENING] = True

    def _committed(committed: Session) -> None:
        items = committed.info.pop(_PENDING, [])
        if items:
            try:
                deliver(items, committed.info.get("notifiers", []))
            except Exception:  # pragma: no cover - deliver() already catches each channel's failure
                log.exception("notifications could not be delivered")

    def _rolled_back(rolled_back: Session, _transaction: Any = None) -> None:
        rolled_back.info.pop(_PENDING, None)

    event.listen(session, "after_commit", _committed)
    event.listen(session, "after_soft_rollback", _rolled_back)


# The channels this package ships register themselves when imported.
from registry.notify import mail  # noqa: E402, F401
