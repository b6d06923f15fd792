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
# PostgreSQL instead derives generated columns from the same folded columns (registry/search/postgres.py): a
# tsvector (title A, keywords B, body C) and the facet tokens as an array, both indexed with GIN, and the row's token
# count for bm25. The application writes only service_search.
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
POSTGRES_SEARCH = [
    """ALTER TABLE service_search ADD COLUMN text_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', keywords), 'B')
        || setweight(to_tsvector('simple', body), 'C')) STORED""",
    """ALTER TABLE service_search ADD COLUMN facet_tokens text[]
        GENERATED ALWAYS AS (string_to_array(facets, ' ')) STORED""",
    """ALTER TABLE service_search ADD COLUMN token_count integer GENERATED ALWAYS AS (cardinality(array_remove(
        string_to_array(title || ' ' || keywords || ' ' || body || ' ' || facets, ' '), ''))) STORED""",
    "CREATE INDEX ix_service_search_text ON service_search USING gin (text_vector)",
    "CREATE INDEX ix_service_search_facets ON service_search USING gin (facet_tokens)",
    # bm25's statistics (rows, their total size) are read from this index alone, not from the wide table.
    "CREATE INDEX ix_service_search_size ON service_search (token_count)",
]


def sort_key() -> sa.types.TypeEngine[str]:
    """Sort keys (folded titles) compare byte by byte, as on SQLite, whatever the PostgreSQL database's locale."""
    return sa.String(300).with_variant(sa.String(300, collation="C"), "postgresql")


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
        sa.Column("sort_key", sort_key(), nullable=False, index=True),
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
        sa.Column("sort_key", sort_key(), nullable=False),
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
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_FTS, "postgresql": POSTGRES_SEARCH}.get(dialect, []):
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
