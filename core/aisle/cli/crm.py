"""``aisle crm``: a studio's CRM connections from the command line, through the same
services as ``/api/v1/crm`` (:mod:`aisle.crm`), acting as the operator.

``sync`` queues a run by default and, with ``--wait``, follows it: the run belongs to
whoever executes syncs (``aisle serve``'s embedded jobs, or ``aisle worker`` with the
scheduler), which holds its lease and resumes it if it dies, so closing the terminal
loses nothing. ``--here`` executes it in this process instead, for when no server
runs (the couples' ``contact.created`` events then wait for the next server's
scheduler pass). Every command prints one JSON document with ``--json``; progress bars
go to standard error, on a terminal only.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Any, cast

import click
import msgspec
from rich.console import Console

from aisle.cli.crm_credentials import CREDENTIALS_ENV, read_credentials
from aisle.cli.crm_progress import RunBar, follow_run, summary
from aisle.cli.crm_session import (
    Studio,
    echo_json,
    fail,
    find_connection,
    open_studio,
    run_command,
)
from aisle.cli.options import data_dir_option, load_settings
from aisle.crm.connections import ConnectionService
from aisle.crm.csv_export import CSVExports
from aisle.crm.csv_import import CSVImports, CSVPreview
from aisle.crm.held import HeldChanges
from aisle.crm.runs import SyncRuns, execute_sync_run
from aisle.domain.crm_connection import CRMConnection, SyncDirection
from aisle.domain.held_change import HeldChange, HeldChangeStatus
from aisle.domain.sync_run import SyncRun
from aisle.services.key_rotation import RotationReport, rotate_secrets
from aisle.settings import Settings
from aisle.storage.credentials import CredentialError
from aisle.storage.store import Store

__all__ = ["command", "parse_duration"]

_DURATION = re.compile(r"(\d+)\s*([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_HELD_STATUSES = ("pending", "confirmed", "rejected", "superseded", "all")


def parse_duration(text: str) -> int:
    """``90``, ``45s``, ``30m``, ``1h``, ``1h30m``, ``1d`` as seconds."""
    text = text.strip().lower()
    if text.isdigit():
        return int(text)
    parts = _DURATION.findall(text)
    if not parts or _DURATION.sub("", text).strip():
        raise ValueError(f"{text!r} is not a duration (e.g. 1h, 30m, 1h30m, 1d)")
    return sum(int(n) * _UNIT_SECONDS[unit] for n, unit in parts)


def _schedule(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _progress_console(as_json: bool) -> Console | None:
    console = Console(stderr=True)
    return console if console.is_terminal and not as_json else None


def _org_option(func: Any) -> Any:
    return click.option(
        "--org", "org_slug", required=True, help="Slug of the studio (organization)."
    )(func)


def _json_option(func: Any) -> Any:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")(func)


def _when(moment: Any) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "never"


def _when_text(iso: str | None) -> str:
    return iso[:16].replace("T", " ") if iso else "never"


def _every(seconds: int | None) -> str:
    if not seconds:
        return "on demand"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"every {seconds // size}{unit}"
    return f"every {seconds}s"


async def _connection_document(studio: Studio, connection: CRMConnection) -> dict[str, Any]:
    """The connection as the API answers it: which credential fields are set, never
    their values (decrypted here only to tell; no token refresh, no network)."""
    provider = studio.deps.runtime.registry.crm_providers.get(connection.provider)
    filled: list[str] = []
    usable = False
    if provider is not None:
        try:
            stored = await studio.scope.crm_connections.credentials(connection.id)
            decrypted = msgspec.to_builtins(
                msgspec.convert(studio.deps.cipher.decrypt(stored), provider.credentials)
            )
            filled = sorted(k for k, v in (decrypted or {}).items() if v not in (None, ""))
            usable = True
        except (ValueError, msgspec.ValidationError):
            usable = False
    document: dict[str, Any] = msgspec.to_builtins(connection)
    for private in ("settings", "cursor", "organization_id"):
        document.pop(private, None)
    document.update(
        conflicts=dict(connection.conflicts),
        protected=list(connection.protected),
        credentials_set=filled,
        credentials_usable=usable,
    )
    return document


@click.group("crm")
def command() -> None:
    """Connect a studio's CRM, sync it, decide held changes, move CSV files."""


