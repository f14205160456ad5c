"""A default that tells "not passed" apart from an explicit `None`."""

from __future__ import annotations

import enum
from typing import Literal, TypeAlias


class _NotProvided(enum.Enum):
    NOT_PROVIDED = "NOT_PROVIDED"

    def __repr__(self) -> str:
        return "NOT_PROVIDED"


NOT_PROVIDED = _NotProvided.NOT_PROVIDED
"""Default of arguments where `None` means something (no API key; clear a cron's end time)."""

NotProvided: TypeAlias = Literal[_NotProvided.NOT_PROVIDED]
