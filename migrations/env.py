"""Alembic environment: runs migrations on the URL ``migrations.cli`` put in the config."""
from alembic import context
from sqlalchemy import pool

import db
from common.db import Base, make_engine

db.import_models()
config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("no database: set sqlalchemy.url (the app and the tests set it from DATABASE_URL)")
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        # Batch mode: SQLite cannot ALTER most things, so Alembic copies the table instead.
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
