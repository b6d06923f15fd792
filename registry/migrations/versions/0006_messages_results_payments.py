"""Messages to applicants, decision results with their verification codes, and payments of state fees.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("principal", sa.String(20), nullable=False),
        sa.Column("application_id", sa.String(32), sa.ForeignKey("applications.id", ondelete="CASCADE")),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("subject", sa.JSON(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_messages_principal", "messages", ["principal", "at"])
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("decided_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("verification_code", sa.String(20)))
        batch.create_unique_constraint("uq_applications_verification_code", ["verification_code"])
    op.create_table(
        "payments",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "application_id", sa.String(32), sa.ForeignKey("applications.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("purpose", sa.JSON(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("provider_reference", sa.String(100)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_payments_application_id", "payments", ["application_id"])


def downgrade() -> None:
    op.drop_table("payments")
    with op.batch_alter_table("applications") as batch:
        batch.drop_constraint("uq_applications_verification_code", type_="unique")
        batch.drop_column("verification_code")
        batch.drop_column("decided_at")
    op.drop_index("ix_messages_principal", table_name="messages")
    op.drop_table("messages")
