"""Tables of the registry. Each stored document is kept whole as JSON; columns beside it exist only to filter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    """Declarative base of the registry tables."""


class Municipality(Base):
    __tablename__ = "municipalities"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


class Institution(Base):
    __tablename__ = "institutions"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    municipality_id: Mapped[str | None] = mapped_column(ForeignKey("municipalities.id"))
    sort_key: Mapped[str] = mapped_column(String(300), index=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


class LifeEvent(Base):
    __tablename__ = "life_events"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


class Service(Base):
    """The columns services are filtered and sorted by; the documents themselves live in service_documents.

    Keeping this table narrow keeps it in the page cache, so filters and counts over 100,000 services stay fast.
    """

    __tablename__ = "services"
    __table_args__ = (Index("ix_services_listing", "status", "sort_key", "id"),)

    # An integer key, so the full-text index can use it as its rowid.
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    level: Mapped[int] = mapped_column(Integer, index=True)
    spatial: Mapped[str] = mapped_column(String(80), index=True)
    competent_authority: Mapped[str] = mapped_column(ForeignKey("institutions.id"), index=True)
    sort_key: Mapped[str] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    stored: Mapped[ServiceDocument] = relationship(cascade="all, delete-orphan")
    audiences: Mapped[list[ServiceAudience]] = relationship(cascade="all, delete-orphan")
    life_events: Mapped[list[ServiceLifeEvent]] = relationship(cascade="all, delete-orphan")
    institutions: Mapped[list[ServiceInstitution]] = relationship(cascade="all, delete-orphan")
    search: Mapped[ServiceSearch | None] = relationship(cascade="all, delete-orphan")

    @property
    def document(self) -> dict[str, Any]:
        """Return the service description as published."""
        return self.stored.document


class ServiceDocument(Base):
    """A service description as published, and its list representation computed once on write."""

    __tablename__ = "service_documents"

    service_pk: Mapped[int] = mapped_column(ForeignKey("services.pk", ondelete="CASCADE"), primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    item: Mapped[dict[str, Any]] = mapped_column(JSON)


class ServiceAudience(Base):
    __tablename__ = "service_audiences"

    service_pk: Mapped[int] = mapped_column(ForeignKey("services.pk", ondelete="CASCADE"), primary_key=True)
    audience: Mapped[str] = mapped_column(String(20), primary_key=True, index=True)


class ServiceLifeEvent(Base):
    __tablename__ = "service_life_events"

    service_pk: Mapped[int] = mapped_column(ForeignKey("services.pk", ondelete="CASCADE"), primary_key=True)
    life_event_id: Mapped[str] = mapped_column(ForeignKey("life_events.id"), primary_key=True, index=True)


class ServiceInstitution(Base):
    """Every institution taking part in a service: the competent authority and the participants."""

    __tablename__ = "service_institutions"

    service_pk: Mapped[int] = mapped_column(ForeignKey("services.pk", ondelete="CASCADE"), primary_key=True)
    institution_id: Mapped[str] = mapped_column(ForeignKey("institutions.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(20))


class ServiceSearch(Base):
    """Folded words and facet tokens of a published service; the source of the full-text index."""

    __tablename__ = "service_search"

    service_pk: Mapped[int] = mapped_column(ForeignKey("services.pk", ondelete="CASCADE"), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    keywords: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    facets: Mapped[str] = mapped_column(Text)


class FormDefinition(Base):
    """One version of a service's form; never changed once stored, because drafts and submissions refer to it."""

    __tablename__ = "form_definitions"
    __table_args__ = (UniqueConstraint("service_pk", "form", "version", name="uq_form_definitions_version"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_pk: Mapped[int] = mapped_column(ForeignKey("services.pk", ondelete="CASCADE"))
    form: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    answers_schema: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PublisherToken(Base):
    """A bearer token that lets one institution publish its services; only its SHA-256 is stored."""

    __tablename__ = "publisher_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    institution_id: Mapped[str] = mapped_column(ForeignKey("institutions.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Draft(Base):
    """Answers a principal has saved but not yet submitted; kept server-side so nothing typed is lost."""

    __tablename__ = "drafts"
    __table_args__ = (Index("ix_drafts_principal", "principal", "updated_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The person's personal code, or the registration number of the company a representative acts for.
    principal: Mapped[str] = mapped_column(String(20))
    service_pk: Mapped[int] = mapped_column(ForeignKey("services.pk", ondelete="CASCADE"), index=True)
    form: Mapped[str] = mapped_column(String(80))
    form_version: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    current_page: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    service: Mapped[Service] = relationship()


class Application(Base):
    """A submitted application: the answers as validated against the form version they were given for."""

    __tablename__ = "applications"
    __table_args__ = (
        Index("ix_applications_principal", "principal", "submitted_at"),
        # Reference numbers count from 1 every year; the pair is unique so concurrent submissions cannot share one.
        UniqueConstraint("reference_year", "reference_number", name="uq_applications_reference_number"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    reference_year: Mapped[int] = mapped_column(Integer)
    reference_number: Mapped[int] = mapped_column(Integer)
    principal: Mapped[str] = mapped_column(String(20))
    applicant_name: Mapped[str] = mapped_column(String(200))
    acting_for: Mapped[str | None] = mapped_column(String(20))
    service_pk: Mapped[int] = mapped_column(ForeignKey("services.pk"), index=True)
    form: Mapped[str] = mapped_column(String(80))
    form_version: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(30))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The case (docs/processing.md): the process version it follows, its current step and who has it, when it is
    # due, the result once decided, and what the applicant was asked while more information is requested.
    process_version: Mapped[int | None] = mapped_column(Integer)
    current_step: Mapped[str | None] = mapped_column(String(80))
    current_institution: Mapped[str | None] = mapped_column(String(80), index=True)
    assigned_sub: Mapped[str | None] = mapped_column(String(20))
    assigned_name: Mapped[str | None] = mapped_column(String(200))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    result: Mapped[str | None] = mapped_column(String(20))
    information_request: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The decision's result document: when it was decided, and the code anyone can check it with.
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verification_code: Mapped[str | None] = mapped_column(String(20), unique=True)

    service: Mapped[Service] = relationship()
    events: Mapped[list[ApplicationEvent]] = relationship(
        cascade="all, delete-orphan", order_by="ApplicationEvent.id", back_populates="application"
    )


class ApplicationEvent(Base):
    """One step of an application's timeline; appended, never changed."""

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(20))
    note: Mapped[dict[str, str] | None] = mapped_column(JSON)

    application: Mapped[Application] = relationship(back_populates="events")


class IdempotencyKey(Base):
    """A claimed Idempotency-Key of one principal and, once the request is done, the response to replay."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("principal", "key", name="uq_idempotency_keys_principal_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    principal: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(200))
    # SHA-256 of the canonical JSON body: the same key with another body is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20))
    # Who holds the claim and since when: a claim left by a crashed worker can be taken over after a while,
    # and the worker that lost it must not complete it.
    claim: Mapped[str] = mapped_column(String(32))
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StoredFile(Base):
    """A file a principal uploaded for an answer: kept under a random id, its type found from its content.

    It belongs to the principal alone until an application that answers with it is submitted; from then on it is
    part of that application (`application_id`) and can no longer be deleted.
    """

    __tablename__ = "files"
    __table_args__ = (Index("ix_files_principal", "principal", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    principal: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    # Deferred: listing or checking files never loads their bytes.
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    application_id: Mapped[str | None] = mapped_column(ForeignKey("applications.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Process(Base):
    """A version of a service's process: its ordered steps (registry.catalogue.processes); never changed."""

    __tablename__ = "processes"
    __table_args__ = (UniqueConstraint("service_pk", "version", name="uq_processes_service_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_pk: Mapped[int] = mapped_column(ForeignKey("services.pk", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CaseEvent(Base):
    """One entry of a case's audit trail: a decision, an answer, a claim, a view. Appended, never changed."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # decision | information | claim | release | view
    kind: Mapped[str] = mapped_column(String(20))
    step: Mapped[str | None] = mapped_column(String(80))
    institution: Mapped[str | None] = mapped_column(String(80), index=True)
    actor_sub: Mapped[str] = mapped_column(String(20))
    actor_name: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str | None] = mapped_column(String(20))
    form: Mapped[str | None] = mapped_column(String(80))
    form_version: Mapped[int | None] = mapped_column(Integer)
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    text: Mapped[str | None] = mapped_column(Text)


class Message(Base):
    """A message to an applicant in the portal's inbox ("Paziņojumi"), in lv and en; read or not."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_principal", "principal", "at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    principal: Mapped[str] = mapped_column(String(20))
    application_id: Mapped[str | None] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # decision | information_request | step | payment | ...
    kind: Mapped[str] = mapped_column(String(30))
    subject: Mapped[dict[str, str]] = mapped_column(JSON)
    body: Mapped[dict[str, str]] = mapped_column(JSON)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Payment(Base):
    """A state fee of an application: what for, how much, and where the payment provider has it."""

    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[dict[str, str]] = mapped_column(JSON)
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    # pending | paid | failed | cancelled
    status: Mapped[str] = mapped_column(String(20))
    provider: Mapped[str] = mapped_column(String(40))
    provider_reference: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DataRequest(Base):
    """A question one institution asks another about a case's applicant (level 5), and the answer; no client."""

    __tablename__ = "data_requests"
    __table_args__ = (
        Index("ix_data_requests_to", "to_institution", "status", "asked_at"),
        Index("ix_data_requests_from", "from_institution", "asked_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    from_institution: Mapped[str] = mapped_column(String(80))
    to_institution: Mapped[str] = mapped_column(String(80))
    # Whom the question is about: the applicant's personal code or company number (what the other register needs).
    subject: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    asked_by_sub: Mapped[str] = mapped_column(String(20))
    asked_by_name: Mapped[str] = mapped_column(String(200))
    asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # open | answered
    status: Mapped[str] = mapped_column(String(20))
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(200))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The kind of question (registry/seed/data_requests) and the version of its answer form the request was asked
    # with; both None for a free-text question. `answers` are the answer form's answers (`answer` stays None then).
    kind: Mapped[str | None] = mapped_column(String(80))
    form_version: Mapped[int | None] = mapped_column(Integer)
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class DataRequestKind(Base):
    """One version of a kind of data request with its answer form; never changed, since requests refer to it."""

    __tablename__ = "data_request_kinds"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    answers_schema: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Outbox(Base):
    """A notification still to be sent, or sent, through a channel other than the inbox (registry.models.outbox).

    Written in the transaction of the change it tells about; a worker claims it, sends it and records the outcome.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The notifier that sends it: email | e-adrese | ...
    channel: Mapped[str] = mapped_column(String(30))
    # pending | sending (claimed by a worker until next_attempt_at) | sent | failed
    status: Mapped[str] = mapped_column(String(20))
    # The inbox message it repeats, and what it is about.
    message_id: Mapped[str] = mapped_column(String(32))
    application_id: Mapped[str | None] = mapped_column(String(32))
    reference: Mapped[str | None] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(30))
    # The recipient: whose message it is, their name, and the email address they gave (if any).
    principal: Mapped[str] = mapped_column(String(20))
    recipient_name: Mapped[str] = mapped_column(String(200))
    recipient_email: Mapped[str | None] = mapped_column(String(320))
    # The texts as the inbox has them, {lv, en}.
    subject: Mapped[dict[str, str]] = mapped_column(JSON)
    body: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The token of the worker that holds the row while it is `sending`.
    claim: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The type of the last failure (and an SMTP code): never its text, which can quote the address.
    last_error: Mapped[str | None] = mapped_column(String(200))
