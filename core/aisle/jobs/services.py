"""The platform services one action run may call (``ActionServices``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

from aisle.contracts.actions import (
    CRMAccess,
    OutgoingMessage,
    PermanentError,
    RetryableError,
    captures,
)
from aisle.contracts.log import LogKind
from aisle.crm.refresh import RefreshFailed, refreshed
from aisle.domain.action_run import ActionRun
from aisle.domain.contact import Contact
from aisle.http import client as http_client
from aisle.jobs.deps import JobDeps
from aisle.storage.automation_log import run_refs
from aisle.storage.credentials import CredentialCipher, CredentialError
from aisle.storage.crm import CRMSystem
from aisle.storage.store import OrgScope

__all__ = ["RunServices"]


class RunServices:
    """``ActionServices`` for one claimed run: everything is scoped to the run's
    organization, and what creates rows is idempotent per run. ``contact`` is the run's
    contact as the attempt read it (``None``: none, or deleted)."""

    def __init__(
        self, deps: JobDeps, scope: OrgScope, run: ActionRun, contact: Contact | None
    ) -> None:
        self.deps = deps
        self.run = run
        self.scope = scope
        self.contact = contact

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
        task, created = await self.scope.tasks.create(
            title=title,
            assignee=assignee,
            contact_id=self.run.contact_id,
            enrollment_id=self.run.enrollment_id,
            action_run_id=self.run.id,
            step_id=step_id or self.run.step_id,
            due_at=due_at,
            required_approvals=required_approvals,
            details=dict(details),
            # One task per run, however often the run is executed.
            idempotency_key=f"run:{self.run.id}",
        )
        if created:
            await self.scope.log.append(
                LogKind.TASK_CREATED,
                message=f"task {title!r} for {assignee}",
                data={"task_id": task.id},
                **{**run_refs(self.run), "step_id": task.step_id},
            )
        return task.id

    async def emit_event(
        self, *, type: str, payload: Mapping[str, Any], idempotency_key: str
    ) -> None:
        await self.deps.runtime.ingest_event(
            self.scope,
            type=type,
            idempotency_key=idempotency_key,
            contact_id=self.run.contact_id,
            payload=dict(payload),
            source=f"action:{self.run.executor}",
        )

    def setting(self, name: str, default: str | None = None) -> str | None:
        return self.deps.settings.setting(name, default)

    async def recall(self, key: str) -> Mapping[str, Any] | None:
        return await self.scope.executor_memory.recall(self.run.executor, key)

    async def remember(self, key: str, value: Mapping[str, Any] | None) -> None:
        await self.scope.executor_memory.remember(
            self.run.executor, key, dict(value) if value is not None else None
        )

    async def studio_secret(self, name: str) -> str | None:
        try:
            cipher = CredentialCipher.from_settings(self.deps.settings)
            return await self.scope.secrets.reveal(name, cipher)
        except CredentialError as exc:
            raise PermanentError(f"the studio's {name} is unusable: {exc}") from None

    def captures(self, *, configured: bool) -> bool:
        settings = self.deps.settings
        try:
            return captures(
                settings.setting("capture_messages"),
                production=not settings.embedded,
                configured=configured,
            )
        except ValueError as exc:
            raise PermanentError(str(exc)) from None

    async def record_message(self, message: OutgoingMessage) -> str:
        run = self.run
        stored, created = await self.scope.messages.record(
            channel=message.channel,
            status=message.status,
            to=list(message.to),
            key=message.key,
            sender=message.sender,
            subject=message.subject,
            text=message.text,
            html=message.html,
            detail=dict(message.detail),
            executor=run.executor,
            action_run_id=run.id,
            contact_id=run.contact_id,
            enrollment_id=run.enrollment_id,
            journey_id=run.journey_id,
            step_id=run.step_id,
        )
        if created and message.status == "captured":
            # The log says plainly that nothing left the building.
            await self.scope.log.append(
                LogKind.MESSAGE_CAPTURED,
                message=f"{message.channel} to {', '.join(message.to)} captured, not sent "
                "(no provider configured; see GET /api/v1/messages)",
                data={"message_id": stored.id, "channel": message.channel},
                **run_refs(run),
            )
        return stored.id

    async def crm_connection(self, provider: str | None = None) -> CRMAccess | None:
        connections = [
            c for c in await self.scope.crm_connections.list(provider=provider) if c.enabled
        ]
        if not connections:
            return None
        connection = connections[0]
        registration = self.deps.registry.crm_providers.get(connection.provider)
        if registration is None:
            raise PermanentError(
                f"CRM provider {connection.provider!r} of connection {connection.name!r} "
                "is not installed"
            )
        cipher = CredentialCipher.from_settings(self.deps.settings)
        stored = await self.scope.crm_connections.credentials(connection.id)
        try:
            credentials = msgspec.convert(cipher.decrypt(stored), registration.credentials)
        except (CredentialError, msgspec.ValidationError) as exc:
            raise PermanentError(
                f"credentials of CRM connection {connection.name!r} are unusable: {exc}"
            ) from None
        try:
            credentials = await refreshed(
                registration,
                credentials,
                connection_id=connection.id,
                stored=stored,
                cipher=cipher,
                system=CRMSystem(self.deps.store.db, self.deps.clock),
                http=lambda: http_client(allow=self.setting("http_allow"), timeout=20.0),
                now=self.deps.clock.now(),
            )
        except RefreshFailed as exc:
            # The token endpoint may be back by the next attempt (attempts are bounded).
            raise RetryableError(str(exc)) from None
        contact = self.contact
        external_id = contact.external_ids.get(connection.provider) if contact else None
        return CRMAccess(
            connection_id=connection.id,
            provider=registration,
            credentials=credentials,
            direction=connection.direction,
            field_mapping=connection.field_mapping,
            settings=connection.settings,
            external_id=external_id,
        )
