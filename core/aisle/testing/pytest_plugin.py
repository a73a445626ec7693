"""Aisle's pytest plugin (entry point ``pytest11``): shared fixtures for plugin tests.

Loaded automatically wherever ``aisle`` is installed, so it imports nothing from Aisle
at load time: a fixture imports what it needs when a test asks for it. Every fixture
name starts with ``aisle_`` so a project's own ``conftest.py`` never clashes with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from aisle.clock import TestClock
    from aisle.plugins.manager import Registry

__all__ = ["aisle_clock", "aisle_registry"]


@pytest.fixture
def aisle_clock() -> TestClock:
    """A clock standing at :data:`~aisle.testing.SAMPLE_NOW` until the test moves it."""
    from aisle.clock import TestClock
    from aisle.testing.samples import SAMPLE_NOW

    return TestClock(SAMPLE_NOW)


@pytest.fixture
def aisle_registry() -> Registry:
    """The installed plugins as Aisle loads them (built-ins, then entry points)."""
    from aisle.plugins.manager import load_registry

    return load_registry()
