"""The start-up error every `langgraph.json` section raises, in a module of its own so the
section parsers and the config reader can share it without importing each other."""


class ConfigError(Exception):
    """`langgraph.json` is missing or malformed; the message is shown to the user as is."""
