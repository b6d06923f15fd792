"""Telling applicants what happened to their applications: the inbox, email, and later the official e-address.

A message is stored in the applicant's inbox (`registry.models.messages`) in the same transaction as the change it
tells about, and so is one **outbox** row (`registry.models.outbox`) for every other channel that reaches the
applicant: a decision and what is to be sent about it are committed together or not at all. A worker
(`registry.notify.worker`: a thread in each registry process, or `flask --app registry send-notifications --loop`)
then hands each due row to its channel, a *notifier*, marks it sent, and retries a failure later with backoff. A
mail server that is slow or down therefore never holds or breaks a decision, and loses nothing
(docs/registry.md, Notifications).

A new channel (e-adrese) is a class with `name`, `reaches(recipient)` and `send(message, recipient)`, registered
with `register_notifier`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from flask import Flask

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notification:
    """What the applicant is told: plain data, as the outbox keeps it until it is sent."""

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


class PermanentFailure(Exception):
    """Raised by a notifier when trying again cannot help (the mail server refused the address for good).

    Its text is stored and logged: it must not contain the address or any other personal data.
    """


class Notifier(Protocol):
    """A channel that delivers a stored message to its recipient."""

    name: str

    def reaches(self, recipient: Recipient) -> bool:
        """Return whether there is anything to send to this recipient (False: no outbox row is written)."""

    def send(self, message: Notification, recipient: Recipient) -> None:
        """Deliver the message; raise on failure (`PermanentFailure` when a retry cannot help)."""


class InboxNotifier:
    """The portal inbox. The message is already stored with the change it tells about, so there is nothing to send.

    It is a notifier all the same, so `REGISTRY_NOTIFIERS` names every channel a message reaches.
    """

    name = "inbox"

    @classmethod
    def from_config(cls, _config: Mapping[str, Any]) -> InboxNotifier:
        """Return the inbox notifier (it has no settings)."""
        return cls()

    def reaches(self, _recipient: Recipient) -> bool:
        """Return False: the inbox row was written in the decision's transaction, nothing is queued for it."""
        return False

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


def app_notifiers(app: Flask) -> list[Notifier]:
    """Return the app's configured channels, built once."""
    notifiers: list[Notifier] | None = app.extensions.get("registry_notifiers")
    if notifiers is None:
        notifiers = configured_notifiers(app.config)
        app.extensions["registry_notifiers"] = notifiers
    return notifiers


def delivering(notifiers: list[Notifier]) -> dict[str, Notifier]:
    """Return the channels that have something to send (all but the inbox), by name."""
    return {notifier.name: notifier for notifier in notifiers if not isinstance(notifier, InboxNotifier)}


def describe_failure(error: BaseException) -> str:
    """Return what may be stored and logged about a failure: its type, an SMTP code, a `PermanentFailure`'s text.

    Never the text of any other error: an SMTP error can quote the recipient's address.
    """
    described = type(error).__name__
    code = getattr(error, "smtp_code", None)
    if isinstance(code, int):
        described += f" {code}"
    if isinstance(error, PermanentFailure) and str(error):
        described += f": {error}"
    return described[:200]


# The channels this package ships register themselves when imported.
from registry.notify import mail  # noqa: E402, F401
