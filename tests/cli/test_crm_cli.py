"""``aisle crm``: connect (credentials asked hidden, from a file or the environment, never
printed), sync to completion in this process, status, held changes decided, CSV files
previewed, imported and exported, and the credential key rotated; on SQLite and
PostgreSQL, against the Tave fake over a real socket."""

from __future__ import annotations

import asyncio
import io
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rich.console import Console

from aisle.cli.crm import parse_duration
from aisle.cli.crm_progress import RunBar
from aisle.cli.main import main
from aisle.clock import SystemClock
from aisle.crm.deps import CRMDeps
from aisle.crm.runs import execute_sync_run
from aisle.domain.contact import Contact
from aisle.domain.organization import Organization
from aisle.domain.sync_run import SyncRun
from aisle.http import client
from aisle.plugins.manager import load_registry
from aisle.runtime import Runtime
from aisle.settings import Settings
from aisle.storage.credentials import CredentialCipher
from aisle.storage.crm_records import HeldChangeRepository, NewHeldChange
from aisle.storage.store import Store
from aisle_crm_tave.fake import FakeTave
from tests.cli.processes import clean_env, run_aisle
from tests.conftest import TEST_SECRET_KEY

SECRET = "tave-key-never-printed-5e1f0c"
OTHER_KEY = "a-second-operator-key-for-rotation-7d2"
CSV = (
    "First Name,Last Name,Email,Phone,Partner First Name,Partner Last Name\r\n"
    "Ana,Silva,ana@example.com,+44 20 7946 0001,Ben,Costa\r\n"
    "Eve,Ng,not an address,,,\r\n"
)


class Aisle:
    """``aisle`` invoked in a thread (the command runs its own event loop) with ``env``."""

    def __init__(self, env: dict[str, str | None]) -> None:
        self.env = env

    async def __call__(
        self,
        *args: str,
        code: int = 0,
        input: str | None = None,
        env: dict[str, str | None] | None = None,
    ) -> Result:
        runner = CliRunner()
        result = await asyncio.to_thread(
            runner.invoke, main, list(args), env={**self.env, **(env or {})}, input=input
        )
        assert result.exit_code == code, (result.output, result.exception)
        assert SECRET not in result.output
        return result

    async def json(self, *args: str, code: int = 0, **kw: object) -> object:
        result = await self(*args, "--json", code=code, **kw)  # type: ignore[arg-type]
        return json.loads(result.stdout)


@pytest.fixture
def tave() -> Iterator[FakeTave]:
    with FakeTave(api_key=SECRET, page_size=10) as server:
        yield server


@pytest.fixture
def aisle(store: Store, tmp_path: Path) -> Aisle:
    # The developer's own AISLE_* settings are unset for the command.
    env: dict[str, str | None] = dict.fromkeys(k for k in os.environ if k.startswith("AISLE_"))
    env.update(
        AISLE_DATABASE_URL=store.db.url,
        AISLE_DATA_DIR=str(tmp_path / "data"),
        AISLE_SECRET_KEY=TEST_SECRET_KEY,
        AISLE_HTTP_ALLOW="127.0.0.1/32",
    )
    return Aisle(env)


@pytest.fixture
async def studio(store: Store) -> Organization:
    return await store.organizations.create(slug="studio", name="Studio")


