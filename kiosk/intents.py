"""Which journey methods the screens may call: the ones marked `@intent`.

The mark is read off the class (`intents_of`), so the list of intents cannot drift from the
journey; `tests/test_intents.py` checks that every intent named in a `.kv` or `.py` file exists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_MARK = "__kiosk_intent__"


def intent(method: F) -> F:
    """Mark a journey method as something a touch on a screen may ask for."""
    setattr(method, _MARK, True)
    return method


def intents_of(cls: type) -> frozenset[str]:
    """The names of the methods of `cls` marked with `@intent`."""
    return frozenset(
        name for name in dir(cls) if getattr(getattr(cls, name, None), _MARK, False) is True
    )
