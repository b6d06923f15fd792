"""Data requests between institutions (level 5): a question from a case to another institution, and its answer.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_requests",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "application_id", sa.String(32), sa.ForeignKey("applications.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("from_institution", sa.String(80), nullable=False),
        sa.Column("to_institution", sa.String(80), nullable=False),
        sa.Column("subject", sa.String(20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("asked_by_sub", sa.String(20), nullable=False),
        sa.Column("asked_by_name", sa.String(200), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("answer", sa.Text()),
        sa.Column("answered_by", sa.String(200)),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_data_requests_to", "data_requests", ["to_institution", "status", "asked_at"])
    op.create_index("ix_data_requests_from", "data_requests", ["from_institution", "asked_at"])
    op.create_index("ix_data_requests_application_id", "data_requests", ["application_id"])


def downgrade() -> None:
    op.drop_table("data_requests")
