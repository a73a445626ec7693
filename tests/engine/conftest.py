"""Fixtures for engine tests: the built-in registry (no entry-point plugins)."""

from __future__ import annotations

import pytest

from aisle.contracts.registry import Registry
from aisle.plugins.manager import load_registry


@pytest.fixture(scope="session")
def builtin_registry() -> Registry:
    registry = load_registry(entry_points=False)
    assert not registry.errors, registry.errors
    return registry
