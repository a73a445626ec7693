"""Whole-organization backups: one gzip file of JSON lines, restorable into any database.

The format (``aisle-backup``, version 1) is documented in ``docs/backups.md``: a header
line (the organization's row, the row count of every table, when it was taken), then
one ``{"table": …, "row": {…}}`` line per row, tables parents first, and an ``end``
line with the number of rows, so a truncated file is refused rather than half
restored. Ids are kept, so a restore goes into a database that does not hold the
organization already; secrets stay as they were stored (password and token hashes,
CRM credentials and studio secrets encrypted with the operator's key).
"""

from __future__ import annotations

import gzip
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aisle import __version__
from aisle.domain.organization import SLUG_PATTERN
from aisle.services.errors import FieldError, Refused
from aisle.storage.org_rows import BACKUP_TABLES, ORGANIZATION, OrgRows, TableSpec, spec_named
from aisle.storage.store import Store

__all__ = [
    "BACKUP_FORMAT",
    "BACKUP_VERSION",
    "BackupSummary",
    "Backups",
    "Progress",
]

BACKUP_FORMAT = "aisle-backup"
BACKUP_VERSION = 1

Progress = Callable[[str, int, int], None]
"""Told ``(table, rows done, rows in all)`` as rows are written or restored."""


@dataclass(frozen=True)
class BackupSummary:
    """What a backup holds (or a restore wrote): the organization and rows per table."""

    organization_id: str
    slug: str
    path: str
    counts: dict[str, int] = field(default_factory=dict)
    with_log: bool = False

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def _line(document: dict[str, Any]) -> bytes:
    # Sorted keys: the same organization gives the same bytes from either database.
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (text + "\n").encode()


def _unreadable(path: str, why: str) -> Refused:
    return Refused(
        422,
        f"{path} is not a backup Aisle can restore: {why}",
        errors=[FieldError(field="file", message=why)],
    )


class Backups:
    """Back up an organization to a file, and restore one into this database."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.rows = OrgRows(store.db)

    async def backup(
        self,
        slug: str,
        path: str | Path,
        *,
        with_log: bool = False,
        progress: Progress | None = None,
    ) -> BackupSummary:
        """Write organization ``slug`` to ``path`` (replaced only once complete)."""
        org = await self.store.organizations.by_slug(slug)
        if org is None:
            raise Refused(
                404,
                f"no organization with the slug {slug!r}",
                errors=[FieldError(field="org", message="no such organization")],
            )
        target = Path(path)
        partial = target.with_name(target.name + ".partial")
        specs = [s for s in BACKUP_TABLES if with_log or not s.optional]
        async with self.rows.snapshot():
            counts = {s.name: await self.rows.count(s, org.id) for s in specs}
            total = sum(counts.values())
            done = 0
            with gzip.open(partial, "wb") as out:
                organization = [
                    r async for page in self.rows.pages(ORGANIZATION, org.id) for r in page
                ]
                out.write(
                    _line(
                        {
                            "format": BACKUP_FORMAT,
                            "version": BACKUP_VERSION,
                            "aisle_version": __version__,
                            "created_at": self.store.clock.now().isoformat(),
                            "organization": organization[0],
                            "counts": counts,
                            "with_log": with_log,
                        }
                    )
                )
                for spec in specs:
                    async for page in self.rows.pages(spec, org.id):
                        for row in page:
                            out.write(_line({"table": spec.name, "row": row}))
                        done += len(page)
                        if progress is not None:
                            progress(spec.name, done, total)
                out.write(_line({"end": {"rows": done}}))
        os.replace(partial, target)
        return BackupSummary(
            organization_id=org.id,
            slug=org.slug,
            path=str(target),
            counts=counts,
            with_log=with_log,
        )

    async def restore(
        self,
        path: str | Path,
        *,
        into_slug: str | None = None,
        progress: Progress | None = None,
    ) -> BackupSummary:
        """Restore the backup at ``path`` as a new organization of this database (its
        ids kept; ``into_slug`` renames it), all of it in one transaction."""
        name = str(path)
        lines = _read_lines(name)
        header = next(lines, None)
        if header is None:
            raise _unreadable(name, "the file is empty")
        if header.get("format") != BACKUP_FORMAT:
            raise _unreadable(name, f"its format is not {BACKUP_FORMAT!r}")
        version = header.get("version")
        if not isinstance(version, int) or version > BACKUP_VERSION:
            raise _unreadable(
                name, f"format version {version!r}; this Aisle reads up to {BACKUP_VERSION}"
            )
        if into_slug is not None and not re.match(SLUG_PATTERN, into_slug):
            raise Refused(
                422,
                f"{into_slug!r} is not a slug: lowercase letters, digits and inner hyphens",
                errors=[FieldError(field="into_org", message="not a slug")],
            )
        organization: dict[str, Any] = dict(header["organization"])
        if into_slug is not None:
            organization["slug"] = into_slug
        slug = str(organization["slug"])
        taken = await self.rows.taken(str(organization["id"]), slug)
        if taken is not None:
            raise Refused(
                409,
                f"cannot restore here: {taken}",
                errors=[FieldError(field="into_org" if into_slug else "file", message=taken)],
            )
        counts: dict[str, int] = dict(header.get("counts") or {})
        total = sum(counts.values())
        written: dict[str, int] = {}
        done = 0
        ended = False
        async with self.store.transaction():
            await self.rows.insert(ORGANIZATION, [organization])
            batch: list[dict[str, Any]] = []
            current: TableSpec | None = None
            for line in lines:
                if "end" in line:
                    ended = line["end"].get("rows") == done + len(batch)
                    if not ended:
                        raise _unreadable(name, "its row count does not match its rows")
                    break
                spec = spec_named(str(line.get("table")))
                if spec is None or spec is ORGANIZATION:
                    raise _unreadable(
                        name, f"it holds rows of an unknown table {line.get('table')!r}"
                    )
                if current is not None and (spec is not current or len(batch) >= 1000):
                    await self.rows.insert(current, batch)
                    done += len(batch)
                    written[current.name] = written.get(current.name, 0) + len(batch)
                    batch = []
                    if progress is not None:
                        progress(current.name, done, total)
                current = spec
                batch.append(line["row"])
            if current is not None and batch:
                await self.rows.insert(current, batch)
                done += len(batch)
                written[current.name] = written.get(current.name, 0) + len(batch)
                if progress is not None:
                    progress(current.name, done, total)
            if not ended:
                raise _unreadable(name, "it ends before its last line (truncated?)")
        return BackupSummary(
            organization_id=str(organization["id"]),
            slug=slug,
            path=name,
            counts=written,
            with_log=bool(header.get("with_log")),
        )


def _read_lines(path: str) -> Iterator[dict[str, Any]]:
    try:
        with gzip.open(path, "rb") as source:
            for raw in source:
                document = json.loads(raw)
                if not isinstance(document, dict):
                    raise _unreadable(path, "a line is not a JSON object")
                yield document
    except FileNotFoundError:
        raise _unreadable(path, "no such file") from None
    except (OSError, EOFError, json.JSONDecodeError) as exc:
        raise _unreadable(path, f"{type(exc).__name__}: {exc}") from None
