"""Registration objects: what each hook returns (conda-style, one plugin may return many).

A registration names one thing a plugin contributes and carries the callables that
implement it. Names are validated on construction so a bad plugin fails at load time,
with its distribution named, rather than on a wedding day. Each kind of registration
lives with the contract it implements (:class:`~aisle.contracts.nodes.NodeType` in
:mod:`~aisle.contracts.nodes`, and so on); this module holds what they share.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

__all__ = ["EmptyConfig", "Registration", "RouteRegistration"]

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class EmptyConfig(msgspec.Struct, forbid_unknown_fields=True):
    """The config schema of a type that takes no settings."""


@dataclass(frozen=True, kw_only=True)
class Registration:
    """Fields every registration shares."""

    name: str
    label: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(
                f"invalid {type(self).__name__} name {self.name!r}: use lowercase letters, "
                "digits and '_', starting with a letter (at most 63 characters)"
            )

    def _require_struct(self, kind: str, config: type[Any]) -> None:
        """Refuse a config schema that is not a ``msgspec.Struct`` subclass."""
        if not (isinstance(config, type) and issubclass(config, msgspec.Struct)):
            raise TypeError(f"{kind} {self.name!r}: config must be a msgspec.Struct subclass")


@dataclass(frozen=True, kw_only=True)
class RouteRegistration(Registration):
    """Litestar route handlers (or routers) a plugin mounts into the app."""

    handlers: Sequence[Any] = ()
    path: str = "/"
