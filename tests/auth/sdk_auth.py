"""The same auth written against `langgraph_sdk.Auth` (a user migrating keeps this file)."""

from auth_rules import build
from langgraph_sdk import Auth

auth = build(Auth)
