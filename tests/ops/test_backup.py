"""aisle backup / restore: a studio taken from one database and restored into an empty one
of the other dialect reads back identically (ids kept), and still works there."""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from aisle.cli.seed import ensure_demo
from aisle.domain.contact import Contact, Partner
from aisle.runtime import Runtime
from aisle.services.backup import Backups
from aisle.services.errors import Refused
from aisle.settings import Settings
from aisle.storage.credentials import CredentialCipher
from aisle.storage.database import Database, connect
from aisle.storage.org_rows import BACKUP_TABLES, LEFT_OUT, ORGANIZATION
from aisle.storage.store import Store

pytestmark = pytest.mark.asyncio


async def _empty_other(db: Database, request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    """A migrated, empty database of the dialect ``db`` is not."""
    if db.is_postgres:
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "restored.sqlite3"
        shutil.copyfile(template, path)
        return await connect(f"sqlite:///{path}")
    other = await connect(request.getfixturevalue("postgres_url"), pool_min=1, pool_max=4)
    rows = await other.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
        "AND tablename <> 'aisle_migrations'"
    )
    await other.run_ddl("TRUNCATE " + ", ".join(f'"{r["tablename"]}"' for r in rows) + " CASCADE")
    return other


@pytest.fixture
async def other(
    db: Database, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Database]:
    if not db.is_postgres:
        pytest.importorskip("asyncpg")
    database = await _empty_other(db, request, tmp_path)
    db.bind()  # connecting bound piccolo's tables to the other; the test starts on db
    try:
        yield database
    finally:
        await database.close()
        db.bind()


async def _studio(runtime: Runtime, settings: Settings) -> dict[str, Any]:
    """The demo studio, plus what the demo lacks: a CRM connection with a mapping and
    encrypted credentials, a studio secret, a couple with an external id, a task, a
    second draft of the journey, executor memory and a processed event."""
    seed = await ensure_demo(runtime)
    org = seed.organization
    scope = runtime.store.for_org(org)
    cipher = CredentialCipher.from_settings(settings)
    await scope.crm_connections.create(
        provider="tave",
        name="Tave",
        credentials=cipher.encrypt({"api_key": "k-123", "secret_key": "s-456"}),
        field_mapping={"wedding_date": "event_date", "venue": "location"},
        settings={"brand": "golden"},
        schedule_seconds=900,
    )
    await scope.secrets.put("webhook_signing_secret", "whsec-abc", cipher)
    couple = await runtime.create_contact(
        org.id,
        Contact(
            email="zoe@example.com",
            partners=[Partner(first_name="Zoë", last_name="Ångström")],
            wedding_date=runtime.clock.now().date() + timedelta(days=200),
            external_ids={"tave": "J-99"},
            custom={"package": "gold", "hours": 8.5, "extras": [1, 2.0, "three"]},
        ),
        actor="test",
        source="test",
    )
    await scope.tasks.create(
        title="Call the venue", assignee="owner", contact_id=couple.id, details={"n": 1}
    )
    await scope.executor_memory.remember("test.exec", "cursor", {"page": 3})
    for journey in await scope.journeys.list():
        first, *rest = journey.draft.steps
        edited = msgspec.structs.replace(first, label=first.label + " (edited)")
        await scope.journeys.save_draft(
            journey.id, msgspec.structs.replace(journey.draft, steps=[edited, *rest])
        )
    return {"org": org, "token": seed.owner_token, "password": seed.owner_password}


