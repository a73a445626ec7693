"""What a condition worker runs: one CEL condition's value.

The condition pool of :mod:`aisle.bounded` loads this module by path in its workers,
so it imports the CEL library and nothing of Aisle (a worker starts in a quarter of a
second instead of three quarters, and holds a third less memory). The answer is
``["ok", true|false]`` or ``["error", message]``; the time and memory bounds are the
pool's.
"""

from __future__ import annotations

from typing import Any

import cel

__all__ = ["evaluate"]

_CACHE_SIZE = 1024
_programs: dict[str, Any] = {}


def evaluate(expression: str, activation: dict[str, Any]) -> tuple[str, bool | str]:
    """``expression``'s value for ``activation``, or the error that stopped it.

    The parent measured the expression against the limits before sending it, so it is
    safe to compile here.
    """
    try:
        program = _programs.get(expression)
        if program is None:
            if len(_programs) >= _CACHE_SIZE:
                _programs.clear()
            program = _programs[expression] = cel.compile(expression)
        context = cel.Context()
        context.update(activation)
        result = program.execute(context)
    except MemoryError:
        raise  # the pool's memory bound: the worker is replaced
    except Exception as exc:
        return ("error", f"{type(exc).__name__}: {exc}"[:2000])
    if isinstance(result, bool):
        return ("ok", result)
    return ("error", f"the result is {type(result).__name__} {result!r:.200}, not a bool")
