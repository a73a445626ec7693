"""What an action executor receives, what it may raise, and how one is registered.

Executors run in workers with at-least-once delivery: the same run may be executed
again after a crash, so every external effect must carry ``ActionContext.idempotency_key``
(as an SMTP Message-ID, a webhook-id, an Idempotency-Key header, …).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

import msgspec

from aisle.contracts.crm import CRMProvider
from aisle.contracts.registrations import EmptyConfig, Registration

__all__ = [
    "CAPTURE_MODES",
    "ActionContext",
    "ActionError",
    "ActionExecutor",
    "ActionResult",
    "ActionServices",
    "CRMAccess",
    "CheckConnection",
    "CheckContext",
    "ConfigProblem",
    "OutgoingMessage",
    "PermanentError",
    "RetryableError",
    "captures",
]

CAPTURE_MODES = ("auto", "on", "off")


def captures(mode: str | None, *, production: bool, configured: bool) -> bool:
    """Whether a message is captured (stored, not sent) under ``AISLE_CAPTURE_MESSAGES``.

    ``on`` captures every message; ``off`` never captures (a missing provider fails the
    run); ``auto`` (the default) captures when the channel has no provider configured
    and the deployment is embedded, so a machine without SMTP or SMS accounts can run
    the demo, while production never silently keeps what it should have sent.

    :raises ValueError: naming the setting when ``mode`` is none of the three.
    """
    chosen = (mode or "auto").strip().lower()
    if chosen not in CAPTURE_MODES:
        raise ValueError(f"AISLE_CAPTURE_MESSAGES must be auto, on or off, not {mode!r}")
    if chosen == "auto":
        return not configured and not production
    return chosen == "on"


class ActionError(Exception):
    """Base of the errors an executor raises on purpose."""


class RetryableError(ActionError):
    """A transient failure: the run is retried with backoff.

    ``retry_after`` (seconds) overrides the backoff when the remote said when to retry.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(ActionError):
    """A failure retrying cannot fix (bad address, 4xx): the run is dead at once."""


class ActionResult(msgspec.Struct, frozen=True, kw_only=True):
    """What an executor reports after a successful run (stored on the action run)."""

    detail: Mapping[str, Any] = {}


class CRMAccess(msgspec.Struct, frozen=True, kw_only=True):
    """A studio's CRM connection as an executor may use it (the ``crm_update`` action).

    ``credentials`` are decrypted and decoded into ``provider.credentials``; never log
    them. ``field_mapping`` maps Aisle field names (``venue``, ``custom.package``) to
    the remote system's field names; names it does not list are sent unchanged.
    ``external_id`` is the run's contact's id in that CRM, if it has one yet.
    """

    connection_id: str
    provider: CRMProvider
    credentials: Any
    direction: str = "both"
    field_mapping: Mapping[str, str] = {}
    settings: Mapping[str, Any] = {}
    external_id: str | None = None

    def __repr__(self) -> str:
        return f"CRMAccess(connection_id={self.connection_id!r}, provider={self.provider.name!r})"


class OutgoingMessage(msgspec.Struct, frozen=True, kw_only=True):
    """A message an executor sent or captured, as the studio's Messages list shows it.

    ``status`` is ``captured`` (kept instead of sent: no provider is configured, see
    :func:`captures`) or ``sent`` (the provider accepted it). ``key`` tells apart the
    messages of one run (an SMS to each number). ``text`` and ``html`` are the rendered
    parts (an SMS has only ``text``); ``detail`` holds what else the channel has (cc,
    reply-to, the Message-ID, segments).
    """

    channel: str
    status: Literal["captured", "sent"]
    to: list[str]
    subject: str = ""
    text: str = ""
    html: str = ""
    sender: str | None = None
    key: str = "main"
    detail: Mapping[str, Any] = {}


class ActionServices(Protocol):
    """The narrow set of platform services an executor may call."""

    async def create_task(
        self,
        *,
        title: str,
        assignee: str,
        due_at: datetime | None,
        step_id: str | None,
        required_approvals: int,
        details: Mapping[str, Any],
    ) -> str:
        """Create a task for the run's contact; returns the task id (idempotent per run)."""
        ...

    async def emit_event(
        self, *, type: str, payload: Mapping[str, Any], idempotency_key: str
    ) -> None:
        """Record an event for the run's organization, as if it had arrived from outside."""
        ...

    def setting(self, name: str, default: str | None = None) -> str | None:
        """Read an operator setting (environment ``AISLE_<NAME>``)."""
        ...

    async def recall(self, key: str) -> Mapping[str, Any] | None:
        """Read what this executor stored under ``key`` for the run's organization."""
        ...

    async def remember(self, key: str, value: Mapping[str, Any] | None) -> None:
        """Durably store a small JSON value (``None`` forgets it).

        Scoped to the run's organization and executor name; survives restarts and is
        shared by all workers. Executors record what outlives one run here: a message
        already handed to the provider (so a retry after a crash does not send it
        again), a webhook endpoint disabled by ``410 Gone``.
        """
        ...

    async def studio_secret(self, name: str) -> str | None:
        """A secret the run's studio set through the settings API (``webhook_secret``),
        decrypted; ``None`` when it has not set one. Never log it."""
        ...

    async def crm_connection(self, provider: str | None = None) -> CRMAccess | None:
        """The organization's enabled CRM connection (of ``provider``, if named).

        ``None`` when there is none; with several and no ``provider`` named, the
        earliest-created one.
        """
        ...

    def captures(self, *, configured: bool) -> bool:
        """Whether to capture a message instead of sending it (``AISLE_CAPTURE_MESSAGES``;
        ``configured``: the channel has a provider). See :func:`captures`."""
        ...

    async def record_message(self, message: OutgoingMessage) -> str:
        """Store a message the run captured or sent; returns its id.

        Idempotent per run and ``message.key``: a retry recording the same message
        again gets the first id back. Listed by the Messages API of the organization.
        """
        ...


