"""What every request handler can reach: the app's services and the authenticated caller."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import msgspec

from aisle.api.config import ApiConfig
from aisle.api.ratelimit import RateLimiter
from aisle.clock import Clock
from aisle.contracts.registry import Registry
from aisle.domain.user import Role
from aisle.engine.validation import Issue
from aisle.runtime import Runtime
from aisle.services.sessions import SignIns
from aisle.settings import Settings
from aisle.storage.flow_log import CollaboratorRepository, FlowLogRepository
from aisle.storage.store import OrgScope, Store

if TYPE_CHECKING:
    from aisle.collab import Collaboration

__all__ = ["ApiCall", "ApiContext", "Caller"]


@dataclass
class ApiContext:
    """The app's long-lived services (``app.state.aisle``)."""

    settings: Settings
    registry: Registry
    config: ApiConfig
    limiter: RateLimiter
    store: Store | None = None
    runtime: Runtime | None = None
    issues_cache: OrderedDict[tuple[str, int], list[Issue]] = field(default_factory=OrderedDict)
    """Validation issues of recently read drafts, by (journey id, revision)."""
    collab: Collaboration | None = None
    """Locks, presence and the live stream (set by the collaboration lifespan)."""

    @property
    def clock(self) -> Clock:
        return self.require_store().clock

    def require_runtime(self) -> Runtime:
        if self.runtime is None:
            raise RuntimeError("the API's runtime is not set up (app start-up did not run)")
        return self.runtime

    def require_store(self) -> Store:
        if self.store is None:
            raise RuntimeError("the API's store is not open (app start-up did not run)")
        return self.store

    @property
    def sign_ins(self) -> SignIns:
        """Sign-in sessions (the dashboard's cookie), over the app's store."""
        return SignIns(self.require_store())


class Caller(msgspec.Struct, frozen=True, kw_only=True):
    """Who is calling: the token's organization and role (and user, if it has one)."""

    organization_id: str
    role: Role
    token_id: str
    user_id: str | None = None

    @property
    def actor(self) -> str:
        """How the automation log names this caller."""
        return f"user:{self.user_id}" if self.user_id else f"token:{self.token_id}"


class ApiCall:
    """One authenticated API call: who is calling, their organization's :class:`OrgScope`
    (plus the API's own per-organization repositories) and the app's services."""

    def __init__(self, ctx: ApiContext, caller: Caller) -> None:
        store = ctx.require_store()
        self.ctx = ctx
        self.caller = caller
        self.store = store
        self.scope: OrgScope = store.for_org(caller.organization_id)
        self.flow_log = FlowLogRepository(caller.organization_id, store.db, store.clock)
        self.collaborators = CollaboratorRepository(caller.organization_id, store.db, store.clock)

    @property
    def registry(self) -> Registry:
        return self.ctx.registry

    @property
    def config(self) -> ApiConfig:
        return self.ctx.config

    @property
    def runtime(self) -> Runtime:
        return self.ctx.require_runtime()