# -- connections ---------------------------------------------------------------------


@command.command("connect")
@click.argument("provider")
@_org_option
@click.option("--name", required=True, help="The connection's name, unique in the studio.")
@click.option(
    "--direction",
    type=click.Choice(["pull", "push", "both"]),
    default="pull",
    show_default=True,
    help="pull: the CRM's couples come into Aisle; push: Aisle's changes go out.",
)
@click.option(
    "--schedule",
    callback=_schedule,
    default=None,
    help="Sync periodically (1h, 30m, 1d; at least 5m); default: only on demand.",
)
@click.option(
    "--credentials-file",
    type=click.Path(dir_okay=False, allow_dash=True),
    default=None,
    help=f"A JSON object of the provider's credential fields (- for stdin); else "
    f"{CREDENTIALS_ENV}; else you are asked (secret fields hidden).",
)
@_json_option
@data_dir_option
def connect(
    provider: str,
    org_slug: str,
    name: str,
    direction: SyncDirection,
    schedule: int | None,
    credentials_file: str | None,
    as_json: bool,
    data_dir: str | None,
) -> None:
    """Connect PROVIDER (tave, honeybook, dubsado, studioninja…) to a studio; the
    credentials are stored encrypted and never printed."""
    settings = load_settings(data_dir)

    async def work() -> tuple[dict[str, Any], frozenset[str]]:
        async with open_studio(settings, org_slug) as studio:
            registration = studio.deps.provider(provider)
            credentials = read_credentials(registration, credentials_file, os.environ)
            made = await ConnectionService(studio.deps, studio.scope, studio.actor).create(
                provider=provider,
                name=name,
                credentials=credentials,
                direction=direction,
                schedule_seconds=schedule,
            )
            return await _connection_document(studio, made), registration.capabilities

    made, capabilities = run_command(work(), as_json=as_json)
    if as_json:
        echo_json(made)
        return
    named = f"{made['name']!r} --org {org_slug}"
    if "pull" in capabilities:
        next_step = f"`aisle crm test {named}`, then `aisle crm sync {named} --wait`"
    elif "csv_import" in capabilities:
        next_step = f"`aisle crm import-csv {named} FILE --preview`, then without --preview"
    else:
        next_step = f"`aisle crm test {named}`"
    click.echo(
        f"Connected {made['provider']} as {made['name']!r} (id {made['id']}): "
        f"{made['direction']}, {_every(made['schedule_seconds'])}; credentials set: "
        f"{', '.join(made['credentials_set']) or 'none'}."
    )
    click.echo(f"Next: {next_step}.")


@command.command("list")
@_org_option
@_json_option
@data_dir_option
def list_(org_slug: str, as_json: bool, data_dir: str | None) -> None:
    """List a studio's CRM connections: provider, name, direction, status, last sync."""
    settings = load_settings(data_dir)

    async def work() -> list[dict[str, Any]]:
        async with open_studio(settings, org_slug) as studio:
            service = ConnectionService(studio.deps, studio.scope, studio.actor)
            return [await _connection_document(studio, c) for c in await service.list()]

    connections = run_command(work(), as_json=as_json)
    if as_json:
        echo_json(connections)
        return
    if not connections:
        click.echo(
            f"No CRM connections yet: `aisle crm connect PROVIDER --org {org_slug} --name NAME`."
        )
        return
    for c in connections:
        error = f"\t{c['last_error']}" if c["last_error"] else ""
        click.echo(
            f"{c['id']}\t{c['provider']}\t{c['name']}\t{c['direction']}\t"
            f"{_every(c['schedule_seconds'])}\t{c['status']}\tlast sync "
            f"{_when_text(c['last_sync_at'])}"
            f"{'' if c['enabled'] else chr(9) + 'disabled'}{error}"
        )


@command.command("test")
@click.argument("connection_ref", metavar="CONNECTION")
@_org_option
@_json_option
@data_dir_option
def test(connection_ref: str, org_slug: str, as_json: bool, data_dir: str | None) -> None:
    """Try a connection's credentials against its CRM (exit 1 when they fail)."""
    settings = load_settings(data_dir)

    async def work() -> tuple[str, bool, str]:
        async with open_studio(settings, org_slug) as studio:
            connection = await find_connection(studio, connection_ref)
            tried = await ConnectionService(studio.deps, studio.scope, studio.actor).test(
                connection.id
            )
            return connection.name, tried.ok, tried.detail

    name, ok, detail = run_command(work(), as_json=as_json)
    if as_json:
        echo_json({"connection": name, "ok": ok, "detail": detail})
    else:
        click.echo(f"{name}: {'works' if ok else 'FAILED'}: {detail}")
    if not ok:
        sys.exit(1)


