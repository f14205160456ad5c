# Generated from tests/sdk/_async/__init__.py by scripts/unasync.py; do not edit.
"""Client tests, written async; scripts/unasync.py derives the sync copy in `_sync`."""
