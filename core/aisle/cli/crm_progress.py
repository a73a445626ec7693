"""Following a sync run to its end: a ``rich`` progress bar (phase, seen / total, rate)
on a terminal, nothing on a pipe or with ``--json``; and the run summed up in words.

The run is read back from the database as it goes, whoever executes it (this process
or a server's worker), so the bar shows what the API's progress shows.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from aisle.domain.sync_run import ACTIVE_STATUSES, SYNC_COUNTS, SyncRun

__all__ = ["POLL_SECONDS", "RunBar", "follow_run", "summary"]

POLL_SECONDS = 0.25
"""How often a followed run is read back (a run writes its progress once per page)."""


class RunBar:
    """A progress bar on ``console`` while entered, or nothing when ``console`` is None."""

    def __init__(self, console: Console | None, label: str) -> None:
        self.label = label
        self._progress = (
            Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[seen]}"),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            )
            if console is not None
            else None
        )
        self._task: TaskID | None = None

    @property
    def visible(self) -> bool:
        return self._progress is not None

    def __enter__(self) -> RunBar:
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task(
                f"{self.label}: queued", total=None, seen="", rate=""
            )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def show(self, run: SyncRun) -> None:
        if self._progress is None or self._task is None:
            return
        active = run.status in ACTIVE_STATUSES
        total = run.total if run.total is not None and run.total >= run.seen else None
        if not active and total is None:
            total = run.seen  # over: the bar ends full
        seen = f"{run.seen:,}/{total:,}" if total is not None else f"{run.seen:,} seen"
        self._progress.update(
            self._task,
            description=f"{self.label}: {run.phase if active else run.status}",
            completed=run.seen,
            total=total,
            seen=seen,
            rate=f"{run.rate:,.0f}/s" if run.rate else "",
        )


async def follow_run(
    read: Callable[[], Awaitable[SyncRun | None]],
    bar: RunBar,
    *,
    work: asyncio.Task[SyncRun | None] | None = None,
    give_up_after: float | None = None,
    on_stall: Callable[[SyncRun], None] | None = None,
    stall_seconds: float = 10.0,
) -> SyncRun | None:
    """Read the run with ``read`` until it is over, showing each reading on ``bar``.

    With ``work`` (this process executing the run), until that task ends: its result
    is the finished run, or ``None`` when another worker took the run, which is then
    followed by reading. ``on_stall`` is told once when the run is still queued after
    ``stall_seconds``. Returns the last reading when ``give_up_after`` seconds pass first.
    """
    if work is not None and not bar.visible:
        # Nothing to draw: the task's answer is all that is wanted, and reading the
        # run meanwhile would only compete with it for the database.
        finished = await work
        if finished is not None:
            return finished
        work = None
    started = time.monotonic()
    stalled = False
    last: SyncRun | None = None
    while True:
        if work is not None and work.done():
            finished = work.result()
            if finished is not None:
                bar.show(finished)
                return finished
            work = None
        run = await read()
        if run is not None:
            last = run
            bar.show(run)
            if work is None and run.status not in ACTIVE_STATUSES:
                return run
            waited = time.monotonic() - started
            if on_stall and not stalled and run.status == "queued" and waited > stall_seconds:
                stalled = True
                on_stall(run)
        if give_up_after is not None and time.monotonic() - started > give_up_after:
            return last
        if work is not None:
            await asyncio.wait([work], timeout=POLL_SECONDS)
        else:
            await asyncio.sleep(POLL_SECONDS)


def _failure(error: dict[str, Any]) -> str:
    where = " ".join(
        str(error[k]) for k in ("kind", "external_id") if error.get(k) not in (None, "")
    )
    if error.get("row") is not None:
        where = f"row {error['row']}" + (f" ({where})" if where else "")
    field = f" {error['field']}:" if error.get("field") else ""
    return f"  {where or 'run'}:{field} {error.get('reason', '')}"


def summary(run: SyncRun, what: str, *, shown_errors: int = 5) -> None:
    """The run in words on standard output: outcome, counts, duration, first failures."""
    counts = ", ".join(f"{run.counts.get(k, 0):,} {k}" for k in SYNC_COUNTS)
    took = f" in {run.duration_ms / 1000:.1f}s" if run.duration_ms is not None else ""
    rate = f" ({run.rate:,.0f}/s)" if run.rate else ""
    if run.status in ACTIVE_STATUSES:
        of = f"/{run.total:,}" if run.total is not None else ""
        took = f" at {run.phase}, {run.seen:,}{of} seen"
    click.echo(f"{what} {run.status}{took}{rate}: {counts} (run {run.id})")
    for error in run.errors[:shown_errors]:
        click.echo(_failure(error))
    if len(run.errors) > shown_errors:
        click.echo(f"  … {len(run.errors) - shown_errors} more (`--json` lists them all)")
