"""Form definitions: every version of every service form, immutable once stored.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "form_definitions",
        sa.Column("pk", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("service_pk", sa.Integer(), sa.ForeignKey("services.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("form", sa.String(80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("answers_schema", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("service_pk", "form", "version", name="uq_form_definitions_version"),
    )


def downgrade() -> None:
    op.drop_table("form_definitions")
