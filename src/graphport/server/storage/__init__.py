"""Our own tables (SQLAlchemy Core, one module per resource) plus the langgraph
checkpointer and store, all in one database: SQLite embedded, PostgreSQL distributed."""
