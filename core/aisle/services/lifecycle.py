"""A journey's life after its draft: publish, roll back, and move enrollments to a newer
version, as one acting user of one organization.

The API, the CLI and the demo seed publish and migrate through :class:`Lifecycle`
only, so each publish is validated (the graph, then each executor's publish-time check)
and logged the same way, and each enrollment move goes through the runtime, which
writes the transition and wakes the jobs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import msgspec

from aisle.contracts.log import LogKind
from aisle.contracts.registry import Registry
from aisle.domain.journey import Graph
from aisle.domain.journey_record import Journey, JourneyVersion
from aisle.engine.compiled import CompiledJourney
from aisle.engine.core import compile_journey
from aisle.engine.validation import InvalidJourney, Issue, validate
from aisle.runtime import Runtime
from aisle.services.errors import FieldError, Refused
from aisle.services.readiness import action_issues, check_context
from aisle.services.roles import Actor, ensure_journey_role
from aisle.services.snapshots import Snapshots
from aisle.storage.flow_log import CollaboratorRepository
from aisle.storage.store import OrgScope

__all__ = [
    "Lifecycle",
    "MigrationPlan",
    "Move",
    "PublishAnnouncer",
    "blocking",
    "compile_runnable",
    "issues_refused",
]


class PublishAnnouncer(Protocol):
    """Tells whoever watches a journey that a version went live (the live stream)."""

    async def __call__(
        self, journey_id: str, version: int, *, actor: str, source_version: int | None = None
    ) -> None: ...


class Move(msgspec.Struct, kw_only=True):
    """One enrollment of a migration: from which step to which."""

    enrollment_id: str
    from_step: str | None
    to_step: str | None


class MigrationPlan(msgspec.Struct, kw_only=True):
    """What a migration did (or, dry run, would do)."""

    from_version: int
    to_version: int
    dry_run: bool
    moved: list[Move]


def blocking(issues: Sequence[Issue]) -> list[Issue]:
    """The issues that stop a publish (errors; warnings do not)."""
    return [i for i in issues if i.severity == "error"]


def issues_refused(issues: list[Issue], what: str) -> Refused:
    """422 naming each error of ``issues`` (all of them travel under ``issues``)."""
    errors = blocking(issues)
    return Refused(
        422,
        f"{what}: the draft has {len(errors)} error(s): "
        + "; ".join(i.message for i in errors[:5]),
        slug="invalid-journey",
        title="Invalid journey",
        errors=[
            FieldError(
                message=i.message, code=i.code, node_id=i.node_id, edge_id=i.edge_id, field=i.field
            )
            for i in errors
        ],
        extra={"issues": [msgspec.to_builtins(i) for i in issues]},
    )


def compile_runnable(
    registry: Registry, graph: Graph, journey_id: str, version: int, timezone: str, what: str
) -> CompiledJourney:
    """``graph`` ready to run in the studio's ``timezone``; a 422 listing its errors
    (``what``: what it could not do) when it does not compile."""
    try:
        return compile_journey(
            graph, registry, journey_id=journey_id, version=version, studio_timezone=timezone
        )
    except InvalidJourney as exc:
        raise issues_refused(list(exc.issues), what) from None


class Lifecycle:
    """Publishing and migrating the journeys of ``scope`` as ``actor``."""

    def __init__(
        self,
        runtime: Runtime,
        scope: OrgScope,
        actor: Actor,
        *,
        announce: PublishAnnouncer | None = None,
    ) -> None:
        self.runtime = runtime
        self.scope = scope
        self.actor = actor
        self.announce = announce
        store = runtime.store
        self.collaborators = CollaboratorRepository(scope.org_id, store.db, store.clock)
        self._snapshots = Snapshots(store, scope, actor.actor)

    async def graph_at(self, journey: Journey, ref: str, name: str) -> Graph:
        """The graph a version reference names (``draft``, ``live`` or a number)."""
        if ref == "draft":
            return journey.draft
        if ref == "live":
            if journey.live_version is None:
                raise Refused(
                    422,
                    f"{name}: journey {journey.id!r} has no live version yet",
                    errors=[FieldError(message="no live version", field=name)],
                )
            ref = str(journey.live_version)
        return (await self.scope.journeys.version(journey.id, int(ref))).graph

    async def readiness_issues(self, journey_id: str, graph: Graph) -> list[Issue]:
        """What stops ``graph``'s actions from running in this deployment for this studio
        (no SMTP host, no sender, no secret), as issues naming each step and field.

        ``graph`` must already validate without errors."""
        runtime = self.runtime
        org = await runtime.organization(self.scope.org_id)
        compiled = compile_runnable(
            runtime.registry, graph, journey_id, 0, org.timezone, "cannot check"
        )
        context = check_context(
            runtime.settings,
            org,
            registry=runtime.registry,
            connections=await self.scope.crm_connections.list(),
        )
        return action_issues(compiled, runtime.registry, context, runtime.clock.now())

    async def issues(self, journey_id: str, graph: Graph) -> list[Issue]:
        """Validation issues of ``graph``, then (when it validates) what stops it running."""
        issues = validate(graph, self.runtime.registry)
        if not blocking(issues):
            issues += await self.readiness_issues(journey_id, graph)
        return issues

    async def publish(self, journey_id: str, note: str = "") -> tuple[JourneyVersion, Journey]:
        """Publish the draft as the next version (``admin`` on the journey); a 422 naming
        each issue when it does not validate or an executor's check refuses it."""
        journey = await self.scope.journeys.get(journey_id)
        await ensure_journey_role(self.actor, self.collaborators, journey.id, "admin", "publishing")
        issues = await self.issues(journey.id, journey.draft)
        if blocking(issues):
            raise issues_refused(issues, "cannot publish")
        async with self.runtime.store.transaction():
            await self._snapshots.before_journey_change(journey.id, "publish", note)
            version = await self.scope.journeys.publish(
                journey.id, journey.draft, published_by=self.actor.actor, note=note
            )
            await self.scope.log.append(
                LogKind.JOURNEY_PUBLISHED,
                actor=self.actor.actor,
                journey_id=journey.id,
                journey_version=version.version,
                message=f"version {version.version} published from revision {journey.revision}",
                data={"revision": journey.revision, "note": note},
            )
        if self.announce is not None:
            await self.announce(journey.id, version.version, actor=self.actor.actor)
        return version, await self.scope.journeys.get(journey.id)

    async def rollback(
        self, journey_id: str, version: int, note: str = ""
    ) -> tuple[JourneyVersion, Journey]:
        """Publish an old version again (``admin`` on the journey), if it can still run."""
        journey = await self.scope.journeys.get(journey_id)
        await ensure_journey_role(
            self.actor, self.collaborators, journey.id, "admin", "rolling back"
        )
        old = await self.scope.journeys.version(journey.id, version)
        issues = await self.readiness_issues(journey.id, old.graph)
        if blocking(issues):
            raise issues_refused(issues, f"cannot roll back to version {old.version}")
        async with self.runtime.store.transaction():
            await self._snapshots.before_journey_change(journey.id, "rollback", note)
            published = await self.scope.journeys.publish(
                journey.id,
                old.graph,
                published_by=self.actor.actor,
                note=note or f"rollback to version {old.version}",
                source_version=old.version,
            )
            await self.scope.log.append(
                LogKind.JOURNEY_ROLLED_BACK,
                actor=self.actor.actor,
                journey_id=journey.id,
                journey_version=published.version,
                message=f"version {old.version} published again as version {published.version}",
                data={"source_version": old.version},
            )
        if self.announce is not None:
            await self.announce(
                journey.id, published.version, actor=self.actor.actor, source_version=old.version
            )
        return published, await self.scope.journeys.get(journey.id)

    async def migrate(
        self,
        journey_id: str,
        *,
        from_version: int,
        to_version: int,
        step_mapping: Mapping[str, str] | None = None,
        enrollment_ids: Sequence[str] | None = None,
        dry_run: bool = False,
    ) -> MigrationPlan:
        """Move active enrollments of ``from_version`` to ``to_version`` (``admin`` on the
        journey). Steps kept under the same id need no mapping; a 422 names each step
        left unmapped. Each move is the runtime's (its own transaction, then a wake-up)."""
        mapping = dict(step_mapping or {})
        journey = await self.scope.journeys.get(journey_id)
        await ensure_journey_role(
            self.actor, self.collaborators, journey.id, "admin", "migrating enrollments"
        )
        source = await self.scope.journeys.version(journey.id, from_version)
        target = (await self.scope.journeys.version(journey.id, to_version)).graph
        errors = [
            FieldError(
                message=f"{new!r} is not a step of version {to_version}",
                field=f"step_mapping.{old}",
            )
            for old, new in mapping.items()
            if target.step(new) is None
        ]
        active = await self.scope.enrollments.list(
            journey_id=journey.id, version=from_version, status="active", limit=100_000
        )
        if enrollment_ids is not None:
            wanted = set(enrollment_ids)
            active = [e for e in active if e.id in wanted]
        plan: list[Move] = []
        for enrollment in active:
            step = enrollment.state.step_id
            new_step = mapping.get(step or "", step)
            if new_step is None or target.step(new_step) is None:
                errors.append(
                    FieldError(
                        message=f"step {step!r} of version {from_version} is not in version "
                        f"{to_version}: map it in step_mapping",
                        field=f"step_mapping.{step}",
                        node_id=step,
                    )
                )
                continue
            plan.append(Move(enrollment_id=enrollment.id, from_step=step, to_step=new_step))
        if errors:
            unique = list({(e.field, e.message): e for e in errors}.values())
            raise Refused(422, "the step mapping is incomplete", errors=unique)
        moved: list[Move] = []
        if not dry_run:
            await self._snapshots.before_journey_change(journey.id, "migrate", "")
            for item in plan:
                assert item.to_step is not None
                if await self.runtime.migrate_enrollment(
                    self.scope.org_id,
                    item.enrollment_id,
                    from_version=from_version,
                    to_version=to_version,
                    to_step=item.to_step,
                    actor=self.actor.actor,
                ):
                    moved.append(item)
        return MigrationPlan(
            from_version=source.version,
            to_version=to_version,
            dry_run=dry_run,
            moved=plan if dry_run else moved,
        )
