"""The receipt of a submitted application, in one language: what the PDF shows, built from what the view passes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import format_date, format_time
from flask_babel import gettext as _

from app.models.answer_display import answer_summary
from app.models.applications_api import Application
from app.models.catalogue import Institution, Service
from forms.model import FormDefinition


@dataclass(frozen=True)
class AnswerSection:
    """A shown page of the form and its answers, each as (question label, lines of text)."""

    title: str
    rows: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Receipt:
    """Everything the receipt says, already in the reader's language."""

    lang: str
    issuer: str
    kicker: str
    service_title: str
    reference: str
    facts: tuple[tuple[str, str], ...]
    next_heading: str
    next_steps: tuple[str, ...]
    answers_heading: str
    sections: tuple[AnswerSection, ...]

    @property
    def document_title(self) -> str:
        """Return the PDF's title: what it is, for which service, with the reference."""
        return f"{self.kicker} {self.reference} – {self.service_title}"


def status_name(status: str) -> str:
    """Name an application status the way the receipt page does."""
    names = {
        "submitted": _("Submitted"),
        "in_progress": _("In progress"),
        "more_info_requested": _("More information requested"),
        "awaiting_payment": _("Awaiting payment"),
        "decided": _("Decided"),
        "withdrawn": _("Withdrawn"),
    }
    return names.get(status, status)


def _sent_at(timestamp: str) -> str:
    """Return the submission time in the portal's time zone (Riga), e.g. "2026. gada 2. novembris, 14:03"."""
    try:
        moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return timestamp
    return _("%(date)s at %(time)s", date=format_date(moment, "long"), time=format_time(moment, "HH:mm"))


def answer_sections(definition: FormDefinition, answers: dict[str, Any], lang: str) -> tuple[AnswerSection, ...]:
    """Return the shown pages with their answered questions as lines of text, as the receipt page reads them."""
    return tuple(
        AnswerSection(
            section["page"].title.get(lang),
            tuple(
                (
                    row["question"].label.get(lang) if row["question"].label else row["question"].id,
                    tuple(row["lines"]) or ("–",),
                )
                for row in section["rows"]
            ),
        )
        for section in answer_summary(definition, answers, lang)
    )


def build_receipt(
    *,
    application: Application,
    service: Service,
    institution: Institution | None,
    definition: FormDefinition,
    issuer: str,
    lang: str,
) -> Receipt:
    """Return the receipt of `application` in `lang` (`issuer`: the delivery point's name)."""
    title = service.title.get(lang) or service.title.get("lv", service.id)
    authority = (institution.name.get(lang) or institution.name.get("lv")) if institution else None
    facts = [
        (_("Reference number"), application.reference),
        (_("Status"), status_name(application.status)),
        (_("Sent"), _sent_at(application.submitted_at)),
        (_("Institution"), authority or service.competent_authority),
    ]
    next_steps: list[str] = []
    if application.status == "submitted":
        next_steps.append(
            _(
                "The institution will process your application. You will get a message in the portal when something "
                "changes, and you can follow it here and in My applications."
            )
        )
        processing = service.processing_time_text.get(lang) or service.processing_time_text.get("lv")
        if processing:
            next_steps.append(f"{_('Processing time')}: {processing}")
    return Receipt(
        lang=lang,
        issuer=issuer,
        kicker=_("Application receipt"),
        service_title=title,
        reference=application.reference,
        facts=tuple(facts),
        next_heading=_("What happens next"),
        next_steps=tuple(next_steps),
        answers_heading=_("Your answers"),
        sections=answer_sections(definition, application.answers, lang),
    )