# -- syncs ---------------------------------------------------------------------------


def _worker_name() -> str:
    return f"cli:{socket.gethostname()}:{os.getpid()}"


def _stalled(run: SyncRun) -> None:
    click.echo(
        f"Run {run.id} is still queued: nothing is executing syncs. Start `aisle serve` "
        "(or `aisle worker` and `aisle scheduler` with Redis), or press Ctrl-C and run "
        "this again with --here to sync in this process.",
        err=True,
    )


def _interrupted(run: SyncRun, here: bool) -> None:
    if here:
        click.echo(
            f"Interrupted: run {run.id} stops where it is; once its lease "
            "(AISLE_CRM_LEASE_SECONDS) ends, a server's scheduler resumes it from its last "
            f"page. `aisle crm cancel {run.id}` drops it instead.",
            err=True,
        )
    else:
        click.echo(
            f"Stopped following run {run.id}; it goes on (`aisle crm cancel {run.id}` stops it).",
            err=True,
        )


@command.command("sync")
@click.argument("connection_ref", metavar="CONNECTION")
@_org_option
@click.option("--wait", is_flag=True, help="Follow the run until it ends (progress bar).")
@click.option(
    "--here",
    is_flag=True,
    help="Execute the run in this process (when no server runs); implies --wait.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=None,
    help="Stop waiting after this many seconds (the run goes on; exit 1).",
)
@_json_option
@data_dir_option
def sync(
    connection_ref: str,
    org_slug: str,
    wait: bool,
    here: bool,
    timeout: float | None,
    as_json: bool,
    data_dir: str | None,
) -> None:
    """Sync a connection now: queue a run (a server's jobs execute it), follow it with
    --wait, or execute it here with --here."""
    settings = load_settings(data_dir)
    console = _progress_console(as_json)

    async def work() -> tuple[SyncRun, bool, str]:
        async with open_studio(settings, org_slug) as studio:
            connection = await find_connection(studio, connection_ref)
            runs = SyncRuns(studio.deps, studio.scope, studio.actor)
            run, queued = await runs.request(connection.id)
            requested.append(run)
            if not (wait or here):
                return run, queued, connection.name
            task = (
                asyncio.create_task(
                    execute_sync_run(studio.deps, studio.org.id, run.id, worker=_worker_name())
                )
                if here
                else None
            )
            with RunBar(console, connection.name) as bar:
                last = await follow_run(
                    lambda: runs.get(run.id),
                    bar,
                    work=task,
                    give_up_after=None if here else timeout,
                    on_stall=None if here else _stalled,
                )
            return last or run, queued, connection.name

    requested: list[SyncRun] = []
    try:
        run, queued, name = run_command(work(), as_json=as_json)
    except KeyboardInterrupt:
        if not requested:
            raise
        _interrupted(requested[0], here)
        sys.exit(130)
    over = run.status not in ("queued", "running")
    if as_json:
        echo_json({"run": run, "queued": queued})
    elif not (wait or here):
        what = "Queued" if queued else "Already going:"
        click.echo(
            f"{what} run {run.id} of {name!r}. `aisle serve` (or a worker) executes it; "
            f"`aisle crm status {name!r} --org {org_slug}` shows how it went."
        )
    elif over:
        summary(run, f"Sync of {name!r}")
        if run.counts.get("held"):
            click.echo(f"Held for review: `aisle crm held --org {org_slug}`.")
    else:
        click.echo(
            f"Run {run.id} of {name!r} is still {run.status} after {timeout:g}s "
            f"({run.seen} seen); it goes on: `aisle crm status {name!r} --org {org_slug}`.",
            err=True,
        )
    if (wait or here) and (not over or run.status in ("failed", "cancelled")):
        sys.exit(1)