async def test_connect_asks_hidden_syncs_here_and_reports_in_words_and_json(
    aisle: Aisle, store: Store, studio: Organization, tave: FakeTave
) -> None:
    tave.seed(
        "contacts",
        [
            {"email": f"{name}@example.com", "firstName": name.title()}
            for name in ("ada", "bea", "cy")
        ],
    )
    made = await aisle(
        "crm",
        "connect",
        "tave",
        "--org",
        "studio",
        "--name",
        "Tave",
        "--schedule",
        "1h",
        input=f"{SECRET}\n{tave.url}\n",
    )
    assert "Connected tave as 'Tave'" in made.stdout and "every 1h" in made.stdout
    assert "credentials set: api_key, base_url" in made.stdout
    [connection] = await store.for_org(studio).crm_connections.list()
    assert SECRET not in await store.for_org(studio).crm_connections.credentials(connection.id)
    assert connection.schedule_seconds == 3600

    listed = await aisle.json("crm", "list", "--org", "studio")
    assert isinstance(listed, list)
    assert [(c["name"], c["credentials_set"], c["credentials_usable"]) for c in listed] == [
        ("Tave", ["api_key", "base_url"], True)
    ]
    tested = await aisle("crm", "test", "Tave", "--org", "studio")
    assert tested.stdout.startswith("Tave: works: listed contacts")

    first = await aisle.json("crm", "sync", "Tave", "--org", "studio", "--here")
    assert isinstance(first, dict) and first["queued"] is True
    run = first["run"]
    assert run["status"] == "succeeded" and run["counts"]["created"] == 3, run
    assert run["seen"] == 3 and run["phase"] == "done" and run["worker"].startswith("cli:")
    contacts = await store.for_org(studio).contacts.list(limit=10)
    assert sorted(c.email or "" for c in contacts) == [
        "ada@example.com",
        "bea@example.com",
        "cy@example.com",
    ]

    tave.tick(5)
    [bea] = [c for c in contacts if c.email == "bea@example.com"]
    tave.update("contacts", bea.external_ids["tave"], {"firstName": "Beatrice"})
    again = await aisle("crm", "sync", connection.id, "--org", "studio", "--here")
    assert "Sync of 'Tave' succeeded" in again.stdout and "1 updated" in again.stdout
    assert (await store.for_org(studio).contacts.get(bea.id)).partners[0].first_name == "Beatrice"

    status = await aisle.json("crm", "status", "Tave", "--org", "studio")
    assert isinstance(status, dict)
    assert [r["counts"]["created"] for r in status["runs"]] == [0, 3]
    assert status["connection"]["status"] == "succeeded" and status["held_pending"] == 0
    words = await aisle("crm", "status", "Tave", "--org", "studio")
    assert words.stdout.startswith("Tave (tave, pull, every 1h): succeeded")
    assert words.stdout.count(" manual succeeded") == 2


async def test_credentials_come_from_a_file_or_the_environment_and_are_checked(
    aisle: Aisle, store: Store, studio: Organization, tmp_path: Path, tave: FakeTave
) -> None:
    key_file = tmp_path / "tave.json"
    key_file.write_text(json.dumps({"api_key": SECRET, "base_url": tave.url}))
    await aisle(
        "crm",
        "connect",
        "tave",
        "--org",
        "studio",
        "--name",
        "From file",
        "--credentials-file",
        str(key_file),
    )
    from_env = await aisle.json(
        "crm",
        "connect",
        "tave",
        "--org",
        "studio",
        "--name",
        "From env",
        env={"AISLE_CRM_CREDENTIALS": json.dumps({"api_key": SECRET})},
    )
    assert isinstance(from_env, dict) and from_env["credentials_set"] == ["api_key", "base_url"]

    refused = await aisle.json(
        "crm",
        "connect",
        "tave",
        "--org",
        "studio",
        "--name",
        "Keyless",
        code=1,
        env={"AISLE_CRM_CREDENTIALS": json.dumps({"base_url": tave.url})},
    )
    assert isinstance(refused, dict)
    assert refused["error"]["status"] == 422
    assert refused["error"]["errors"][0]["field"] == "credentials"
    taken = await aisle(
        "crm",
        "connect",
        "tave",
        "--org",
        "studio",
        "--name",
        "From file",
        code=1,
        env={"AISLE_CRM_CREDENTIALS": json.dumps({"api_key": SECRET})},
    )
    assert "From file" in taken.stderr
    unknown = await aisle(
        "crm", "connect", "nope", "--org", "studio", "--name", "X", code=1, input="\n"
    )
    assert "no CRM provider named 'nope'" in unknown.stderr and "aisle plugins" in unknown.stderr
    not_json = await aisle(
        "crm",
        "connect",
        "tave",
        "--org",
        "studio",
        "--name",
        "Y",
        code=2,
        env={"AISLE_CRM_CREDENTIALS": SECRET},
    )
    assert "AISLE_CRM_CREDENTIALS: not JSON" in not_json.stderr
    nothing = await aisle("crm", "connect", "tave", "--org", "studio", "--name", "Z", code=2)
    assert "--credentials-file" in nothing.stderr
    names = [c.name for c in await store.for_org(studio).crm_connections.list()]
    assert sorted(names) == ["From env", "From file"]


