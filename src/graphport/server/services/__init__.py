"""The semantics of the API (statuses, merging, strategies), independent of HTTP."""
