"""CLI fixtures: the environment a command needs to reach the test's database."""

from __future__ import annotations

from pathlib import Path

import pytest

from aisle.storage.store import Store

from .processes import clean_env


@pytest.fixture
def store_env(store: Store, tmp_path: Path) -> dict[str, str]:
    """An environment pointing ``aisle`` at ``store``'s database (SQLite or PostgreSQL)."""
    return clean_env(AISLE_DATABASE_URL=store.db.url, AISLE_DATA_DIR=str(tmp_path / "data"))