async def test_a_queued_sync_waits_for_a_server_and_says_how_to_go_on(
    aisle: Aisle, studio: Organization
) -> None:
    await aisle(
        "crm",
        "connect",
        "tave",
        "--org",
        "studio",
        "--name",
        "Tave",
        env={"AISLE_CRM_CREDENTIALS": json.dumps({"api_key": SECRET})},
    )
    queued = await aisle("crm", "sync", "Tave", "--org", "studio")
    assert queued.stdout.startswith("Queued run ")
    run_id = queued.stdout.split()[2]
    waited = await aisle(
        "crm", "sync", "Tave", "--org", "studio", "--wait", "--timeout", "0.3", code=1
    )
    assert f"Run {run_id} of 'Tave' is still queued after 0.3s" in waited.stderr
    cancelled = await aisle.json("crm", "cancel", run_id, "--org", "studio")
    assert isinstance(cancelled, dict) and cancelled["id"] == run_id
    missing = await aisle("crm", "sync", "Nope", "--org", "studio", code=2)
    assert "no CRM connection 'Nope' in studio (its connections: 'Tave')" in missing.stderr
    wrong_org = await aisle("crm", "list", "--org", "elsewhere", code=2)
    assert "no organization with slug 'elsewhere'" in wrong_org.stderr


async def test_csv_files_are_previewed_imported_again_and_exported(
    aisle: Aisle, store: Store, studio: Organization, tmp_path: Path
) -> None:
    await aisle(
        "crm",
        "connect",
        "studioninja",
        "--org",
        "studio",
        "--name",
        "Ninja",
        env={"AISLE_CRM_CREDENTIALS": "{}"},
    )
    clients = tmp_path / "clients.csv"
    clients.write_text(CSV)
    preview = await aisle.json(
        "crm", "import-csv", "Ninja", str(clients), "--org", "studio", "--preview"
    )
    assert isinstance(preview, dict)
    rows = preview["preview"]["rows"]
    assert [r["key"] for r in rows] == ["ana@example.com", "not an address"]
    assert rows[0]["values"]["phone"] == "+442079460001" and rows[0]["errors"] == []
    assert rows[1]["errors"][0]["field"] == "email"
    shown = await aisle("crm", "import-csv", "Ninja", str(clients), "--org", "studio", "--preview")
    assert "row 3 [not an address]" in shown.stdout and "  ! email:" in shown.stdout
    assert await store.for_org(studio).contacts.list(limit=10) == []

    imported = await aisle.json("crm", "import-csv", "Ninja", str(clients), "--org", "studio")
    assert isinstance(imported, dict)
    assert imported["status"] == "partial" and imported["trigger"] == "csv_import"
    assert imported["counts"] == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "held": 0,
        "failed": 1,
    }
    assert imported["errors"][0]["row"] == 3
    again = await aisle(
        "crm", "import-csv", "Ninja", "-", "--format", "clients", "--org", "studio", input=CSV
    )
    assert "Import into 'Ninja' partial" in again.stdout and "1 unchanged" in again.stdout
    assert "  row 3 (clients not an address): email:" in again.stdout

    out = tmp_path / "export.csv"
    exported = await aisle.json("crm", "export-csv", "Ninja", "--org", "studio", "-o", str(out))
    assert exported == {
        "connection": "Ninja",
        "format": "clients",
        "file": str(out),
        "rows": 1,
        "pending_written": 0,
    }
    lines = out.read_text().splitlines()
    assert lines[0] == "First Name,Last Name,Email,Phone,Partner First Name,Partner Last Name"
    assert lines[1:] == ["Ana,Silva,ana@example.com,+442079460001,Ben,Costa"]
    streamed = await aisle("crm", "export-csv", "Ninja", "--org", "studio", "-o", "-")
    assert streamed.stdout.splitlines() == lines
    assert not (tmp_path / "export.csv.partial").exists()
    wrong = await aisle(
        "crm",
        "import-csv",
        "Ninja",
        str(clients),
        "--org",
        "studio",
        "--format",
        "invoices",
        code=1,
    )
    assert "no 'invoices' CSV (has clients, leads, jobs)" in wrong.stderr