@command.command("cancel")
@click.argument("run_id", metavar="RUN")
@_org_option
@_json_option
@data_dir_option
def cancel(run_id: str, org_slug: str, as_json: bool, data_dir: str | None) -> None:
    """Cancel a sync run: it stops after the page it is on."""
    settings = load_settings(data_dir)

    async def work() -> SyncRun:
        async with open_studio(settings, org_slug) as studio:
            return await SyncRuns(studio.deps, studio.scope, studio.actor).cancel(run_id)

    run = run_command(work(), as_json=as_json)
    if as_json:
        echo_json(run)
    else:
        click.echo(f"Cancelling run {run.id} ({run.status}); it stops after its current page.")


@command.command("status")
@click.argument("connection_ref", metavar="CONNECTION")
@_org_option
@click.option(
    "--runs",
    "limit",
    type=click.IntRange(1, 200),
    default=5,
    show_default=True,
    help="How many of the last runs to show.",
)
@_json_option
@data_dir_option
def status(
    connection_ref: str, org_slug: str, limit: int, as_json: bool, data_dir: str | None
) -> None:
    """A connection's state, its last runs with counts, and its pending held changes."""
    settings = load_settings(data_dir)

    async def work() -> tuple[dict[str, Any], list[SyncRun], int]:
        async with open_studio(settings, org_slug) as studio:
            connection = await find_connection(studio, connection_ref)
            runs = await SyncRuns(studio.deps, studio.scope, studio.actor).history(
                connection_id=connection.id, limit=limit
            )
            held = await HeldChanges(studio.deps, studio.scope, studio.actor).list(
                connection_id=connection.id, limit=200
            )
            return await _connection_document(studio, connection), runs, len(held)

    connection, runs, held = run_command(work(), as_json=as_json)
    if as_json:
        echo_json({"connection": connection, "runs": runs, "held_pending": held})
        return
    click.echo(
        f"{connection['name']} ({connection['provider']}, {connection['direction']}, "
        f"{_every(connection['schedule_seconds'])}): {connection['status']}"
        + (f" — {connection['last_error']}" if connection["last_error"] else "")
    )
    if not connection["credentials_usable"]:
        click.echo(
            "Its credentials do not decrypt or fit the provider: connect again, or set the "
            "key they were stored with in AISLE_PREVIOUS_SECRET_KEYS."
        )
    if held:
        click.echo(f"{held} change(s) held for review: `aisle crm held --org {org_slug}`.")
    if not runs:
        click.echo(f"No runs yet: `aisle crm sync {connection['name']!r} --org {org_slug}`.")
    for run in runs:
        summary(run, f"{_when(run.started_at)} {run.trigger}", shown_errors=3)


# -- held changes --------------------------------------------------------------------


def _held_line(h: HeldChange) -> str:
    return (
        f"{h.id}\t{h.status}\tcontact {h.contact_id}\t{h.field}: {h.old!r} -> {h.new!r}\t{h.reason}"
    )


@command.command("held")
@_org_option
@click.option("--connection", "connection_ref", default=None, help="Only this connection's.")
@click.option(
    "--status",
    "held_status",
    type=click.Choice(_HELD_STATUSES),
    default="pending",
    show_default=True,
)
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True)
@_json_option
@data_dir_option
def held(
    org_slug: str,
    connection_ref: str | None,
    held_status: str,
    limit: int,
    as_json: bool,
    data_dir: str | None,
) -> None:
    """CRM changes held for review (protected fields, moved wedding dates)."""
    settings = load_settings(data_dir)

    async def work() -> list[HeldChange]:
        async with open_studio(settings, org_slug) as studio:
            connection_id = (
                (await find_connection(studio, connection_ref)).id if connection_ref else None
            )
            return await HeldChanges(studio.deps, studio.scope, studio.actor).list(
                status=None if held_status == "all" else cast(HeldChangeStatus, held_status),
                connection_id=connection_id,
                limit=limit,
            )

    changes = run_command(work(), as_json=as_json)
    if as_json:
        echo_json(changes)
        return
    if not changes:
        click.echo(f"No {'' if held_status == 'all' else held_status + ' '}held changes.")
        return
    for change in changes:
        click.echo(_held_line(change))
    if held_status == "pending":
        click.echo(f"Decide: `aisle crm confirm ID --org {org_slug}` or `aisle crm reject ID …`.")


