"""State fees of applications: what is due, the pending payment, and the payment provider's result.

Which fees an application owes is service data (the catalogue's `costs`, docs/processing.md "Payments"): a cost with
`payment: {when, online: true}` is paid online, and its optional `applies_if` (the forms package's `show_if`
format) is evaluated on the application's answers, so the amount can follow them (a small-capital company pays
less; urgent processing costs three times as much). A fee due `before_processing` keeps the application
`awaiting_payment` and its case out of every queue until the provider reports it paid.

The provider is sent to with a signed, expiring state (`payment_state`) and reports back with a signed callback
(registry/api/payments.py); `apply_result` is idempotent: the same result again changes nothing, a contradicting
one after "paid" is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from forms import model
from forms.conditions import is_visible
from registry.models.applications import new_id, timestamp, utc_now
from registry.models.results import issue_result
from registry.models.tables import Application, ApplicationEvent, Institution, Payment, Service

WHEN = ("before_processing", "after_decision")
RESULTS = ("paid", "failed", "cancelled")
# A payment the person may (still) be sent to the provider for: not started, or started and not paid.
PAYABLE = ("pending", "failed", "cancelled")
DEMO_PROVIDER = "demo"
STATE_SALT = "payment-state"
# How long the provider's page accepts the state it was sent with.
STATE_MAX_AGE_SECONDS = 15 * 60
_OPERATORS = ("equals", "one_of", "greater_than", "less_than")


class PaymentProblem(Exception):
    """A refused payment action: the HTTP status and why."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


# --- what is due -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """The sum of the fees an application owes at one moment, and what they are for."""

    amount_cents: int
    currency: str
    purpose: dict[str, str]


def condition(data: Mapping[str, Any]) -> model.Condition:
    """Build a forms condition from its catalogue form (validated by the catalogue schema's FeeCondition)."""
    if "not" in data:
        return model.Not(condition(data["not"]))
    if "all" in data:
        return model.All(tuple(condition(part) for part in data["all"]))
    if "any" in data:
        return model.Any(tuple(condition(part) for part in data["any"]))
    op = next(name for name in _OPERATORS if name in data)
    value = data[op]
    return model.Compare(data["question"], op, tuple(value) if isinstance(value, list) else value)


def cost_applies(cost: Mapping[str, Any], answers: Mapping[str, object]) -> bool:
    """Return whether a cost's `applies_if` holds for the answers (no condition: it always applies)."""
    applies_if = cost.get("applies_if")
    return applies_if is None or is_visible(condition(applies_if), answers)


def due_costs(service_document: Mapping[str, Any], answers: Mapping[str, object], when: str) -> list[dict[str, Any]]:
    """Return the costs paid online at `when` that apply to these answers, in catalogue order."""
    if when not in WHEN:
        raise ValueError(f"when is one of {', '.join(WHEN)}, not {when!r}")
    return [
        cost
        for cost in service_document.get("costs", [])
        if (cost.get("payment") or {}).get("online") is True
        and cost["payment"].get("when") == when
        and cost_applies(cost, answers)
    ]


