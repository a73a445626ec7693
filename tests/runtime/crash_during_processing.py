"""Run as a script by test_events.py: accept an event, then die half way through
processing it (after the enrollment rows are written, before the commit).

Usage: python crash_during_processing.py DATABASE_URL ORG_ID CONTACT_ID
"""

from __future__ import annotations

import asyncio
import os
import sys

from aisle.plugins.manager import load_registry
from aisle.runtime import Runtime, persist, service
from aisle.settings import Settings
from aisle.storage.store import Store


async def main(database_url: str, org_id: str, contact_id: str) -> None:
    settings = Settings(database_url=database_url, secret_key="k")
    store = await Store.open(settings, migrate=False)
    runtime = Runtime(store, load_registry(entry_points=False), settings)
    real_write = persist.write_transition

    async def write_then_die(*args: object, **kwargs: object) -> object:
        await real_write(*args, **kwargs)  # type: ignore[arg-type]
        print("wrote the transition, dying before the commit", flush=True)
        os._exit(9)  # no cleanup, no rollback: like SIGKILL or a power cut

    service.write_transition = write_then_die  # type: ignore[assignment]
    await runtime.ingest_event(
        runtime.for_org(org_id),
        type="form.submitted",
        idempotency_key="enquiry-crash",
        contact_id=contact_id,
        payload={"form_id": "enquiry"},
    )
    print("processing finished without crashing", flush=True)
    sys.exit(3)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