def _decide(
    held_id: str, org_slug: str, as_json: bool, data_dir: str | None, confirm: bool
) -> None:
    settings = load_settings(data_dir)

    async def work() -> HeldChange:
        async with open_studio(settings, org_slug) as studio:
            changes = HeldChanges(studio.deps, studio.scope, studio.actor)
            return await (changes.confirm(held_id) if confirm else changes.reject(held_id))

    decided = run_command(work(), as_json=as_json)
    if as_json:
        echo_json(decided)
    elif confirm:
        click.echo(
            f"Confirmed: {decided.field} of contact {decided.contact_id} is now "
            f"{decided.new!r} (date-relative steps rescheduled)."
        )
    else:
        click.echo(f"Rejected: contact {decided.contact_id} keeps {decided.field} {decided.old!r}.")


@command.command("confirm")
@click.argument("held_id", metavar="HELD_ID")
@_org_option
@_json_option
@data_dir_option
def confirm(held_id: str, org_slug: str, as_json: bool, data_dir: str | None) -> None:
    """Apply a held change (the couple's date-relative steps are rescheduled)."""
    _decide(held_id, org_slug, as_json, data_dir, confirm=True)


@command.command("reject")
@click.argument("held_id", metavar="HELD_ID")
@_org_option
@_json_option
@data_dir_option
def reject(held_id: str, org_slug: str, as_json: bool, data_dir: str | None) -> None:
    """Drop a held change; Aisle keeps its value."""
    _decide(held_id, org_slug, as_json, data_dir, confirm=False)


# -- CSV files -----------------------------------------------------------------------


async def _format_name(studio: Studio, connection: CRMConnection, given: str | None) -> str:
    if given:
        return given
    formats = studio.deps.provider(connection.provider).csv_formats
    return next(iter(formats), "")


def _show_preview(preview: CSVPreview) -> None:
    click.echo(f"{preview.format} file, columns: {', '.join(preview.headers)}")
    if preview.missing_columns:
        click.echo(
            f"Mapped columns the file lacks (their fields are left alone): "
            f"{', '.join(preview.missing_columns)}"
        )
    for row in preview.rows:
        values = ", ".join(f"{k}={v!r}" for k, v in row.values.items())
        click.echo(f"row {row.row} [{row.key}]: {values}")
        for error in row.errors:
            click.echo(f"  ! {error.get('field') or 'row'}: {error.get('reason')}")


@command.command("import-csv")
@click.argument("connection_ref", metavar="CONNECTION")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@_org_option
@click.option(
    "--format",
    "format_name",
    default=None,
    help="Which of the provider's files (clients, leads, jobs); default: its first.",
)
@click.option("--preview", is_flag=True, help="Show the first rows mapped; write nothing.")
@click.option(
    "--rows",
    type=click.IntRange(1, 200),
    default=20,
    show_default=True,
    help="Rows a preview shows.",
)
@_json_option
@data_dir_option
def import_csv(
    connection_ref: str,
    file: str,
    org_slug: str,
    format_name: str | None,
    preview: bool,
    rows: int,
    as_json: bool,
    data_dir: str | None,
) -> None:
    """Import a CRM's CSV export, streamed (a re-import writes only what changed)."""
    settings = load_settings(data_dir)
    console = _progress_console(as_json)
    size = None if file == "-" else Path(file).stat().st_size

    async def work() -> tuple[str, CSVPreview | SyncRun]:
        async with open_studio(settings, org_slug) as studio:
            connection = await find_connection(studio, connection_ref)
            fmt = await _format_name(studio, connection, format_name)
            imports = CSVImports(studio.deps, studio.scope, studio.actor)
            opened: Any = (
                nullcontext(sys.stdin.buffer)
                if file == "-"
                # Read page by page as the rows are imported, never whole.
                else Path(file).open("rb")  # noqa: ASYNC230, SIM115
            )
            with opened as stream:
                if preview:
                    return connection.name, await imports.preview(
                        connection.id, fmt, stream, rows=rows
                    )
                task = asyncio.create_task(imports.run(connection.id, fmt, stream, size=size))
                with RunBar(console, f"{connection.name} {fmt}") as bar:
                    done = await follow_run(
                        lambda: studio.scope.sync_runs.active(connection.id), bar, work=task
                    )
            assert done is not None  # the import's own task always answers its run
            return connection.name, done

    name, result = run_command(work(), as_json=as_json)
    if as_json:
        echo_json({"preview": result} if isinstance(result, CSVPreview) else result)
        return
    if isinstance(result, CSVPreview):
        _show_preview(result)
        return
    summary(result, f"Import into {name!r}")
    if result.status in ("failed", "cancelled"):
        sys.exit(1)


