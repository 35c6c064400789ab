"""workforce (police officer, police staff or both) on role types

Revision ID: c3a1e5b7d901
Revises: c3d9e2a71b40
Create Date: 2026-12-02 14:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3a1e5b7d901'
down_revision = 'c3d9e2a71b40'
branch_labels = None
depends_on = None


def upgrade():
    # Existing rows become "both" until `kb seed` sets each role from taxonomy.yml.
    with op.batch_alter_table('role_types', schema=None) as batch_op:
        batch_op.add_column(sa.Column('workforce', sa.String(length=20), nullable=False, server_default='both'))


def downgrade():
    with op.batch_alter_table('role_types', schema=None) as batch_op:
        batch_op.drop_column('workforce')
