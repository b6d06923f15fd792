"""The result document of a decided application, in one language: what its page and its PDF say.

Built once from what the view passes, so the page and the PDF cannot say different things. It carries the decision
(outcome, reasoning, institution, official, date), how to contest it (the service's `redress` from the registry),
and the verification code with the public address where anyone can check that the document is genuine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask_babel import format_date
from flask_babel import gettext as _

from app.documents.pdf import Writer, plain_text
from app.models.applications_api import Application
from app.models.catalogue import Institution, Service


@dataclass(frozen=True)
class ResultDocument:
    """Everything the result document says, already in the reader's language."""

    lang: str
    issuer: str
    kicker: str
    service_title: str
    reference: str
    approved: bool
    outcome: str
    facts: tuple[tuple[str, str], ...]
    reasoning_heading: str
    reasoning: tuple[str, ...]
    redress_heading: str
    redress: str  # registry Markdown (the page renders and sanitises it; the PDF prints it as plain text)
    redress_fallback: str
    verification_heading: str
    verification_code: str
    verification_url: str  # the page to type a code on (printed: short enough to type)
    check_url: str  # this document's own check page (a link on screen)
    verification_text: str

    @property
    def document_title(self) -> str:
        """Return the PDF's title: what it is, for which service, with the reference."""
        return f"{self.kicker} {self.reference} – {self.service_title}"


def outcome_name(result: str | None) -> str:
    """Name a decision's result the way the portal does."""
    return {"approved": _("Approved"), "refused": _("Refused")}.get(result or "", result or "")


def build_result(
    *,
    application: Application,
    service: Service,
    institution: Institution | None,
    issuer: str,
    verification_url: str,
    check_url: str,
    lang: str,
) -> ResultDocument:
    """Return the result document of a decided `application` in `lang` (the view checks `has_result` first)."""
    decision = application.decision
    assert decision is not None and application.verification_code  # noqa: S101 - the view only asks for decided ones
    title = service.title.get(lang) or service.title.get("lv", service.id)
    authority = (institution.name.get(lang) or institution.name.get("lv")) if institution else None
    day = application.decided_on
    outcome = outcome_name(application.result)
    facts = [
        (_("Reference number"), application.reference),
        (_("Result"), outcome),
        (_("Date of the decision"), format_date(day, "long") if day else ""),
        (_("Institution"), authority or decision.institution or service.competent_authority),
        (_("Decided by"), decision.decided_by),
    ]
    return ResultDocument(
        lang=lang,
        issuer=issuer,
        kicker=_("Decision"),
        service_title=title,
        reference=application.reference,
        approved=application.result == "approved",
        outcome=outcome,
        facts=tuple(facts),
        reasoning_heading=_("Reasoning"),
        reasoning=decision.reasoning,
        redress_heading=_("How to contest the decision"),
        redress=service.redress.get(lang) or service.redress.get("lv") or "",
        redress_fallback=_("The decision says how and where it can be contested."),
        verification_heading=_("Verification code"),
        verification_code=application.verification_code,
        verification_url=verification_url,
        check_url=check_url,
        verification_text=_(
            "Anyone this document is shown to can check that it is genuine at %(url)s with the code %(code)s.",
            url=verification_url,
            code=application.verification_code,
        ),
    )


def result_writer(document: ResultDocument, font_dir: str | Path) -> Writer:
    """Lay out a result document; the writer holds the pages (`to_bytes()`) and the texts laid out (`written`)."""
    pdf = Writer(
        font_dir,
        lang=document.lang,
        title=document.document_title,
        author=document.issuer,
        footer=f"{document.reference} · {document.verification_code}",
    )
    pdf.letterhead(document.issuer, document.kicker, document.service_title, document.facts)
    if document.reasoning:
        pdf.heading(document.reasoning_heading, level=2)
        for paragraph in document.reasoning:
            pdf.paragraph(paragraph)
    pdf.heading(document.redress_heading, level=2)
    pdf.paragraph(plain_text(document.redress) if document.redress else document.redress_fallback)
    pdf.heading(document.verification_heading, level=2)
    pdf.paragraph(document.verification_code, size=14, bold=True, after=2)
    pdf.paragraph(document.verification_text)
    return pdf


def result_pdf(document: ResultDocument, font_dir: str | Path) -> bytes:
    """Return the result document as a PDF."""
    return result_writer(document, font_dir).to_bytes()
