"""glossary entries know the file they came from

An entry's id in its file (``ext_id``) is unique only within that file: two files may both have
a "c1". Imported entries now keep the file's name as ``origin`` and are unique per (origin, id).
Entries imported before this revision have no origin; a re-import matches them by their terms.

Revision ID: 8f45bb7712a4
Revises: 0002_auth
Create Date: 2026-12-02 17:49:10.301845
"""
from alembic import op
import sqlalchemy as sa


revision = '8f45bb7712a4'
down_revision = '0002_auth'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('glossary_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.String(length=500), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_glossary_entries_ext_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_glossary_entries_origin_ext_id'), ['origin', 'ext_id'])


def downgrade() -> None:
    # Fails if two files' entries share an id by then: rename them before stepping back.
    with op.batch_alter_table('glossary_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_glossary_entries_origin_ext_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_glossary_entries_ext_id'), ['ext_id'])
        batch_op.drop_column('origin')
