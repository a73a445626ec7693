"""An ``aisle worker`` process with the SyncCRM provider installed, for the process tests
of the ``crm_sync`` actor. Settings come from ``AISLE_*``; run from the repository root."""

from __future__ import annotations

from aisle import CRMProvider, hookimpl
from aisle.jobs import run_worker
from aisle.plugins.manager import load_registry
from aisle.settings import Settings
from tests.crm.synccrm import SYNCCRM


class SyncCRMPlugin:
    @hookimpl
    def aisle_crm_providers(self) -> list[CRMProvider]:
        return [SYNCCRM]


if __name__ == "__main__":
    registry = load_registry(entry_points=False, extra_plugins=[("synccrm", SyncCRMPlugin())])
    run_worker(Settings.from_env(), registry=registry)
