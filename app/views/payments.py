"""Paying state fees: the application page's payments, "Pay", and the demonstration bank (DEMO_PAYMENTS).

The registry holds an application `awaiting_payment` until its fee is paid (docs/processing.md, Payments). "Pay"
asks the registry to start the payment and follows it to the provider's page. In development and tests that page
is the demonstration bank here: clearly marked, impossible to enable in production (app/config.py), it shows the
payee, purpose and amount from the registry's signed state and reports Pay / Payment fails / Cancel to the registry
as a provider would (a signed callback), then brings the person back to their application.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse

from app.access import public, signed_in
from app.models import payments_api
from app.registry_client.errors import RegistryConflict, RegistryNotFound
from app.rendering import render

bp = Blueprint("payments", __name__)

MAX_STATE = 2000  # a state is a few hundred characters; anything much longer is not one


def _see_other(endpoint: str, **values: str) -> BaseResponse:
    # 303 after a POST (POST/redirect/GET), as everywhere in the portal.
    return redirect(url_for(endpoint, **values), code=303)


@bp.post("/<lang>/my/applications/<application_id>/payments/<payment_id>/pay")
@signed_in
def pay(lang: str, application_id: str, payment_id: str) -> BaseResponse:
    """Start paying a fee of the person's application: off to the payment provider's page."""
    if not FlaskForm().validate():
        abort(400)
    try:
        target = payments_api.start(application_id, payment_id)
    except RegistryConflict:  # paid meanwhile (another tab, a double click): the page shows where it stands
        return _see_other("applications.application", lang=lang, application_id=application_id)
    return redirect(target, code=303)


def _demo_enabled() -> None:
    if not current_app.config.get("DEMO_PAYMENTS"):
        abort(404)


def _state() -> tuple[str, payments_api.DemoPayment | None]:
    source = request.form if request.method == "POST" else request.args
    state = source.get("state", "")[:MAX_STATE]
    return state, payments_api.read_state(state) if state else None


@bp.route("/<lang>/demo-bank/pay", methods=["GET", "POST"])
@public
def demo_bank(lang: str) -> Response | BaseResponse:
    """The demonstration bank: show the payee, purpose and amount; Pay, fail or cancel, then back to the portal."""
    _demo_enabled()
    state, payment = _state()
    if payment is None:
        return render("pages/payments/demo_bank_expired.html", status=400)
    if request.method == "GET":
        return render("pages/payments/demo_bank.html", payment=payment, state=state)
    if not FlaskForm().validate():
        abort(400)
    result = request.form.get("result", "")
    try:
        status = payments_api.report(payment, result)
    except RegistryNotFound:
        abort(404)
    except RegistryConflict:
        # Paid already (a second click, another tab): the application page shows the payment as it stands.
        status = "paid"
    messages = {
        "paid": _("The payment has been received. The institution will now process your application."),
        "failed": _("The payment did not go through. No money was taken; you can try again."),
        "cancelled": _("You cancelled the payment. Your application waits until the fee is paid."),
    }
    if status in messages:
        flash(messages[status], "payment")
    return _see_other("applications.application", lang=lang, application_id=payment.application_id)
