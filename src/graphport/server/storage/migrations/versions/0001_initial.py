"""Initial tables: assistants, assistant versions, threads, runs, crons.

Revision ID: 0001
Revises:
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

from graphport.server.storage.columns import JSONType, UTCDateTime

revision = "0001"
down_revision = None


def _id(name: str, *foreign_keys: sa.ForeignKey, **kw: Any) -> sa.Column[str]:
    return sa.Column(name, sa.String(36), *foreign_keys, **kw)


def upgrade() -> None:
    op.create_table(
        "assistants",
        _id("assistant_id", primary_key=True),
        sa.Column("graph_id", sa.String(255), nullable=False),
        sa.Column("config", JSONType, nullable=False),
        sa.Column("context", JSONType, nullable=False),
        sa.Column("metadata", JSONType, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_assistants_graph_id", "assistants", ["graph_id"])
    op.create_index("ix_assistants_created_at", "assistants", ["created_at"])
    op.create_table(
        "assistant_versions",
        _id(
            "assistant_id",
            sa.ForeignKey("assistants.assistant_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("graph_id", sa.String(255), nullable=False),
        sa.Column("config", JSONType, nullable=False),
        sa.Column("context", JSONType, nullable=False),
        sa.Column("metadata", JSONType, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "threads",
        _id("thread_id", primary_key=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("state_updated_at", UTCDateTime, nullable=False),
        sa.Column("metadata", JSONType, nullable=False),
        sa.Column("config", JSONType, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("values", JSONType, nullable=True),
        sa.Column("interrupts", JSONType, nullable=False),
        sa.Column("error", JSONType, nullable=True),
        sa.Column("ttl_strategy", sa.String(16), nullable=True),
        sa.Column("ttl_minutes", sa.Float, nullable=True),
        sa.Column("expires_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_threads_created_at", "threads", ["created_at"])
    op.create_index("ix_threads_status", "threads", ["status"])
    op.create_index("ix_threads_expires_at", "threads", ["expires_at"])
    op.create_table(
        "runs",
        _id("run_id", primary_key=True),
        _id(
            "thread_id",
            sa.ForeignKey("threads.thread_id", ondelete="CASCADE"),
            nullable=False,
        ),
        _id("assistant_id", nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("metadata", JSONType, nullable=False),
        sa.Column("kwargs", JSONType, nullable=False),
        sa.Column("multitask_strategy", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cancel_reason", sa.Text, nullable=True),
        sa.Column("started_at", UTCDateTime, nullable=True),
        sa.Column("ended_at", UTCDateTime, nullable=True),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_runs_thread_created", "runs", ["thread_id", "created_at"])
    op.create_index("ix_runs_status_created", "runs", ["status", "created_at"])
    op.create_index(
        "ux_runs_one_running_per_thread",
        "runs",
        ["thread_id"],
        unique=True,
        sqlite_where=sa.text("status = 'running'"),
        postgresql_where=sa.text("status = 'running'"),
    )
    op.create_table(
        "crons",
        _id("cron_id", primary_key=True),
        _id("assistant_id", nullable=False),
        _id("thread_id", sa.ForeignKey("threads.thread_id", ondelete="CASCADE"), nullable=True),
        sa.Column("user_id", sa.String(255), nullable=True),
        sa.Column("schedule", sa.String(255), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=True),
        sa.Column("end_time", UTCDateTime, nullable=True),
        sa.Column("next_run_date", UTCDateTime, nullable=True),
        sa.Column("payload", JSONType, nullable=False),
        sa.Column("metadata", JSONType, nullable=False),
        sa.Column("on_run_completed", sa.String(16), nullable=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_crons_next_run_date", "crons", ["enabled", "next_run_date"])
    op.create_index("ix_crons_assistant", "crons", ["assistant_id"])


def downgrade() -> None:
    for table in ("crons", "runs", "threads", "assistant_versions", "assistants"):
        op.drop_table(table)
