"""Which address-book contacts a job, event, order or payment belongs to.

Tave links contacts to jobs through job contacts (``/job-contact``: ``jobId``,
``contactId``, ``client``); the couple is a job's *client* contacts. Events, orders
and payments name their ``jobId``. A job may hold several events (an engagement
session, the wedding): only its primary session (``primarySessionId``) speaks for the
couple's venue and time zone, or every event when the job names none.

Links are read lazily and kept for the client's life (one sync run): a few jobs are
looked up one request each (``/job-contact?jobId=``), more than
:data:`PER_JOB_LOOKUPS` at once read the whole ``/job-contact`` listing instead
(one request per 100 links).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

__all__ = ["PER_JOB_LOOKUPS", "Couples"]

PER_JOB_LOOKUPS = 10

Get = Callable[[str, Mapping[str, Any]], Awaitable[Any]]
Pages = Callable[[str, Mapping[str, Any]], Awaitable[list[Mapping[str, Any]]]]


class Couples:
    """Job → client contact ids, and job → primary session, read on demand."""

    def __init__(self, get: Get, every_page: Pages) -> None:
        self._get = get
        self._every_page = every_page
        self._clients: dict[str, tuple[str, ...]] = {}
        self._all_links_read = False
        self._primary: dict[str, str | None] = {}

    def note_jobs(self, jobs: Iterable[Mapping[str, Any]]) -> None:
        """Remember the primary sessions of jobs already read (a jobs listing)."""
        for job in jobs:
            self._primary[str(job["id"])] = job.get("primarySessionId") or None

    async def of_jobs(self, job_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """The client contact ids of each job."""
        wanted = {job_id for job_id in job_ids if job_id}
        unknown = wanted - self._clients.keys()
        if unknown and not self._all_links_read:
            if len(unknown) > PER_JOB_LOOKUPS:
                self._remember(await self._every_page("/job-contact", {}), everything=True)
            else:
                for job_id in sorted(unknown):
                    links = await self._every_page("/job-contact", {"jobId": job_id})
                    self._clients[job_id] = ()
                    self._remember(links, everything=False)
        return {job_id: self._clients.get(job_id, ()) for job_id in wanted}

    async def speaks_for_couple(self, event: Mapping[str, Any]) -> bool:
        """Whether ``event`` is its job's primary session (or the job names none)."""
        job_id = event.get("jobId")
        if not job_id:
            return False
        if job_id not in self._primary:
            job = await self._get(f"/job/{job_id}", {})
            self._primary[job_id] = job.get("primarySessionId") or None
        primary = self._primary[job_id]
        return primary is None or primary == event.get("id")

    def _remember(self, links: Iterable[Mapping[str, Any]], *, everything: bool) -> None:
        found: dict[str, list[str]] = {}
        for link in links:
            if link.get("client") and link.get("jobId") and link.get("contactId"):
                found.setdefault(str(link["jobId"]), []).append(str(link["contactId"]))
        if everything:
            self._clients = {}
            self._all_links_read = True
        for job_id, contacts in found.items():
            self._clients[job_id] = tuple(dict.fromkeys(contacts))
