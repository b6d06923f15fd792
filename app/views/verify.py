"""Check a result document: anyone holding its verification code sees whether it is genuine, on any delivery point.

No sign-in: a bank, an employer or another office is handed the paper and checks it here. The page shows only what
the paper itself says to whoever holds it (reference, service, result, date, institution), never who applied.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from app.access import public
from app.models import applications_api, catalogue_api
from app.rendering import render

bp = Blueprint("verify", __name__)

MAX_TYPED = 100  # a code is 14 characters; anything much longer is not worth reading


@bp.before_request
def _check_lang() -> BaseResponse | None:
    # The address is printed on result documents: an unknown language gets the same page in Latvian.
    lang = (request.view_args or {}).get("lang")
    if lang is not None and lang not in current_app.config["LANGUAGES"]:
        return redirect(request.full_path.rstrip("?").replace(f"/{lang}/", "/lv/", 1))
    return None


def _not_kept(response: Response) -> Response:
    # The code works like a password to these facts: no cache on the way keeps the page.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<lang>/verify")
@public
def verify_form(lang: str) -> Response | BaseResponse:
    """Ask for a verification code (a GET form); a code that can be one goes to its check page."""
    typed = request.args.get("code", "")[:MAX_TYPED]
    if not typed.strip():
        return _not_kept(render("pages/verify/verify.html", typed="", error=None))
    code = applications_api.printed_code(typed)
    if code is None:
        error = _("Enter the code as it is printed on the document: 12 letters and digits, like 7K3M-9QXR-2ABC.")
        return _not_kept(render("pages/verify/verify.html", status=400, typed=typed, error=error))
    return redirect(url_for(".verify_code", lang=lang, code=code))


@bp.get("/<lang>/verify/<code>")
@public
def verify_code(lang: str, code: str) -> Response | BaseResponse:
    """Say whether the result document with this code is genuine, with its reference, service, result and date."""
    printed = applications_api.printed_code(code[:MAX_TYPED])
    if printed is not None and printed != code:
        return redirect(url_for(".verify_code", lang=lang, code=printed))  # one address per code, as printed
    found = applications_api.verify(printed) if printed is not None else None
    if found is None:
        return _not_kept(render("pages/verify/not_found.html", status=404, typed=code[:MAX_TYPED], error=None))
    service = catalogue_api.services_by_id({found.service}).get(found.service)
    institution = catalogue_api.institutions().get(found.institution or "")
    return _not_kept(render("pages/verify/genuine.html", result=found, service=service, institution=institution))
