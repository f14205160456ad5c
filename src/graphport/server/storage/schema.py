"""The tables Graphport owns. Checkpoints and store items belong to the langgraph packages.

Changes to this file need a new Alembic revision in `migrations/versions/`.

What users send is `SealedJSON` (encrypted at rest when a key is set: run inputs and
configuration, a thread's cached state and error, cron payloads, assistants' configuration
and context; the same DDL as `JSONType`); what finds rows stays plain (ids, graph ids, names
and descriptions, metadata, statuses and times)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

from graphport.server.storage.columns import Id, JSONType, SealedJSON, UTCDateTime

metadata = MetaData()

assistants = Table(
    "assistants",
    metadata,
    Column("assistant_id", Id(), primary_key=True),
    Column("graph_id", String(255), nullable=False),
    Column("config", SealedJSON, nullable=False),
    Column("context", SealedJSON, nullable=False),
    Column("metadata", JSONType, nullable=False),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=True),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_assistants_graph_id", "graph_id"),
    Index("ix_assistants_created_at", "created_at"),
)

assistant_versions = Table(
    "assistant_versions",
    metadata,
    Column(
        "assistant_id",
        Id(),
        ForeignKey("assistants.assistant_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("version", Integer, primary_key=True),
    Column("graph_id", String(255), nullable=False),
    Column("config", SealedJSON, nullable=False),
    Column("context", SealedJSON, nullable=False),
    Column("metadata", JSONType, nullable=False),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

threads = Table(
    "threads",
    metadata,
    Column("thread_id", Id(), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("state_updated_at", UTCDateTime, nullable=False),
    Column("metadata", JSONType, nullable=False),
    Column("config", SealedJSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("values", SealedJSON, nullable=True),
    Column("interrupts", SealedJSON, nullable=False),
    Column("error", SealedJSON, nullable=True),
    Column("ttl_strategy", String(16), nullable=True),
    Column("ttl_minutes", Float, nullable=True),
    Column("expires_at", UTCDateTime, nullable=True),
    Index("ix_threads_created_at", "created_at"),
    # A page of threads of one status comes in creation order from the index.
    Index("ix_threads_status_created", "status", "created_at"),
    # Metadata containment (`@>`, threads.search); PostgreSQL only: SQLite cannot index it.
    Index(
        "ix_threads_metadata",
        "metadata",
        postgresql_using="gin",
        postgresql_ops={"metadata": "jsonb_path_ops"},
    ).ddl_if(dialect="postgresql"),
    Index("ix_threads_expires_at", "expires_at"),
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", Id(), primary_key=True),
    Column(
        "thread_id",
        Id(),
        ForeignKey("threads.thread_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("assistant_id", Id(), nullable=False),
    # created_at is "not before": request time + after_seconds
    # (docs/architecture.md#queue-claim-and-leases).
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("metadata", JSONType, nullable=False),
    Column("kwargs", SealedJSON, nullable=False),
    Column("multitask_strategy", String(16), nullable=False),
    Column("attempt", Integer, nullable=False, server_default="0"),
    Column("cancel_reason", Text, nullable=True),
    # "interrupt" or "rollback" once a cancel of the running run was asked for.
    Column("cancel_action", String(16), nullable=True),
    Column("started_at", UTCDateTime, nullable=True),
    Column("ended_at", UTCDateTime, nullable=True),
    # Which worker holds the run and until when (distributed queue; the sweeper requeues).
    Column("lease_owner", String(64), nullable=True),
    Column("lease_expires_at", UTCDateTime, nullable=True),
    Index("ix_runs_thread_created", "thread_id", "created_at"),
    Index("ix_runs_status_created", "status", "created_at"),
    # The database itself guarantees never two running runs on one thread.
    Index(
        "ux_runs_one_running_per_thread",
        "thread_id",
        unique=True,
        sqlite_where=text("status = 'running'"),
        postgresql_where=text("status = 'running'"),
    ),
)

crons = Table(
    "crons",
    metadata,
    Column("cron_id", Id(), primary_key=True),
    Column("assistant_id", Id(), nullable=False),
    Column(
        "thread_id",
        Id(),
        ForeignKey("threads.thread_id", ondelete="CASCADE"),
        nullable=True,
    ),
    Column("user_id", String(255), nullable=True),
    Column("schedule", String(255), nullable=False),
    Column("timezone", String(64), nullable=True),
    Column("end_time", UTCDateTime, nullable=True),
    Column("next_run_date", UTCDateTime, nullable=True),
    Column("payload", SealedJSON, nullable=False),
    Column("metadata", JSONType, nullable=False),
    Column("on_run_completed", String(16), nullable=True),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_crons_next_run_date", "enabled", "next_run_date"),
    Index("ix_crons_assistant", "assistant_id"),
)
