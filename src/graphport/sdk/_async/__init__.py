"""Async client: the source of `_sync`, which scripts/unasync.py generates from it."""
