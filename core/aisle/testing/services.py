"""An in-memory :class:`~aisle.contracts.actions.ActionServices` that records what executors ask.

The suites hand it to executors in place of the worker's services; an executor that
creates tasks or emits events can point its ``observed_effects`` fixture at
:attr:`RecordingServices.tasks` / :attr:`RecordingServices.events`. ``memory`` stands
in for the durable per-executor store behind ``recall``/``remember`` and is shared by
every run, as the real store is; ``crm`` is the connection ``crm_connection`` returns;
``studio_secrets`` are what ``studio_secret`` returns (already decrypted).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aisle.contracts.actions import CRMAccess, OutgoingMessage, PermanentError, captures

__all__ = [
    "RecordedEvent",
    "RecordedMessage",
    "RecordedTask",
    "RecordingServices",
    "RunServices",
]


@dataclass(frozen=True)
class RecordedTask:
    """A task an executor created, with the idempotency key of the run that asked."""

    id: str
    run_key: str
    title: str
    assignee: str
    due_at: datetime | None
    step_id: str | None
    required_approvals: int
    details: Mapping[str, Any]


@dataclass(frozen=True)
class RecordedMessage:
    """A message an executor captured or sent (``record_message``), with its run's key."""

    id: str
    run_key: str
    message: OutgoingMessage


@dataclass(frozen=True)
class RecordedEvent:
    """An event an executor emitted."""

    type: str
    payload: Mapping[str, Any]
    idempotency_key: str


@dataclass
class RecordingServices:
    """Platform services for executors under test; :meth:`for_run` binds one run."""

    settings: Mapping[str, str] = field(default_factory=dict)
    crm: CRMAccess | None = None
    tasks: list[RecordedTask] = field(default_factory=list)
    events: list[RecordedEvent] = field(default_factory=list)
    memory: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    messages: list[RecordedMessage] = field(default_factory=list)
    production: bool = False
    studio_secrets: dict[str, str] = field(default_factory=dict)

    def for_run(self, idempotency_key: str) -> RunServices:
        """The services one action run sees (task creation is idempotent per run)."""
        return RunServices(self, idempotency_key)


@dataclass
class RunServices:
    """:class:`~aisle.contracts.actions.ActionServices` for one run, recording into its parent."""

    recorder: RecordingServices
    run_key: str

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
        # Like the worker's services: the same run asking twice gets the same task.
        for task in self.recorder.tasks:
            if task.run_key == self.run_key:
                return task.id
        task = RecordedTask(
            id=f"task_{len(self.recorder.tasks) + 1}",
            run_key=self.run_key,
            title=title,
            assignee=assignee,
            due_at=due_at,
            step_id=step_id,
            required_approvals=required_approvals,
            details=dict(details),
        )
        self.recorder.tasks.append(task)
        return task.id

    async def emit_event(
        self, *, type: str, payload: Mapping[str, Any], idempotency_key: str
    ) -> None:
        self.recorder.events.append(RecordedEvent(type, dict(payload), idempotency_key))

    def setting(self, name: str, default: str | None = None) -> str | None:
        # Operators set AISLE_<NAME>; tests may write either form.
        wanted = name.upper().removeprefix("AISLE_")
        for key, value in self.recorder.settings.items():
            if key.upper().removeprefix("AISLE_") == wanted:
                return value
        return default

    async def recall(self, key: str) -> Mapping[str, Any] | None:
        return self.recorder.memory.get(key)

    async def remember(self, key: str, value: Mapping[str, Any] | None) -> None:
        if value is None:
            self.recorder.memory.pop(key, None)
        else:
            self.recorder.memory[key] = dict(value)

    async def studio_secret(self, name: str) -> str | None:
        return self.recorder.studio_secrets.get(name)

    def captures(self, *, configured: bool) -> bool:
        try:
            return captures(
                self.setting("capture_messages"),
                production=self.recorder.production,
                configured=configured,
            )
        except ValueError as exc:
            raise PermanentError(str(exc)) from None

    async def record_message(self, message: OutgoingMessage) -> str:
        # Like the worker's services: one record per run and key, however often asked.
        for recorded in self.recorder.messages:
            if recorded.run_key == self.run_key and recorded.message.key == message.key:
                return recorded.id
        recorded = RecordedMessage(
            id=f"message_{len(self.recorder.messages) + 1}", run_key=self.run_key, message=message
        )
        self.recorder.messages.append(recorded)
        return recorded.id

    async def crm_connection(self, provider: str | None = None) -> CRMAccess | None:
        crm = self.recorder.crm
        if crm is None or (provider is not None and crm.provider.name != provider):
            return None
        return crm
