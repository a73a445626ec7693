"""The ``/api/v1`` route handlers, one module per resource."""

from collections.abc import Sequence
from typing import Any

from aisle.api.routes.access import AccessController
from aisle.api.routes.action_runs import ActionRunController
from aisle.api.routes.conflicts import ConflictController
from aisle.api.routes.contacts import ContactController
from aisle.api.routes.contacts_batch import ContactBatchController
from aisle.api.routes.crm import CRMController
from aisle.api.routes.enrollments import EnrollmentController
from aisle.api.routes.events import EventController
from aisle.api.routes.flow import FlowController
from aisle.api.routes.impact import ImpactController
from aisle.api.routes.inbound import InboundController, SourceSettingsController
from aisle.api.routes.journeys import JourneyController
from aisle.api.routes.lifecycle import LifecycleController
from aisle.api.routes.log import LogController
from aisle.api.routes.messages import MessageController
from aisle.api.routes.organizations import OrganizationController
from aisle.api.routes.previews import ExecutorPreviewController, StepPreviewController
from aisle.api.routes.settings import SettingsController
from aisle.api.routes.simulate import SimulationController
from aisle.api.routes.stats import JourneyStatsController
from aisle.api.routes.tasks import TaskController
from aisle.api.routes.transfer import TransferController
from aisle.api.routes.types import TypeRegistryController
from aisle.api.routes.webhook_endpoints import WebhookEndpointController

__all__ = ["API_CONTROLLERS"]

API_CONTROLLERS: Sequence[Any] = (
    JourneyController,
    TransferController,
    FlowController,
    ConflictController,
    LifecycleController,
    ImpactController,
    SimulationController,
    JourneyStatsController,
    StepPreviewController,
    ExecutorPreviewController,
    TypeRegistryController,
    ContactController,
    ContactBatchController,
    CRMController,
    EventController,
    EnrollmentController,
    TaskController,
    ActionRunController,
    WebhookEndpointController,
    MessageController,
    LogController,
    AccessController,
    SettingsController,
    SourceSettingsController,
    InboundController,
    OrganizationController,
)
"""Every controller mounted under ``/api/v1``."""
