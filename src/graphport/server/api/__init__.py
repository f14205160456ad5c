"""HTTP: routers, request models, SSE framing. No SQL and no graph execution here."""
