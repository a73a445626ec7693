"""An ``aisle worker`` process with one extra executor, ``probe``, for the SIGKILL test.

``probe`` tells a local receiver it began (``POST /begin``), works for
``PROBE_SECONDS``, then delivers its effect (``POST /commit``), both carrying the run's
idempotency key, like a real side effect would. Settings come from ``AISLE_*``.
"""

from __future__ import annotations

import asyncio
import os

import httpx

from aisle.contracts.actions import ActionContext, ActionExecutor, ActionResult
from aisle.contracts.hooks import hookimpl
from aisle.jobs import run_worker
from aisle.plugins.manager import load_registry
from aisle.settings import Settings

RECEIVER = os.environ.get("PROBE_URL", "")
SECONDS = float(os.environ.get("PROBE_SECONDS", "1.0"))


async def probe(ctx: ActionContext) -> ActionResult:
    headers = {"Idempotency-Key": ctx.idempotency_key, "X-Attempt": str(ctx.attempt)}
    async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
        await client.post(f"{RECEIVER}/begin", headers=headers)
        await asyncio.sleep(SECONDS)
        response = await client.post(f"{RECEIVER}/commit", headers=headers)
        response.raise_for_status()
    return ActionResult(detail={"attempt": ctx.attempt, "pid": os.getpid()})


class ProbePlugin:
    @hookimpl
    def aisle_action_executors(self) -> list[ActionExecutor]:
        return [ActionExecutor(name="probe", execute=probe, timeout_seconds=5.0)]


if __name__ == "__main__":
    registry = load_registry(entry_points=False, extra_plugins=[("probe", ProbePlugin())])
    run_worker(Settings.from_env(), registry=registry)
