"""CRM sync: connections, the pull engine, held changes, sync runs as jobs, and inbound
CRM webhooks. A service layer: entry points (API, CLI, jobs) call it."""

from aisle.crm.deps import CRMDeps, UnusableConnection
from aisle.crm.inbound import InboundOutcome, InboundResult, receive_crm_webhook

__all__ = [
    "CRMDeps",
    "InboundOutcome",
    "InboundResult",
    "UnusableConnection",
    "receive_crm_webhook",
]
