# Generated from src/graphport/sdk/_async/__init__.py by scripts/unasync.py; do not edit.
"""Sync client, generated from `_async` by scripts/unasync.py: edit there, not here."""
