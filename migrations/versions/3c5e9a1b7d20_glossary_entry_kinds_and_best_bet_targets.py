"""glossary entry kinds (acronym, term, best bet), best-bet targets, updated_at

Revision ID: 3c5e9a1b7d20
Revises: 5e1c7a2b9d40
Create Date: 2026-12-02 14:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c5e9a1b7d20'
down_revision = "5e1c7a2b9d40"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('glossary_terms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=False, server_default='term'))
        batch_op.add_column(sa.Column('targets', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(), nullable=False, server_default=sa.func.current_timestamp()))
    # Entries written before kinds existed: those with an expansion were acronyms.
    op.execute("UPDATE glossary_terms SET kind = 'acronym' WHERE expansion <> ''")
    with op.batch_alter_table('glossary_terms', schema=None) as batch_op:
        batch_op.alter_column('kind', server_default=None)
        batch_op.alter_column('targets', server_default=None)
        batch_op.alter_column('updated_at', server_default=None)


def downgrade():
    with op.batch_alter_table('glossary_terms', schema=None) as batch_op:
        batch_op.drop_column('updated_at')
        batch_op.drop_column('targets')
        batch_op.drop_column('kind')
