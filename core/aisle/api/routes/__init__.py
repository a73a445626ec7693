"""The ``/api/v1`` route handlers, one module per resource."""

from collections.abc import Sequence
from typing import Any

from aisle.api.routes.flow import FlowController
from aisle.api.routes.journeys import JourneyController

__all__ = ["API_CONTROLLERS"]

API_CONTROLLERS: Sequence[Any] = (
    JourneyController,
    FlowController,
)
"""Every controller mounted under ``/api/v1``."""
