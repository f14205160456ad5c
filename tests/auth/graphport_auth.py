"""Owner-stamping auth written against `graphport.Auth`."""

from auth_rules import build

from graphport import Auth

auth = build(Auth)