@command.command("export-csv")
@click.argument("connection_ref", metavar="CONNECTION")
@_org_option
@click.option(
    "--format",
    "format_name",
    default=None,
    help="Which of the provider's files (e.g. clients); default: its first.",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Where to write the file (- for standard output).",
)
@click.option(
    "--keep-pending",
    is_flag=True,
    help="A trial export: changes queued by crm_update steps stay queued for the next.",
)
@_json_option
@data_dir_option
def export_csv(
    connection_ref: str,
    org_slug: str,
    format_name: str | None,
    output: str,
    keep_pending: bool,
    as_json: bool,
    data_dir: str | None,
) -> None:
    """Export the studio's couples as the CRM's CSV file (to import into the CRM)."""
    if output == "-" and as_json:
        raise click.UsageError("--json and -o - both want standard output; name a file")
    settings = load_settings(data_dir)

    async def work() -> dict[str, Any]:
        async with open_studio(settings, org_slug) as studio:
            connection = await find_connection(studio, connection_ref)
            fmt = await _format_name(studio, connection, format_name)
            export = await CSVExports(studio.deps, studio.scope, studio.actor).open(
                connection.id, fmt, consume_pending=not keep_pending
            )
            if output == "-":
                async for text in export.chunks():
                    click.echo(text, nl=False)
            else:
                # Written beside the target and moved over it once complete, so a
                # failed export never leaves half a file where the last good one was.
                partial = Path(f"{output}.partial")
                with partial.open("w", encoding="utf-8", newline="") as out:  # noqa: ASYNC230
                    async for text in export.chunks():
                        out.write(text)
                os.replace(partial, output)
            return {
                "connection": connection.name,
                "format": export.format.name,
                "file": output,
                "rows": export.rows,
                "pending_written": export.pending_written,
            }

    done = run_command(work(), as_json=as_json)
    if as_json:
        echo_json(done)
    elif output != "-":
        click.echo(
            f"Wrote {done['rows']:,} {done['format']} row(s) of {done['connection']!r} to "
            f"{output} ({done['pending_written']} with changes queued by crm_update steps)."
        )


# -- keys ----------------------------------------------------------------------------


def _rotated(report: RotationReport) -> str:
    return (
        f"Re-encrypted the credentials of {report.crm_credentials} CRM connection(s) and "
        f"{report.studio_secrets} studio secret(s) with the current AISLE_SECRET_KEY"
    )


async def _rotate(settings: Settings) -> RotationReport:
    store = await Store.open(settings)
    try:
        return await rotate_secrets(store, settings)
    except CredentialError:
        raise click.UsageError(
            "rotating needs AISLE_SECRET_KEY (the new key) and the old one in "
            "AISLE_PREVIOUS_SECRET_KEYS"
        ) from None
    finally:
        await store.close()


@command.command("rotate-key")
@_json_option
@data_dir_option
def rotate_key(as_json: bool, data_dir: str | None) -> None:
    """Re-encrypt every studio's CRM credentials and studio secrets (webhook signing
    secrets, event sources' secrets) with the current AISLE_SECRET_KEY (put the old key
    in AISLE_PREVIOUS_SECRET_KEYS first)."""
    report = run_command(_rotate(load_settings(data_dir)), as_json=as_json)
    if report.unreadable:
        # The others are rotated already: a second run after adding the missing key
        # re-encrypts only what is left.
        fail(
            f"{_rotated(report)}; no configured key decrypts {', '.join(report.unreadable)}: "
            "add the key they were encrypted with to AISLE_PREVIOUS_SECRET_KEYS and run "
            "`aisle crm rotate-key` again",
            as_json=as_json,
            status=409,
        )
    if as_json:
        echo_json(report)
        return
    click.echo(f"{_rotated(report)}; the old key may now leave AISLE_PREVIOUS_SECRET_KEYS.")