async def test_held_changes_are_listed_confirmed_and_rejected(
    aisle: Aisle, store: Store, studio: Organization
) -> None:
    await aisle(
        "crm",
        "connect",
        "tave",
        "--org",
        "studio",
        "--name",
        "Tave",
        env={"AISLE_CRM_CREDENTIALS": json.dumps({"api_key": SECRET})},
    )
    [connection] = await store.for_org(studio).crm_connections.list()
    scope = store.for_org(studio)
    couple = await scope.contacts.create(Contact(venue="Barn"))
    await HeldChangeRepository(studio.id, store.db, store.clock).hold_many(
        connection.id,
        None,
        [
            NewHeldChange(couple.id, "venue", "Barn", "Hall", "protected field"),
            NewHeldChange(couple.id, "custom.vendor_florist", "Roses", "Petals", "protected field"),
        ],
    )
    held = await aisle.json("crm", "held", "--org", "studio", "--connection", "Tave")
    assert isinstance(held, list)
    by_field = {h["field"]: h["id"] for h in held}
    assert set(by_field) == {"venue", "custom.vendor_florist"}
    words = await aisle("crm", "held", "--org", "studio")
    assert "venue: 'Barn' -> 'Hall'" in words.stdout

    confirmed = await aisle("crm", "confirm", by_field["venue"], "--org", "studio")
    assert f"venue of contact {couple.id} is now 'Hall'" in confirmed.stdout
    assert (await scope.contacts.get(couple.id)).venue == "Hall"
    rejected = await aisle.json(
        "crm", "reject", by_field["custom.vendor_florist"], "--org", "studio"
    )
    assert isinstance(rejected, dict) and rejected["status"] == "rejected"
    twice = await aisle.json("crm", "confirm", by_field["venue"], "--org", "studio", code=1)
    assert isinstance(twice, dict) and twice["error"]["status"] == 409
    assert "is confirmed already" in twice["error"]["detail"]
    assert await aisle.json("crm", "held", "--org", "studio") == []
    everything = await aisle.json("crm", "held", "--org", "studio", "--status", "all")
    assert isinstance(everything, list) and len(everything) == 2


