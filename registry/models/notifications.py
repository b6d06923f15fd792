"""What the applicant is told when their case changes, in plain Latvian and English (docs/registry.md, Notifications).

A decision on a step makes at most one message: the application decided (approved or refused), more information
requested, or the case passed on to another institution's step. Returning a case to an earlier step, or a step that
stays within the same institution, is the institutions' own business and tells the applicant nothing new. The
message is stored in the inbox, and queued in the outbox for every other channel that reaches the applicant, in the
session of the decision: the caller commits all of it together, and the outbox worker sends it (registry.notify).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.models.applications import timestamp
from registry.models.cases import process_of
from registry.models.forms import get_form, loaded
from registry.models.messages import create_message
from registry.models.outbox import enqueue
from registry.models.payments import PAYABLE, amount_text
from registry.models.reference import get_institution
from registry.models.tables import Application, CaseEvent, Message, Payment
from registry.notify import Notification, Recipient, app_notifiers
from registry.notify.worker import wake_after_commit

LANGS = ("lv", "en")
# Where seeded application forms ask for an email address; any other question of type `email` counts too.
EMAIL_QUESTIONS = ("contact_email", "notification_email")

_TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "payment": {
        "lv": (
            "Maksājums par pieteikumu {reference} saņemts",
            "Esam saņēmuši {amount} EUR par pakalpojumu “{service}” (pieteikums {reference}). Iestāde tagad izskatīs "
            "jūsu pieteikumu; tā gaitu varat sekot sadaļā Mani pieteikumi.",
        ),
        "en": (
            "Payment for application {reference} received",
            "We have received EUR {amount} for “{service}” (application {reference}). The institution will now "
            "process your application; you can follow it in My applications.",
        ),
    },
    # A fee due after the decision has arrived: the result document is issued now.
    "payment_result": {
        "lv": (
            "Maksājums par pieteikumu {reference} saņemts",
            "Esam saņēmuši {amount} EUR par pakalpojumu “{service}” (pieteikums {reference}). Rezultāta dokuments "
            "ar pārbaudes kodu ir pieejams sadaļā Mani pieteikumi.",
        ),
        "en": (
            "Payment for application {reference} received",
            "We have received EUR {amount} for “{service}” (application {reference}). The result document, with "
            "its verification code, is ready in My applications.",
        ),
    },
    # kind or result -> language -> (subject, body); {reference}, {service}, {institution}, {text} are filled in.
    "approved": {
        "lv": (
            "Pieņemts lēmums par pieteikumu {reference}",
            "Jūsu pieteikums {reference} „{service}” ir izskatīts, un ir pieņemts lēmums to apmierināt.\n"
            "Lēmumu pieņēma: {institution}.\n\n"
            "Lēmumu varat apskatīt sadaļā Mani pieteikumi.",
        ),
        "en": (
            "Your application {reference} has been decided",
            'Your application {reference} for "{service}" has been decided: it has been approved.\n'
            "Decided by: {institution}.\n\n"
            "You can read the decision under My applications.",
        ),
    },
    # Approved, with a fee due after the decision ({amount}): the result document waits for it.
    "approved_fee": {
        "lv": (
            "Pieņemts lēmums par pieteikumu {reference}",
            "Jūsu pieteikums {reference} „{service}” ir izskatīts, un ir pieņemts lēmums to apmierināt.\n"
            "Lēmumu pieņēma: {institution}.\n\n"
            "Lai saņemtu rezultāta dokumentu, samaksājiet {amount} EUR sadaļā Mani pieteikumi. Dokumentu "
            "izsniegs, tiklīdz maksājums būs saņemts.",
        ),
        "en": (
            "Your application {reference} has been decided",
            'Your application {reference} for "{service}" has been decided: it has been approved.\n'
            "Decided by: {institution}.\n\n"
            "To receive the result document, pay EUR {amount} in My applications. It is issued as soon as the "
            "payment arrives.",
        ),
    },
    "refused": {
        "lv": (
            "Pieņemts lēmums par pieteikumu {reference}",
            "Jūsu pieteikums {reference} „{service}” ir izskatīts, un ir pieņemts lēmums to noraidīt.\n"
            "Lēmumu pieņēma: {institution}.\n\n"
            "Pamatojums:\n{text}\n\n"
            "Lēmumu varat apskatīt sadaļā Mani pieteikumi. Ja tam nepiekrītat, lēmumu var apstrīdēt; "
            "kā to izdarīt, ir norādīts lēmumā.",
        ),
        "en": (
            "Your application {reference} has been decided",
            'Your application {reference} for "{service}" has been decided: it has been refused.\n'
            "Decided by: {institution}.\n\n"
            "Reasons:\n{text}\n\n"
            "You can read the decision under My applications. If you disagree with it, you can challenge it; "
            "the decision says how.",
        ),
    },
    "information_request": {
        "lv": (
            "Pieteikumam {reference} vajadzīga papildu informācija",
            "Lai izskatītu Jūsu pieteikumu {reference} „{service}”, iestādei ({institution}) vajadzīga papildu "
            "informācija:\n\n{text}\n\n"
            "Atbildiet sadaļā Mani pieteikumi. Kamēr atbildes nav, pieteikums netiek izskatīts.",
        ),
        "en": (
            "More information is needed for your application {reference}",
            'To process your application {reference} for "{service}", {institution} needs more information:'
            "\n\n{text}\n\n"
            "Please answer under My applications. Your application waits until you answer.",
        ),
    },
    "step": {
        "lv": (
            "Pieteikums {reference} nodots nākamajai iestādei",
            "Jūsu pieteikuma {reference} „{service}” izskatīšana turpinās: pieteikums nodots nākamajai iestādei – "
            "{institution}.\n\n"
            "Jums nekas nav jādara; kad būs pieņemts lēmums, Jums to paziņosim.",
        ),
        "en": (
            "Your application {reference} has passed to {institution}",
            'Your application {reference} for "{service}" is moving on: it has passed to the next institution, '
            "{institution}.\n\n"
            "You do not need to do anything; we will tell you when it is decided.",
        ),
    },
}


def _text(value: Any, lang: str, fallback: str) -> str:
    """Return a {lv, en} text in `lang`, else in Latvian, else `fallback`."""
    if isinstance(value, dict):
        return str(value.get(lang) or value.get("lv") or fallback)
    return fallback


def _institution_names(session: Session, institution_id: str | None) -> dict[str, str]:
    document = get_institution(session, institution_id) if institution_id else None
    name = document.get("name") if document else None
    return {lang: _text(name, lang, institution_id or "") for lang in LANGS}


def applicant_email(session: Session, case: Application) -> str | None:
    """Return the first email address the applicant answered (contact_email, notification_email, any `email`)."""
    candidates = list(EMAIL_QUESTIONS)
    stored = get_form(session, case.service, case.form, case.form_version)
    if stored is not None:
        candidates += [q.id for q in loaded(stored).questions() if q.type == "email" and q.id not in candidates]
    answers = case.answers or {}
    for question in candidates:
        value = answers.get(question)
        if isinstance(value, str) and "@" in value.strip():
            return value.strip()
    return None


def _what_to_say(session: Session, case: Application, event: CaseEvent) -> tuple[str, str, str | None] | None:
    """Return (message kind, text key, institution it names) for a decision; None when it tells nothing new."""
    if event.outcome in ("approve", "refuse"):
        process = process_of(session, case)
        if event.outcome == "refuse" or process.is_last(event.step or ""):
            return "decision", "approved" if event.outcome == "approve" else "refused", event.institution
        following = process.after(event.step or "")
        if following is None or following.institution == event.institution:
            return None
        return "step", "step", following.institution
    if event.outcome == "request_info":
        return "information_request", "information_request", event.institution
    return None  # return: the case goes back to an earlier step; nothing changes for the applicant


def notify_decision(session: Session, case: Application, event: CaseEvent) -> Message | None:
    """Tell the applicant about a decision on their case: store and queue the message (the caller commits); or not."""
    said = _what_to_say(session, case, event)
    if said is None:
        return None
    kind, key, institution = said
    names = _institution_names(session, institution)
    owed = sum(
        p.amount_cents
        for p in session.scalars(select(Payment).where(Payment.application_id == case.id, Payment.status.in_(PAYABLE)))
    )
    if key == "approved" and owed:
        key = "approved_fee"  # charged by the decision (registry/models/payments.py `charge_after_decision`)
    return _tell(
        session,
        case,
        kind,
        key,
        lambda lang: {"institution": names[lang], "text": (event.text or "").strip(), "amount": amount_text(owed)},
    )


def notify_payment(session: Session, case: Application, amount: str) -> Message:
    """Tell the applicant their fee has arrived: the case goes to the institution now, or, for a fee due after the
    decision, the result document is issued."""
    key = "payment_result" if case.status == "decided" else "payment"
    return _tell(session, case, "payment", key, lambda lang: {"amount": amount})


def _tell(
    session: Session, case: Application, kind: str, key: str, values_for: Callable[[str], dict[str, str]]
) -> Message:
    """Store a message about a case in lv and en from the texts of `key`, and queue it for the other channels."""
    title = case.service.document.get("title")
    subject: dict[str, str] = {}
    body: dict[str, str] = {}
    for lang in LANGS:
        values = {"reference": case.reference, "service": _text(title, lang, case.service.id), **values_for(lang)}
        subject_template, body_template = _TEXTS[key][lang]
        subject[lang] = subject_template.format(**values)
        body[lang] = body_template.format(**values)
    message = create_message(
        session, principal=case.principal, application_id=case.id, kind=kind, subject=subject, body=body
    )
    notification = Notification(
        id=message.id,
        application_id=case.id,
        reference=case.reference,
        kind=kind,
        subject=subject,
        body=body,
        at=timestamp(message.at),
    )
    recipient = Recipient(principal=case.principal, name=case.applicant_name, email=applicant_email(session, case))
    if enqueue(session, notification, recipient, app_notifiers(current_app)):
        wake_after_commit(session)
    return message
