"""Email: a plain-text UTF-8 message, Latvian first and then English, through an SMTP server (standard library).

The outbox worker calls `send` (registry.notify.worker); a failure is retried later, except a permanent refusal of
the address (`PermanentFailure`).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

from registry.notify import Notification, PermanentFailure, Recipient, register_notifier

# A slow or unreachable mail server must not hold a worker for long (connect and each reply); the outbox's claim on a
# message (registry.models.outbox.LEASE) is far longer than a whole conversation.
TIMEOUT_SECONDS = 5.0
_SEPARATOR = "—" * 20
_FOOTER = {
    "lv": "Šis ir automātisks paziņojums; uz to nav jāatbild. Visi paziņojumi ir portāla sadaļā Paziņojumi.",
    "en": "This is an automatic message; you do not need to reply. All messages are in the portal under Messages.",
}


def email_text(message: Notification) -> str:
    """Return the body of the email: the Latvian text, then the English one, each with its subject."""
    parts = []
    for lang in ("lv", "en"):
        subject = message.subject.get(lang)
        body = message.body.get(lang)
        if subject or body:
            parts.append(f"{subject or ''}\n\n{body or ''}\n\n{_FOOTER[lang]}".strip())
    return f"\n\n{_SEPARATOR}\n\n".join(parts) + "\n"


def email_subject(message: Notification) -> str:
    """Return `Latvian subject / English subject` (one of them if the other is missing)."""
    return " / ".join(s for s in (message.subject.get("lv"), message.subject.get("en")) if s)


@dataclass(frozen=True)
class EmailNotifier:
    """Send each message to the email address the applicant gave in their application (none: nothing is sent)."""

    host: str
    port: int = 25
    starttls: bool = False
    username: str = ""
    password: str = ""
    mail_from: str = "noreply@localhost"
    timeout: float = TIMEOUT_SECONDS
    name: str = "email"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> EmailNotifier:
        """Build the notifier from the registry's SMTP_* and MAIL_FROM settings."""
        return cls(
            host=str(config.get("SMTP_HOST") or "localhost"),
            port=int(config.get("SMTP_PORT") or 25),
            starttls=bool(config.get("SMTP_STARTTLS")),
            username=str(config.get("SMTP_USERNAME") or ""),
            password=str(config.get("SMTP_PASSWORD") or ""),
            mail_from=str(config.get("MAIL_FROM") or "noreply@localhost"),
        )

    def build(self, message: Notification, recipient: Recipient) -> EmailMessage:
        """Return the email for one message (UTF-8 plain text, quoted-printable so any server accepts it)."""
        assert recipient.email is not None  # noqa: S101 - send() checks it
        email = EmailMessage()
        email["Subject"] = email_subject(message)
        email["From"] = self.mail_from
        email["To"] = Address(display_name=recipient.name, addr_spec=recipient.email)
        moment = datetime.fromisoformat(message.at.replace("Z", "+00:00"))
        email["Date"] = format_datetime(moment)
        domain = parseaddr(self.mail_from)[1].rpartition("@")[2] or "localhost"
        # The same for every attempt: should a message ever be sent twice (a worker stopped between sending and
        # recording it), mail programs show it once.
        email["Message-ID"] = f"<{message.id}@{domain}>"
        # RFC 3834: an automatic message, so auto-responders (out of office) do not answer it.
        email["Auto-Submitted"] = "auto-generated"
        email.set_content(email_text(message), charset="utf-8", cte="quoted-printable")
        return email

    def reaches(self, recipient: Recipient) -> bool:
        """Return whether the applicant gave an email address."""
        return bool(recipient.email)

    def send(self, message: Notification, recipient: Recipient) -> None:
        """Send the email, if the applicant gave an address; raise on any SMTP or network failure.

        A 5xx refusal of the address (no such mailbox) is a `PermanentFailure`: trying again cannot help. Anything
        else (connection refused, timeouts, 4xx "try later") may pass, and is retried.
        """
        if not recipient.email:
            return
        email = self.build(message, recipient)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as refused:
            codes = sorted({code for code, _reply in refused.recipients.values()})
            if codes and all(code >= 500 for code in codes):
                # Only the codes: the refusal itself quotes the address.
                raise PermanentFailure("address refused " + ",".join(str(code) for code in codes)) from None
            raise


register_notifier("email", EmailNotifier.from_config)
