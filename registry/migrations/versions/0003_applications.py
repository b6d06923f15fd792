"""Applications and drafts: saved answers, submitted applications with their timeline, and idempotency keys.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drafts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("principal", sa.String(20), nullable=False),
        sa.Column("service_pk", sa.Integer(), sa.ForeignKey("services.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("form", sa.String(80), nullable=False),
        sa.Column("form_version", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("current_page", sa.String(80)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_drafts_principal", "drafts", ["principal", "updated_at"])
    op.create_index("ix_drafts_service_pk", "drafts", ["service_pk"])
    op.create_table(
        "applications",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("reference", sa.String(20), nullable=False, unique=True),
        sa.Column("reference_year", sa.Integer(), nullable=False),
        sa.Column("reference_number", sa.Integer(), nullable=False),
        sa.Column("principal", sa.String(20), nullable=False),
        sa.Column("applicant_name", sa.String(200), nullable=False),
        sa.Column("acting_for", sa.String(20)),
        sa.Column("service_pk", sa.Integer(), sa.ForeignKey("services.pk"), nullable=False),
        sa.Column("form", sa.String(80), nullable=False),
        sa.Column("form_version", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("reference_year", "reference_number", name="uq_applications_reference_number"),
    )
    op.create_index("ix_applications_principal", "applications", ["principal", "submitted_at"])
    op.create_index("ix_applications_service_pk", "applications", ["service_pk"])
    op.create_table(
        "application_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "application_id", sa.String(32), sa.ForeignKey("applications.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("actor", sa.String(20), nullable=False),
        sa.Column("note", sa.JSON()),
    )
    op.create_index("ix_application_events_application_id", "application_events", ["application_id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("principal", sa.String(20), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("claim", sa.String(32), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer()),
        sa.Column("response", sa.JSON()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("principal", "key", name="uq_idempotency_keys_principal_key"),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("application_events")
    op.drop_table("applications")
    op.drop_table("drafts")
