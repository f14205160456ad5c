"""The Graphport server: REST API, run engine and storage. Needs the `server` extra."""
