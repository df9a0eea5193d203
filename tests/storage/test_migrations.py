"""The migrations and the models describe the same schema, on both engines.

Several changes may add a migration at once; this catches one that forgot a column, or models
edited without a migration, before a user's `flask db upgrade` does.
"""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

import db
from common.db import Base
from migrations.cli import alembic_config


def test_one_head():
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"migrations branch: {heads}"


def test_the_migrated_schema_is_what_the_models_say(database_url):
    db.import_models()
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