class ConfigProblem(msgspec.Struct, frozen=True, kw_only=True):
    """Why an action cannot run here as configured, and what to do about it.

    ``field`` is the action config field at fault (a dotted path, ``"secret"``), or
    ``None`` when the config is fine but the deployment or the studio lacks something
    (no SMTP host); ``message`` says what to set or change. Publishing refuses a journey
    with a step whose action has a problem, naming the step and ``config.<field>``.
    """

    message: str
    field: str | None = None
    code: str = "cannot_run"


class CheckConnection(msgspec.Struct, frozen=True, kw_only=True):
    """An enabled CRM connection of the studio as checks see it: its provider, which
    way it syncs and what the provider can do (never its credentials)."""

    provider: str
    direction: str = "both"
    capabilities: frozenset[str] = frozenset()
    push_kinds: tuple[str, ...] = ()


class CheckContext(msgspec.Struct, frozen=True, kw_only=True):
    """What an executor's ``check`` may look at: where the journey will run, not for whom.

    ``production`` is true when Redis is configured (workers run apart from the API),
    false in the embedded default. ``studio`` is the studio as executors see it
    (``ActionContext.studio``) except that every secret (a setting whose name says
    secret, password, token, key, auth or credential) is only ``True`` when set and
    ``False`` when empty: a check may ask whether a secret exists, never read it.
    """

    production: bool = False
    studio: Mapping[str, Any] = {}
    environ: Mapping[str, str] = {}
    crm_connections: tuple[CheckConnection, ...] = ()
    """The studio's enabled CRM connections (a ``crm_update`` step needs one that pushes)."""

    @property
    def embedded(self) -> bool:
        """The API, workers and scheduler run in one process (no Redis)."""
        return not self.production

    def setting(self, name: str, default: str | None = None) -> str | None:
        """An operator setting, as ``ActionServices.setting`` reads it (``AISLE_<NAME>``)."""
        key = name.upper()
        if not key.startswith("AISLE_"):
            key = f"AISLE_{key}"
        return self.environ.get(key, default)

    def captures(self, *, configured: bool) -> bool:
        """Whether messages of a channel (``configured``: it has a provider) will be
        captured instead of sent here (see :func:`captures`)."""
        return captures(
            self.setting("capture_messages"), production=self.production, configured=configured
        )


class ActionContext(msgspec.Struct, frozen=True, kw_only=True):
    """Everything an executor's ``execute`` may look at for one attempt.

    ``step_id`` and ``enrollment_id`` say which journey step asked for the run (a task
    created for it is matched by the ``task_completed`` trigger of that step).
    """

    run_id: str
    organization_id: str
    idempotency_key: str
    attempt: int
    config: Any
    contact: Mapping[str, Any]
    studio: Mapping[str, Any]
    now: datetime
    services: ActionServices
    step_id: str | None = None
    enrollment_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ActionExecutor(Registration):
    """Runs one kind of action in a worker.

    ``execute`` must be idempotent for a given ``ActionContext.idempotency_key``.
    Errors are classified by ``classify`` (default: :class:`RetryableError` and
    network errors retry, anything else is permanent). ``messaging`` executors are
    deferred to the studio's send window. ``preview(config, contact, studio)``, when
    given, renders what the action would send without sending it (the API exposes it).
    ``check(config, context)``, when given, lists what would stop the action from
    running here (a missing server, sender or secret) as :class:`ConfigProblem` values;
    publishing calls it for every action a step would request and refuses the journey
    while any problem remains. It must be quick and pure: no I/O, no secrets read.
    """

    execute: Callable[[ActionContext], Awaitable[ActionResult]]
    config: type[msgspec.Struct] = EmptyConfig
    max_attempts: int = 5
    timeout_seconds: float = 30.0
    messaging: bool = False
    classify: Callable[[BaseException], bool] | None = None
    preview: Callable[[Any, Mapping[str, Any], Mapping[str, Any]], Mapping[str, Any]] | None = None
    check: Callable[[Any, CheckContext], Sequence[ConfigProblem]] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self._require_struct("action executor", self.config)
        if self.max_attempts < 1:
            raise ValueError(f"action executor {self.name!r}: max_attempts must be >= 1")
