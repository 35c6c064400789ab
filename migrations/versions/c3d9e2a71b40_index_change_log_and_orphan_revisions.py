"""index change log, index positions; remove revisions left behind by deleted articles

Revision ID: c3d9e2a71b40
Revises: 7d2c4b1e9a55
Create Date: 2026-12-02 14:30:00

SQLite never enforced ``ON DELETE CASCADE`` before foreign keys were switched on for every connection,
so a deleted article's revisions (and tag and role links) stayed, and a new article that reused its id
inherited them. This removes rows whose article is gone, and revisions older than the article they
point at (inherited from a deleted article with the same id).
"""

import sqlalchemy as sa
from alembic import op

revision = "c3d9e2a71b40"
down_revision = "7d2c4b1e9a55"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "index_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_changes")),
    )
    op.create_table(
        "index_positions",
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_index_positions")),
    )
    orphans = (
        "SELECT r.id FROM revisions r JOIN articles a ON a.id = r.article_id WHERE r.created_at < a.created_at"
    )
    op.execute(f"UPDATE articles SET pending_revision_id = NULL WHERE pending_revision_id IN ({orphans})")
    op.execute(
        "UPDATE articles SET pending_revision_id = NULL"
        " WHERE pending_revision_id IS NOT NULL AND pending_revision_id NOT IN (SELECT id FROM revisions)"
    )
    op.execute(f"DELETE FROM revisions WHERE id IN (SELECT id FROM ({orphans}) AS inherited)")
    for table in ("revisions", "article_tags", "article_role_types"):
        op.execute(f"DELETE FROM {table} WHERE article_id NOT IN (SELECT id FROM articles)")


def downgrade():
    op.drop_table("index_positions")
    op.drop_table("index_changes")
