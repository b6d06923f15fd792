"""Alembic environment: the URL comes from the caller (registry.migrate) or REGISTRY_DATABASE_URL."""

from __future__ import annotations

from alembic import context

from registry.config import Config
from registry.db import make_engine
from registry.models.tables import Base

config = context.config
url = config.get_main_option("sqlalchemy.url") or Config.DATABASE_URL

if context.is_offline_mode():
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