def cents(amount: float | int | str) -> int:
    """Return an amount in euro as whole cents, rounded half up (never through binary floating point)."""
    return int((Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def amount_due(service_document: Mapping[str, Any], answers: Mapping[str, object], when: str) -> Due | None:
    """Return what the answers owe at `when` (one sum, one purpose), or None when nothing above 0 is due."""
    costs = due_costs(service_document, answers, when)
    total = sum(cents(cost["amount"]) for cost in costs)
    if total <= 0:
        return None
    purpose = {
        language: "; ".join(cost["description"].get(language) or cost["description"].get("lv", "") for cost in costs)
        for language in ("lv", "en")
    }
    return Due(amount_cents=total, currency=costs[0].get("currency", "EUR"), purpose=purpose)


# --- payments of an application ----------------------------------------------------------------------------------


def create_payment(session: Session, application: Application, due: Due, now: datetime | None = None) -> Payment:
    """Add a pending payment of what is due (the caller commits)."""
    moment = now or utc_now()
    payment = Payment(
        id=new_id(),
        application_id=application.id,
        purpose=due.purpose,
        amount_cents=due.amount_cents,
        currency=due.currency,
        status="pending",
        provider=DEMO_PROVIDER,
        provider_reference=None,
        created_at=moment,
        updated_at=moment,
    )
    session.add(payment)
    return payment


def await_payment(session: Session, application: Application, service: Service) -> bool:
    """Hold a just-submitted application until its fees due before processing are paid; False if none are.

    The application becomes `awaiting_payment` with a pending payment; its case must then be started deferred
    (registry/models/cases.py `start_case(defer=True)`), and `apply_result` starts it once paid.
    """
    due = amount_due(service.document, application.answers, "before_processing")
    if due is None:
        return False
    now = utc_now()
    create_payment(session, application, due, now)
    application.status = "awaiting_payment"
    application.events.append(ApplicationEvent(at=now, status="awaiting_payment", actor="system", note=None))
    return True


def charge_after_decision(session: Session, application: Application) -> Payment | None:
    """Add the pending payment of the fees due once the application is approved, if any (the caller commits).

    While it is unpaid the result document is held back: the decision is recorded without a verification code
    (registry/models/results.py `record_decision`), and paying issues it (`apply_result`).
    """
    due = amount_due(application.service.document, application.answers, "after_decision")
    return create_payment(session, application, due) if due is not None else None


def list_payments(session: Session, application: Application) -> list[Payment]:
    """Return an application's payments, oldest first."""
    rows = session.scalars(
        select(Payment).where(Payment.application_id == application.id).order_by(Payment.created_at, Payment.id)
    )
    return list(rows)


def get_payment(session: Session, application: Application, payment_id: str) -> Payment | None:
    """Return the application's payment with this id, or None (also when it belongs to another application)."""
    return session.scalar(select(Payment).where(Payment.id == payment_id, Payment.application_id == application.id))


def amount_text(amount_cents: int) -> str:
    """Return an amount as the API writes money: `"150.00"` (euro, two decimals, like money answers)."""
    return f"{amount_cents // 100}.{amount_cents % 100:02d}"


def payment_document(payment: Payment) -> dict[str, Any]:
    """Return the API representation of a payment."""
    return {
        "id": payment.id,
        "amount": amount_text(payment.amount_cents),
        "currency": payment.currency,
        "purpose": dict(payment.purpose),
        "status": payment.status,
        "provider": payment.provider,
        "provider_reference": payment.provider_reference,
        "created_at": timestamp(payment.created_at),
        "updated_at": timestamp(payment.updated_at),
    }


# --- to the provider and back ------------------------------------------------------------------------------------


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=STATE_SALT)


def payment_state(session: Session, secret: str, application: Application, payment: Payment) -> str:
    """Return the signed state the provider's page is opened with: who is paid, what for, how much.

    It holds no personal data: the payee (the competent institution), the purpose, the amount and the ids.
    """
    institution = session.get(Institution, application.service.document.get("competent_authority", ""))
    payee = dict(institution.document.get("name", {})) if institution is not None else {}
    return _serializer(secret).dumps(
        {
            "payment_id": payment.id,
            "application_id": application.id,
            "reference": application.reference,
            "amount": amount_text(payment.amount_cents),
            "currency": payment.currency,
            "purpose": dict(payment.purpose),
            "payee": payee,
        }
    )


def read_payment_state(secret: str, state: str, max_age: int = STATE_MAX_AGE_SECONDS) -> dict[str, Any] | None:
    """Return the contents of a state signed with `secret` and younger than `max_age` seconds, or None."""
    try:
        found = _serializer(secret).loads(state, max_age=max_age)
    except BadSignature:  # SignatureExpired is one too
        return None
    return found if isinstance(found, dict) else None


def restart(session: Session, payment: Payment) -> None:
    """Send a payment to the provider (again): a failed or cancelled one is pending again; 409 once paid."""
    if payment.status not in PAYABLE:
        raise PaymentProblem(409, "The payment is paid already.")
    if payment.status != "pending":
        payment.status = "pending"
        payment.provider_reference = None
        payment.updated_at = utc_now()


def apply_result(session: Session, payment_id: str, status: str, provider_reference: str) -> tuple[Payment, bool]:
    """Apply the provider's result to a payment; return it and whether anything changed (the caller commits).

    The same result again (a replayed callback) changes nothing; any other result after "paid" is a 409. "paid"
    makes an `awaiting_payment` application `submitted` and puts its case in the first step's queue.
    """
    if status not in RESULTS:
        raise PaymentProblem(422, f"The status must be one of {', '.join(RESULTS)}.")
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise PaymentProblem(404, "There is no such payment.")
    if payment.status == status and payment.provider_reference == provider_reference:
        return payment, False
    if payment.status == "paid":
        raise PaymentProblem(409, "The payment is paid already; a different result contradicts it.")
    now = utc_now()
    # Guarded: two callbacks at once cannot both move a payment that is not paid yet.
    changed = session.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.status.in_(PAYABLE))
        .values(status=status, provider_reference=provider_reference, updated_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if changed != 1:  # pragma: no cover - a concurrent callback won; the caller asks again
        raise PaymentProblem(409, "The payment changed meanwhile.")
    session.refresh(payment)
    if status == "paid":
        _release(session, payment.application_id, now)
    return payment, True


def _release(session: Session, application_id: str, now: datetime) -> None:
    """A paid application that was waiting for its fee is submitted now and its case starts; a decided one whose
    fees are all paid gets its result document."""
    released = session.execute(
        update(Application)
        .where(Application.id == application_id, Application.status == "awaiting_payment")
        .values(status="submitted", updated_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if released != 1:  # not waiting to be processed: withdrawn meanwhile, or a fee due after the decision
        _issue_when_settled(session, application_id)
        return
    application = session.get(Application, application_id)
    assert application is not None  # noqa: S101 - just updated
    session.refresh(application)
    session.add(ApplicationEvent(application_id=application_id, at=now, status="submitted", actor="system"))
    from registry.models.cases import start_case  # here: cases charges fees after the decision through this module

    start_case(session, application, application.service, begins=now)


def _issue_when_settled(session: Session, application_id: str) -> None:
    """Issue the result document of an approved application once nothing it owes is unpaid."""
    application = session.get(Application, application_id)
    if application is None or application.status != "decided" or application.verification_code is not None:
        return
    unpaid = session.scalar(
        select(Payment.id).where(Payment.application_id == application_id, Payment.status.in_(PAYABLE)).limit(1)
    )
    if unpaid is None:
        issue_result(session, application)
