"""Client tests, written async; scripts/unasync.py derives the sync copy in `_sync`."""
