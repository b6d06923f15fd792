"""Catalogue tables, the full-text index and publisher tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# SQLite keeps the FTS5 index in step with service_search through triggers (external-content table).
# PostgreSQL will instead index a tsvector over the same folded columns; the application writes only service_search.
SQLITE_FTS = [
    """CREATE VIRTUAL TABLE service_fts USING fts5(
        title, keywords, body, facets,
        content='service_search', content_rowid='service_pk',
        tokenize="unicode61 remove_diacritics 2 tokenchars '_-'", prefix='2 3 4')""",
    """CREATE TRIGGER service_search_ai AFTER INSERT ON service_search BEGIN
        INSERT INTO service_fts(rowid, title, keywords, body, facets)
        VALUES (new.service_pk, new.title, new.keywords, new.body, new.facets); END""",
    """CREATE TRIGGER service_search_ad AFTER DELETE ON service_search BEGIN
        INSERT INTO service_fts(service_fts, rowid, title, keywords, body, facets)
        VALUES ('delete', old.service_pk, old.title, old.keywords, old.body, old.facets); END""",
    """CREATE TRIGGER service_search_au AFTER UPDATE ON service_search BEGIN
        INSERT INTO service_fts(service_fts, rowid, title, keywords, body, facets)
        VALUES ('delete', old.service_pk, old.title, old.keywords, old.body, old.facets);
        INSERT INTO service_fts(rowid, title, keywords, body, facets)
        VALUES (new.service_pk, new.title, new.keywords, new.body, new.facets); END""",
]


def upgrade() -> None:
    op.create_table(
        "municipalities",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("document", sa.JSON(), nullable=False),
    )
    op.create_table(
        "institutions",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("municipality_id", sa.String(80), sa.ForeignKey("municipalities.id")),
        sa.Column("sort_key", sa.String(300), nullable=False, index=True),
        sa.Column("document", sa.JSON(), nullable=False),
    )
    op.create_table(
        "life_events",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
    )
    op.create_table(
        "services",
        sa.Column("pk", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(80), nullable=False, unique=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False, index=True),
        sa.Column("spatial", sa.String(80), nullable=False, index=True),
        sa.Column("competent_authority", sa.String(80), sa.ForeignKey("institutions.id"), nullable=False, index=True),
        sa.Column("sort_key", sa.String(300), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_services_listing", "services", ["status", "sort_key", "id"])
    op.create_table(
        "service_documents",
        sa.Column("service_pk", sa.Integer(), sa.ForeignKey("services.pk", ondelete="CASCADE"), primary_key=True),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("item", sa.JSON(), nullable=False),
    )
    op.create_table(
        "service_audiences",
        sa.Column("service_pk", sa.Integer(), sa.ForeignKey("services.pk", ondelete="CASCADE"), primary_key=True),
        sa.Column("audience", sa.String(20), primary_key=True, index=True),
    )
    op.create_table(
        "service_life_events",
        sa.Column("service_pk", sa.Integer(), sa.ForeignKey("services.pk", ondelete="CASCADE"), primary_key=True),
        sa.Column("life_event_id", sa.String(80), sa.ForeignKey("life_events.id"), primary_key=True, index=True),
    )
    op.create_table(
        "service_institutions",
        sa.Column("service_pk", sa.Integer(), sa.ForeignKey("services.pk", ondelete="CASCADE"), primary_key=True),
        sa.Column("institution_id", sa.String(80), sa.ForeignKey("institutions.id"), primary_key=True, index=True),
        sa.Column("role", sa.String(20), nullable=False),
    )
    op.create_table(
        "service_search",
        sa.Column("service_pk", sa.Integer(), sa.ForeignKey("services.pk", ondelete="CASCADE"), primary_key=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("facets", sa.Text(), nullable=False),
    )
    op.create_table(
        "publisher_tokens",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("institution_id", sa.String(80), sa.ForeignKey("institutions.id"), nullable=False, index=True),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("service_search_au", "service_search_ad", "service_search_ai"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS service_fts")
    for table in (
        "publisher_tokens",
        "service_search",
        "service_institutions",
        "service_life_events",
        "service_audiences",
        "service_documents",
        "services",
        "life_events",
        "institutions",
        "municipalities",
    ):
        op.drop_table(table)
