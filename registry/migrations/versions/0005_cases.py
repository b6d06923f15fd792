"""Cases: processes of services, the state of each application's case, and the append-only audit trail.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CASE_COLUMNS = (
    ("process_version", sa.Integer),
    ("current_step", lambda: sa.String(80)),
    ("current_institution", lambda: sa.String(80)),
    ("assigned_sub", lambda: sa.String(20)),
    ("assigned_name", lambda: sa.String(200)),
    ("due_at", lambda: sa.DateTime(timezone=True)),
    ("result", lambda: sa.String(20)),
    ("information_request", sa.JSON),
)


def upgrade() -> None:
    op.create_table(
        "processes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("service_pk", sa.Integer(), sa.ForeignKey("services.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("service_pk", "version", name="uq_processes_service_version"),
    )
    op.create_index("ix_processes_service_pk", "processes", ["service_pk"])
    with op.batch_alter_table("applications") as batch:
        for name, kind in CASE_COLUMNS:
            batch.add_column(sa.Column(name, kind()))
        batch.create_index("ix_applications_current_institution", ["current_institution"])
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "application_id", sa.String(32), sa.ForeignKey("applications.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("step", sa.String(80)),
        sa.Column("institution", sa.String(80)),
        sa.Column("actor_sub", sa.String(20), nullable=False),
        sa.Column("actor_name", sa.String(200), nullable=False),
        sa.Column("outcome", sa.String(20)),
        sa.Column("form", sa.String(80)),
        sa.Column("form_version", sa.Integer()),
        sa.Column("answers", sa.JSON()),
        sa.Column("text", sa.Text()),
    )
    op.create_index("ix_case_events_application_id", "case_events", ["application_id"])
    op.create_index("ix_case_events_institution", "case_events", ["institution"])


def downgrade() -> None:
    op.drop_table("case_events")
    with op.batch_alter_table("applications") as batch:
        batch.drop_index("ix_applications_current_institution")
        for name, _ in CASE_COLUMNS:
            batch.drop_column(name)
    op.drop_table("processes")
