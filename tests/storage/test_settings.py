"""Settings from the environment: defaults, the generated key, secrets kept out of logs."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from aisle.settings import Settings, SettingsError


def test_defaults_embedded_sqlite_in_data_dir(tmp_path: Path) -> None:
    settings = Settings.from_env({"AISLE_DATA_DIR": str(tmp_path / "d")})
    assert settings.embedded and settings.dialect == "sqlite"
    assert settings.database_url == f"sqlite:///{tmp_path / 'd' / 'aisle.sqlite3'}"
    key_file = tmp_path / "d" / "secret.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert key_file.read_text().strip() == settings.secret_key
    # The second start reads the same key.
    assert Settings.from_env({"AISLE_DATA_DIR": str(tmp_path / "d")}).secret_key == (
        settings.secret_key
    )


def test_production_needs_an_explicit_key(tmp_path: Path) -> None:
    env = {"AISLE_DATA_DIR": str(tmp_path), "AISLE_REDIS_URL": "redis://127.0.0.1:6379/0"}
    with pytest.raises(SettingsError, match="AISLE_SECRET_KEY"):
        Settings.from_env(env)
    settings = Settings.from_env({**env, "AISLE_SECRET_KEY": "k" * 44})
    assert not settings.embedded


def test_secrets_never_in_repr(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "AISLE_DATA_DIR": str(tmp_path),
            "AISLE_SECRET_KEY": "super-secret-key",
            "AISLE_DATABASE_URL": "postgresql://aisle:hunter2@db:5432/aisle",
            "AISLE_REDIS_URL": "redis://:redispw@cache:6379/0",
            "AISLE_SMTP_HOST": "mail.test",
        }
    )
    text = repr(settings) + str(settings.describe())
    for secret in ("super-secret-key", "hunter2", "redispw"):
        assert secret not in text
    assert "postgresql://aisle:***@db:5432/aisle" in text
    assert settings.dialect == "postgres"
    assert settings.setting("smtp_host") == "mail.test"


def test_malformed_values_name_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="AISLE_WORKER_THREADS"):
        Settings.from_env({"AISLE_DATA_DIR": str(tmp_path), "AISLE_WORKER_THREADS": "many"})
    with pytest.raises(SettingsError, match="AISLE_DATABASE_URL"):
        Settings.from_env({"AISLE_DATA_DIR": str(tmp_path), "AISLE_DATABASE_URL": "mysql://x"})
