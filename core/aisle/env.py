"""Numbers from ``AISLE_*`` environment variables, read one way everywhere.

Every layer reads some (the engine its condition limits, the bounded pools their
bounds, the API and collaboration their limits and leases, :mod:`aisle.settings` the
rest), so this module sits below all of them and imports nothing of Aisle. A malformed
value is a :class:`SettingsError` naming the variable; an unset or blank one is the
default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal, TypeVar

__all__ = ["Bound", "SettingsError", "env_number"]

N = TypeVar("N", int, float)

Bound = Literal["positive", "non-negative", "any"]
"""Which values a setting accepts: above zero, zero and above, or any (finite) number."""


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


_KIND = {int: ("integer", "an integer"), float: ("number", "a number")}


def env_number(env: Mapping[str, str], name: str, default: N, *, bound: Bound = "positive") -> N:
    """The value of ``name`` in ``env``, of the type of ``default`` (an ``int`` setting
    refuses ``1.5``); ``default`` when unset or blank.

    :raises SettingsError: naming ``name`` when the value is not a finite number of that
        type within ``bound``.
    """
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    kind = type(default)
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or not _within(value, bound):
        noun, article = _KIND[kind]
        wanted = {
            "positive": f"a positive {noun}",
            "non-negative": f"{article} ≥ 0",
            "any": article,
        }[bound]
        raise SettingsError(f"{name} must be {wanted}, got {raw!r}")
    return value


def _within(value: float, bound: Bound) -> bool:
    if bound == "positive":
        return value > 0
    if bound == "non-negative":
        return value >= 0
    return True
