"""Every handler of the journeys pages, for the router (one line there)."""

from __future__ import annotations

from aisle_dashboard.journey_edges import JOURNEY_EDGE_HANDLERS
from aisle_dashboard.journey_live import JOURNEY_LIVE_HANDLERS
from aisle_dashboard.journey_page import JOURNEY_PAGE_HANDLERS
from aisle_dashboard.journey_panel import JOURNEY_PANEL_HANDLERS
from aisle_dashboard.journey_simulate import JOURNEY_SIMULATE_HANDLERS
from aisle_dashboard.journey_versions import JOURNEY_VERSION_HANDLERS
from aisle_dashboard.journeys import JOURNEY_LIST_HANDLERS

__all__ = ["JOURNEY_HANDLERS"]

JOURNEY_HANDLERS = (
    *JOURNEY_LIST_HANDLERS,
    *JOURNEY_PAGE_HANDLERS,
    *JOURNEY_PANEL_HANDLERS,
    *JOURNEY_EDGE_HANDLERS,
    *JOURNEY_LIVE_HANDLERS,
    *JOURNEY_VERSION_HANDLERS,
    *JOURNEY_SIMULATE_HANDLERS,
)
