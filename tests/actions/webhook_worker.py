"""A worker process for the crash test: ``aisle worker`` with a 3 s webhook timeout.

The run's lease is its executor's timeout plus a grace period, so a short timeout lets
the test see a killed worker's claims expire within seconds instead of a minute.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

from aisle.jobs.processes import run_worker
from aisle.plugins.manager import load_registry
from aisle.settings import Settings

if __name__ == "__main__":
    registry = load_registry()
    executors = dict(registry.action_executors)
    executors["webhook"] = dataclasses.replace(executors["webhook"], timeout_seconds=3.0)
    run_worker(
        Settings.from_env(),
        registry=dataclasses.replace(registry, action_executors=MappingProxyType(executors)),
    )