async def test_rotate_key_re_encrypts_with_the_current_key(
    aisle: Aisle, store: Store, studio: Organization, tave: FakeTave
) -> None:
    await aisle(
        "crm",
        "connect",
        "tave",
        "--org",
        "studio",
        "--name",
        "Tave",
        env={"AISLE_CRM_CREDENTIALS": json.dumps({"api_key": SECRET, "base_url": tave.url})},
    )
    scope = store.for_org(studio)
    [connection] = await scope.crm_connections.list()
    before = await scope.crm_connections.credentials(connection.id)
    signing_key = CredentialCipher(TEST_SECRET_KEY)
    await scope.secrets.put("webhook_signing_secret", "whsec_studio", signing_key)
    rotating = {"AISLE_SECRET_KEY": OTHER_KEY, "AISLE_PREVIOUS_SECRET_KEYS": TEST_SECRET_KEY}
    assert await aisle.json("crm", "rotate-key", env=rotating) == {
        "crm_credentials": 1,
        "studio_secrets": 1,
        "unreadable": [],
    }
    after = await scope.crm_connections.credentials(connection.id)
    assert after != before and SECRET not in after
    signing = await scope.secrets.reveal("webhook_signing_secret", CredentialCipher(OTHER_KEY))
    assert signing == "whsec_studio"
    again = await aisle("crm", "rotate-key", env={"AISLE_SECRET_KEY": OTHER_KEY})
    assert "1 CRM connection(s) and 1 studio secret(s)" in again.stdout
    only_new = {"AISLE_SECRET_KEY": OTHER_KEY}
    works = await aisle("crm", "test", "Tave", "--org", "studio", env=only_new)
    assert "works" in works.stdout

    stale = await aisle("crm", "test", "Tave", "--org", "studio", code=1)
    assert "FAILED" in stale.stdout and "AISLE_PREVIOUS_SECRET_KEYS" in stale.stdout
    unreadable = await aisle("crm", "rotate-key", code=1)
    assert f"crm connection {connection.id}" in unreadable.stderr
    assert "studio secret webhook_signing_secret" in unreadable.stderr
    assert "whsec_studio" not in unreadable.stderr
    assert "add the key they were encrypted with to AISLE_PREVIOUS_SECRET_KEYS" in (
        unreadable.stderr
    )
    listed = await aisle.json("crm", "list", "--org", "studio")
    assert isinstance(listed, list) and listed[0]["credentials_usable"] is False


def test_durations_read_as_seconds() -> None:
    assert [parse_duration(t) for t in ("90", "45s", "30m", "1h", "1h30m", "1d")] == [
        90,
        45,
        1800,
        3600,
        5400,
        86400,
    ]
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("soon")


def test_the_bar_shows_phase_seen_of_total_and_rate_on_a_terminal() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120, color_system=None)
    going = SyncRun(
        id="r1",
        organization_id="o",
        connection_id="c",
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        status="running",
        phase="contacts",
        seen=250,
        total=1000,
        rate=125.0,
    )
    with RunBar(console, "Tave") as bar:
        bar.show(going)
    assert "Tave: contacts" in out.getvalue()
    assert "250/1,000" in out.getvalue() and "125/s" in out.getvalue()
    with RunBar(None, "Tave") as quiet:
        quiet.show(going)  # no console (a pipe, or --json): nothing is drawn


async def test_sync_wait_follows_a_run_another_process_executes(
    aisle: Aisle, store: Store, studio: Organization, tave: FakeTave, settings: Settings
) -> None:
    tave.seed("contacts", [{"email": f"c{i}@example.com"} for i in range(25)])
    await aisle(
        "crm",
        "connect",
        "tave",
        "--org",
        "studio",
        "--name",
        "Tave",
        env={"AISLE_CRM_CREDENTIALS": json.dumps({"api_key": SECRET, "base_url": tave.url})},
    )
    env = clean_env(**{k: v for k, v in aisle.env.items() if v is not None})
    waiting = asyncio.create_task(
        run_aisle("crm", "sync", "Tave", "--org", "studio", "--wait", "--json", env=env)
    )
    # This test is the server: it executes the run the command queued, as the
    # embedded jobs would, while the command follows it from its own process.
    # On the wall clock, as the command's own process is: the run's duration spans both.
    runtime = Runtime(Store(store.db, SystemClock()), load_registry(), settings)
    deps = CRMDeps.of(runtime, http=lambda: client(allow=["127.0.0.1/32"], timeout=10.0))
    [connection] = await store.for_org(studio).crm_connections.list()
    for _ in range(600):
        run = await store.for_org(studio).sync_runs.active(connection.id)
        if run is not None or waiting.done():
            break
        await asyncio.sleep(0.05)
    assert run is not None, (await waiting).stderr
    done = await execute_sync_run(deps, studio.id, run.id, worker="test-server")
    assert done is not None and done.status == "succeeded"
    ran = await waiting
    assert ran.returncode == 0, ran.stderr
    followed = json.loads(ran.stdout)
    assert followed["run"]["id"] == run.id and followed["run"]["worker"] == "test-server"
    assert followed["run"]["counts"]["created"] == 25
    assert SECRET not in ran.stdout + ran.stderr
