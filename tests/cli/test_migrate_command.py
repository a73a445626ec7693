"""``aisle migrate``: applies what is missing, then reports the database up to date."""

from __future__ import annotations

from pathlib import Path

from .processes import clean_env, run_aisle


async def test_migrate_applies_once_then_is_up_to_date(tmp_path: Path) -> None:
    env = clean_env(AISLE_DATA_DIR=str(tmp_path / "data"))
    first = await run_aisle("migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Applied ")
    assert "m0001_initial" in first.stdout
    assert (tmp_path / "data" / "aisle.sqlite3").exists()
    again = await run_aisle("migrate", env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().endswith("is up to date.")


async def test_a_malformed_setting_is_a_usage_error_naming_the_variable(tmp_path: Path) -> None:
    env = clean_env(AISLE_DATA_DIR=str(tmp_path), AISLE_DATABASE_URL="mysql://db/aisle")
    ran = await run_aisle("migrate", env=env)
    assert ran.returncode == 2
    assert "AISLE_DATABASE_URL: unsupported scheme 'mysql'" in ran.stderr
    assert "Traceback" not in ran.stderr
