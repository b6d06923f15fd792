"""Documents to keep or print: the PDF receipt of an application, and the printable form of a level 2 service."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, current_app, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.access import public, signed_in
from app.delivery_points import current_point
from app.documents.pdf import form_pdf as lay_out_form
from app.documents.pdf import receipt_pdf as lay_out_receipt
from app.documents.printable_form import PrintableForm, build_printable_form
from app.documents.receipt import build_receipt
from app.documents.result import ResultDocument, build_result, result_pdf
from app.models import applications_api, catalogue_api
from app.models.applications_api import Application
from app.models.catalogue import Service
from app.rendering import render

bp = Blueprint("documents", __name__)

PRINTABLE_LEVEL = 2  # level 2 services hand out forms to print; from level 3 people apply online instead
_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]")


@bp.before_request
def _check_lang() -> BaseResponse | None:
    # Form addresses end up on paper, like the public pages: an unknown language gets the Latvian document.
    lang = (request.view_args or {}).get("lang")
    if lang is not None and lang not in current_app.config["LANGUAGES"]:
        return redirect(request.path.replace(f"/{lang}/", "/lv/", 1))
    return None


def _pdf(content: bytes, file_name: str, *, personal: bool) -> Response:
    """Return a PDF download; a personal one is never stored by a cache."""
    safe_name = _UNSAFE_IN_FILE_NAME.sub("_", file_name) or "document"
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{safe_name}.pdf"'
    if personal:
        response.headers["Cache-Control"] = "no-store"
    else:
        response.cache_control.public = True
        response.cache_control.max_age = 300
    return response


@bp.get("/<lang>/my/applications/<application_id>/receipt.pdf")
@signed_in
def receipt_pdf(lang: str, application_id: str) -> Response:
    """Download the receipt of a submitted application as a PDF: reference, status, what happens next, answers."""
    found = applications_api.get_application(application_id)
    definition = applications_api.form_definition(found.service, found.form, found.form_version)
    service = catalogue_api.get_service(current_point, found.service)
    receipt = build_receipt(
        application=found,
        service=service,
        institution=catalogue_api.institutions().get(service.competent_authority),
        definition=definition,
        issuer=current_point.text(current_point.name, lang),
        lang=lang,
    )
    return _pdf(lay_out_receipt(receipt, current_app.config["PDF_FONT_DIR"]), found.reference, personal=True)


def result_document(application: Application, service: Service, lang: str) -> ResultDocument:
    """Return the result document of a decided application (`has_result`), as its page, the PDF and the
    application page show it; the verification addresses are on this delivery point."""
    decision = application.decision
    authority = decision.institution if decision is not None and decision.institution else service.competent_authority
    return build_result(
        application=application,
        service=service,
        institution=catalogue_api.institutions().get(authority),
        issuer=current_point.text(current_point.name, lang),
        verification_url=url_for("verify.verify_form", lang=lang, _external=True),
        check_url=url_for("verify.verify_code", lang=lang, code=application.verification_code, _external=True),
        lang=lang,
    )


def _result(lang: str, application_id: str) -> ResultDocument:
    """Return the result document of one of the person's decided applications, or abort with 404."""
    found = applications_api.get_application(application_id)
    if not found.has_result:
        abort(404)  # not decided (yet): there is no result document
    return result_document(found, catalogue_api.get_service(current_point, found.service), lang)


@bp.get("/<lang>/my/applications/<application_id>/result")
@signed_in
def result(lang: str, application_id: str) -> Response:
    """Show the decision on an application as a document to keep: result, reasoning, redress, verification code."""
    return render("pages/results/result.html", document=_result(lang, application_id), application_id=application_id)


@bp.get("/<lang>/my/applications/<application_id>/result.pdf")
@signed_in
def result_pdf_download(lang: str, application_id: str) -> Response:
    """Download the decision on an application as a PDF, with the code anyone can check it with."""
    document = _result(lang, application_id)
    content = result_pdf(document, current_app.config["PDF_FONT_DIR"])
    return _pdf(content, f"{document.reference}-result", personal=True)


def _printable_form(lang: str, service_id: str) -> PrintableForm:
    """Return the paper form of a level 2 service offered on this point, or abort with 404."""
    service = catalogue_api.get_service(current_point, service_id)
    if service.level != PRINTABLE_LEVEL:
        abort(404)
    definition = applications_api.form_definition(service.id, "application")  # 404 when it has no form
    return build_printable_form(
        definition=definition,
        service=service,
        institution=catalogue_api.institutions().get(service.competent_authority),
        lang=lang,
    )


@bp.get("/<lang>/services/<service_id>/form")
@public
def printable_form(lang: str, service_id: str) -> Response:
    """Show the application form of a level 2 service as a page to print and fill in by hand."""
    return render("pages/documents/printable_form.html", form=_printable_form(lang, service_id))


@bp.get("/<lang>/services/<service_id>/form.pdf")
@public
def form_pdf(lang: str, service_id: str) -> Response:
    """Download the application form of a level 2 service as a PDF to print and fill in by hand."""
    form = _printable_form(lang, service_id)
    return _pdf(lay_out_form(form, current_app.config["PDF_FONT_DIR"]), f"{service_id}-{lang}", personal=False)
