"""Capability declarations: which suite checks apply to a plugin, and why one is skipped.

Like SQLAlchemy's ``requirements.py``: each suite names the optional capabilities its
checks rely on (``Suite.capabilities``), a check says which one it needs with
:func:`requires`, and a plugin's test class switches a capability off by stating why in
``unsupported``::

    class TestTaskExecutor(ActionExecutorSuite):
        unsupported = {"timeouts": "creates a task in Aisle's own database; nothing can hang"}

A check whose capability is switched off is skipped with that reason, so a partial
plugin still passes, and the report says what was not checked and why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

import pytest

__all__ = ["CapabilitySuite", "required_by", "requires"]

F = TypeVar("F", bound=Callable[..., Any])

_ATTRIBUTE = "__aisle_requires__"


def requires(*capabilities: str) -> Callable[[F], F]:
    """Mark a suite check as needing every capability named (skipped when one is off)."""

    def mark(check: F) -> F:
        setattr(check, _ATTRIBUTE, (*getattr(check, _ATTRIBUTE, ()), *capabilities))
        return check

    return mark


def required_by(check: Callable[..., Any]) -> tuple[str, ...]:
    """The capabilities ``check`` was marked with."""
    names: tuple[str, ...] = getattr(check, _ATTRIBUTE, ())
    return names


class CapabilitySuite:
    """Base of every suite: declares capabilities and skips checks that are switched off.

    ``capabilities`` (set by each suite) maps a capability to what claiming it means.
    ``unsupported`` (set by a plugin's test class) maps a capability to the reason the
    plugin does not claim it. Subclasses may add :meth:`declined` for capabilities a
    registration declares itself (a CRM provider's ``capabilities``).
    """

    kind: ClassVar[str] = "plugin"
    capabilities: ClassVar[Mapping[str, str]] = {}
    unsupported: ClassVar[Mapping[str, str]] = {}

    def declined(self, capability: str, registration: Any) -> str | None:
        """Why ``capability`` is off for ``registration``, or ``None`` when it is on."""
        return self.unsupported.get(capability)

    @pytest.fixture(autouse=True)
    def _aisle_requirements(self, request: pytest.FixtureRequest) -> None:
        needed = required_by(request.function)
        if not needed:
            return
        registration = request.getfixturevalue("registration")
        for capability in needed:
            reason = self.declined(capability, registration)
            if reason is not None:
                pytest.skip(
                    f"{self.kind} {registration.name!r} does not claim {capability!r}: {reason}"
                )

    def test_unsupported_capabilities_are_known_and_explained(self) -> None:
        """Every entry of ``unsupported`` names a real capability and gives a reason."""
        problems = []
        for capability, reason in self.unsupported.items():
            if capability not in self.capabilities:
                known = ", ".join(sorted(self.capabilities)) or "none"
                problems.append(
                    f"unsupported names {capability!r}, which {type(self).__name__} does not "
                    f"know (its capabilities: {known})"
                )
            elif not isinstance(reason, str) or not reason.strip():
                problems.append(
                    f"unsupported[{capability!r}] needs a reason saying why the plugin does "
                    "not claim it (it is shown as the skip reason)"
                )
        assert not problems, "; ".join(problems)
