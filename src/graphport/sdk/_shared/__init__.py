"""Sync-agnostic parts of the client: everything but I/O, shared by `_async` and `_sync`."""
