"""pending revision foreign key everywhere

The initial migration declares articles.pending_revision_id -> revisions.id with use_alter=True inside
create_table. SQLite writes the constraint into the table, but on PostgreSQL Alembic emits nothing for a
use_alter constraint in create_table, so the key was missing there (a draft could point at a revision
that no longer exists). Add it where it is missing; databases that have it are left alone.

Revision ID: 7d2c4b1e9a55
Revises: 3c5e9a1b7d20
Create Date: 2026-12-02 15:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d2c4b1e9a55'
down_revision = '3c5e9a1b7d20'
branch_labels = None
depends_on = None

NAME = 'fk_articles_pending_revision_id_revisions'


def _has_key(bind) -> bool:
    keys = sa.inspect(bind).get_foreign_keys('articles')
    return any(key['constrained_columns'] == ['pending_revision_id'] for key in keys)


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite' or _has_key(bind):
        return
    # A pending revision id that points nowhere would make the new key fail: clear those first.
    op.execute(
        "UPDATE articles SET pending_revision_id = NULL WHERE pending_revision_id IS NOT NULL "
        "AND pending_revision_id NOT IN (SELECT id FROM revisions)"
    )
    op.create_foreign_key(NAME, 'articles', 'revisions', ['pending_revision_id'], ['id'], ondelete='SET NULL')


def downgrade():
    # Nothing to undo: the key belongs to the initial schema, which declares it on every database.
    pass
