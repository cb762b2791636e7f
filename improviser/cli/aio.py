"""Running a coroutine from a command, with a user's error surfacing as itself."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from improviser.errors import ImproviserError

__all__ = ["run_async"]

T = TypeVar("T")


def _leaf(group: BaseException) -> BaseException:
    """The first :class:`ImproviserError` inside nested exception groups (else the group)."""
    if isinstance(group, BaseExceptionGroup):
        for inner in group.exceptions:
            found = _leaf(inner)
            if isinstance(found, ImproviserError):
                return found
    return group


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` that surfaces a user's error as itself, not as an exception group."""
    try:
        return asyncio.run(coro)
    except BaseExceptionGroup as group:
        leaf = _leaf(group)
        if leaf is group:
            raise
        raise leaf from None
