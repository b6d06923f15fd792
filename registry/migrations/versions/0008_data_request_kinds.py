"""Structured data requests: kinds of request with their answer forms, and a request's kind, form version and answers.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every version of a kind (registry/seed/data_requests): requests keep the version they were asked with.
    op.create_table(
        "data_request_kinds",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("answers_schema", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("data_requests") as batch:
        # The kind of question; None for a free-text question.
        batch.add_column(sa.Column("kind", sa.String(80), nullable=True))
        # The answer form's version and answers (the forms package), when the kind has an answer form.
        batch.add_column(sa.Column("form_version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("answers", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("data_requests") as batch:
        batch.drop_column("answers")
        batch.drop_column("form_version")
        batch.drop_column("kind")
    op.drop_table("data_request_kinds")
