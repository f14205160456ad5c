"""Indexes for searches on big tables (bench/scale_bench.py, tests/test_indexes.py):
threads by status in creation order (a page no longer sorts every thread of that status),
and on PostgreSQL a GIN index for metadata containment (`@>`).

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_index("ix_threads_status_created", "threads", ["status", "created_at"])
    op.drop_index("ix_threads_status", table_name="threads")
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_threads_metadata",
            "threads",
            ["metadata"],
            postgresql_using="gin",
            postgresql_ops={"metadata": "jsonb_path_ops"},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_threads_metadata", table_name="threads")
    op.create_index("ix_threads_status", "threads", ["status"])
    op.drop_index("ix_threads_status_created", table_name="threads")
