"""``aisle backup`` and ``aisle restore`` as an operator runs them: a studio backed up from
the test's database and restored into a fresh SQLite data directory, answered in JSON."""

from __future__ import annotations

import json
from pathlib import Path

from aisle.storage.store import Store
from tests.cli.processes import clean_env, run_aisle


async def test_backup_then_restore_into_a_fresh_data_dir(store: Store, tmp_path: Path) -> None:
    org = await store.organizations.create(
        slug="bravo", name="Bravo Films", settings={"studio_name": "Bravo"}
    )
    scope = store.for_org(org)
    await scope.users.create(email="ana@bravo.example", role="owner", name="Ana")
    source = clean_env(AISLE_DATABASE_URL=store.db.url, AISLE_DATA_DIR=str(tmp_path / "data"))
    path = tmp_path / "bravo.aisle-backup"

    ran = await run_aisle("backup", "--org", "bravo", "-o", str(path), "--json", env=source)
    assert ran.returncode == 0, ran.stderr
    taken = json.loads(ran.stdout)
    assert (taken["slug"], taken["file"], taken["tables"]["users"]) == ("bravo", str(path), 1)
    assert "\x1b[" not in ran.stderr  # no progress bar when not on a terminal

    fresh = clean_env(AISLE_DATA_DIR=str(tmp_path / "fresh"))
    ran = await run_aisle("restore", str(path), "--into-org", "bravo-2", "--json", env=fresh)
    assert ran.returncode == 0, ran.stderr
    restored = json.loads(ran.stdout)
    assert (restored["organization_id"], restored["slug"]) == (org.id, "bravo-2")
    assert restored["rows"] == taken["rows"]

    again = await run_aisle("restore", str(path), env=fresh)
    assert again.returncode == 1
    assert "already" in again.stderr and org.id in again.stderr

    missing = await run_aisle("backup", "--org", "nobody", "-o", str(path), env=source)
    assert missing.returncode == 1 and "nobody" in missing.stderr
    bad = await run_aisle("restore", str(path), "--into-org", "Not A Slug", env=fresh)
    assert bad.returncode == 1 and "slug" in bad.stderr
