"""Run execution: the queue (claim runs), the broker (events with ids), the worker
(executes graphs), the scheduler (crons) and webhooks. Nothing here knows about HTTP."""