def _lines(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rb") as source:
        lines = [json.loads(raw) for raw in source]
    del lines[0]["created_at"]
    return lines


@pytest.mark.postgres
@pytest.mark.parametrize("with_log", [False, True])
async def test_a_backup_restored_into_the_other_dialect_exports_equal(
    runtime: Runtime, settings: Settings, other: Database, tmp_path: Path, with_log: bool
) -> None:
    source = runtime.store
    studio = await _studio(runtime, settings)
    first = tmp_path / "first.aisle-backup"
    taken = await Backups(source).backup(studio["org"].slug, first, with_log=with_log)
    for table in (
        "users",
        "api_tokens",
        "contacts",
        "contact_external_ids",
        "journeys",
        "journey_versions",
        "enrollments",
        "events",
        "action_runs",
        "tasks",
        "crm_connections",
        "studio_secrets",
        "executor_memory",
    ):
        assert taken.counts[table] > 0, table
    assert ("automation_log" in taken.counts) is with_log

    target = Store(other, source.clock)
    other.bind()
    seen: list[tuple[str, int, int]] = []
    restored = await Backups(target).restore(first, progress=lambda *p: seen.append(p))
    assert restored.counts == {k: v for k, v in taken.counts.items() if v}
    assert seen[-1][1] == seen[-1][2] == taken.rows

    second = tmp_path / "second.aisle-backup"
    await Backups(target).backup(studio["org"].slug, second, with_log=with_log)
    assert _lines(second) == _lines(first)

    # Still a working studio: the owner's token and password, the encrypted secrets.
    token = await target.system.authenticate(studio["token"])
    assert token is not None and token.organization_id == studio["org"].id
    assert await target.system.password_users("owner@demo.example")
    scope = target.for_org(studio["org"].id)
    cipher = CredentialCipher.from_settings(settings)
    (connection,) = await scope.crm_connections.list()
    stored = await scope.crm_connections.credentials(connection.id)
    assert cipher.decrypt(stored) == {"api_key": "k-123", "secret_key": "s-456"}
    assert connection.field_mapping == {"wedding_date": "event_date", "venue": "location"}
    assert cipher.decrypt(str(await scope.secrets.ciphertext("webhook_signing_secret"))) == (
        "whsec-abc"
    )


async def test_restore_refuses_a_studio_already_there_and_a_missing_file(
    store: Store, runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    studio = await _studio(runtime, settings)
    path = tmp_path / "studio.aisle-backup"
    await Backups(store).backup(studio["org"].slug, path)
    with pytest.raises(Refused) as refused:
        await Backups(store).restore(path)
    assert refused.value.status == 409 and "already" in refused.value.detail
    with pytest.raises(Refused) as refused:
        await Backups(store).restore(path, into_slug="elsewhere")
    assert refused.value.status == 409  # the same ids: another database, not another slug

    missing = tmp_path / "none.aisle-backup"
    with pytest.raises(Refused) as refused:
        await Backups(store).restore(missing)
    assert refused.value.status == 422 and refused.value.errors[0].field == "file"


async def test_a_truncated_backup_restores_nothing(
    runtime: Runtime, settings: Settings, other: Database, tmp_path: Path
) -> None:
    studio = await _studio(runtime, settings)
    path = tmp_path / "studio.aisle-backup"
    await Backups(runtime.store).backup(studio["org"].slug, path)
    with gzip.open(path, "rb") as source:
        lines = source.readlines()
    cut = tmp_path / "cut.aisle-backup"
    with gzip.open(cut, "wb") as out:
        out.writelines(lines[:-1])
    target = Store(other, runtime.store.clock)
    other.bind()
    with pytest.raises(Refused) as refused:
        await Backups(target).restore(cut)
    assert refused.value.status == 422 and "truncated" in refused.value.detail
    assert await target.organizations.list() == []


async def test_every_organization_table_is_backed_up_or_left_out_for_a_reason(
    db: Database,
) -> None:
    if db.is_postgres:
        rows = await db.execute(
            "SELECT table_name AS t, column_name AS c FROM information_schema.columns "
            "WHERE table_schema = current_schema()"
        )
    else:
        rows = await db.execute(
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p "
            "WHERE m.type = 'table'"
        )
    columns: dict[str, set[str]] = {}
    for row in rows:
        columns.setdefault(row["t"], set()).add(row["c"])
    scoped = {t for t, cs in columns.items() if "organization_id" in cs}
    carried = {s.name for s in BACKUP_TABLES}
    assert scoped == carried | set(LEFT_OUT)
    for spec in (ORGANIZATION, *BACKUP_TABLES):
        assert set(spec.columns) == columns[spec.name], spec.name
