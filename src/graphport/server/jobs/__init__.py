"""Periodic jobs: drivers that call the services and the run lifecycle on a timer (cron
ticks, TTL sweeps, the lease sweep). Nothing but process wiring imports them."""
