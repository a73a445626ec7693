"""Export and import of a journey as one JSON document (draft and every version), as one
acting user of one organization.

A journey arrives with its versions but takes no clients: it is ``paused`` when it has
versions, else a ``draft``, whatever status the export carries. It goes live when it is
published. (It sits with the canvas, not in :mod:`aisle.services`: an import is admitted
by the canvas's own graph checks, and the canvas already relies on the services.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from aisle.canvas.admission import GraphLimits, check_graph, condition_errors
from aisle.contracts.log import LogKind
from aisle.contracts.registry import Registry
from aisle.domain.journey import Graph
from aisle.domain.journey_record import Journey, JourneyStatus
from aisle.engine.validation import validate
from aisle.services.errors import FieldError, Refused
from aisle.services.roles import Actor, ensure_role
from aisle.storage.flow_log import FlowLogRepository
from aisle.storage.ids import new_id
from aisle.storage.store import OrgScope, Store

__all__ = ["EXPORT_FORMAT", "ExportDocument", "ExportedVersion", "JourneyTransfer"]

EXPORT_FORMAT: Literal["aisle.journey/v1"] = "aisle.journey/v1"


class ExportedVersion(msgspec.Struct, kw_only=True):
    version: Annotated[int, Meta(ge=1, le=2**31 - 1)]
    graph: Graph
    published_at: datetime | None = None
    note: str = ""
    source_version: int | None = None


class ExportDocument(msgspec.Struct, kw_only=True):
    """A journey on its own: portable between studios (ids of contacts are not in it)."""

    format: Literal["aisle.journey/v1"]
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    description: Annotated[str, Meta(max_length=5000)] = ""
    status: JourneyStatus = "draft"
    draft: Graph
    versions: Annotated[list[ExportedVersion], Meta(max_length=1000)] = []
    exported_at: datetime | None = None
    source_journey_id: str | None = None


class JourneyTransfer:
    """Exporting the journeys of ``scope`` and importing new ones, as ``actor``."""

    def __init__(
        self,
        store: Store,
        scope: OrgScope,
        actor: Actor,
        *,
        registry: Registry,
        limits: GraphLimits,
    ) -> None:
        self.store = store
        self.scope = scope
        self.actor = actor
        self.registry = registry
        self.limits = limits
        self.flow_log = FlowLogRepository(scope.org_id, store.db, store.clock)

    async def export(self, journey_id: str) -> ExportDocument:
        journey = await self.scope.journeys.get(journey_id)
        versions = await self.scope.journeys.versions(journey.id)
        return ExportDocument(
            format=EXPORT_FORMAT,
            name=journey.name,
            description=journey.description,
            status=journey.status,
            draft=journey.draft,
            versions=[
                ExportedVersion(
                    version=v.version,
                    graph=v.graph,
                    published_at=v.published_at,
                    note=v.note,
                    source_version=v.source_version,
                )
                for v in versions
            ],
            exported_at=self.store.clock.now(),
            source_journey_id=journey.id,
        )

    def _admit(self, graph: Graph, where: str) -> list[FieldError]:
        errors = check_graph(
            graph,
            node_types=self.registry.node_types.keys(),
            trigger_types=self.registry.trigger_types.keys(),
            limits=self.limits,
        ) + condition_errors(graph, self.registry)
        # The export's words: a graph has steps, and their trigger and config sit on them.
        return [
            msgspec.structs.replace(
                e,
                field=f"{where}."
                + (e.field or "")
                .replace("nodes[", "steps[")
                .replace(".data.trigger", ".trigger")
                .replace(".data.config", ".config"),
            )
            for e in errors
        ]

    def _refusals(
        self, document: ExportDocument, versions: list[ExportedVersion]
    ) -> list[FieldError]:
        errors = self._admit(document.draft, "draft")
        for i, version in enumerate(versions):
            errors += self._admit(version.graph, f"versions[{i}].graph")
            blocking = [x for x in validate(version.graph, self.registry) if x.severity == "error"]
            errors += [
                FieldError(
                    message=f"version {version.version}: {x.message}",
                    field=f"versions[{i}].graph",
                    node_id=x.node_id,
                    edge_id=x.edge_id,
                    code=x.code,
                )
                for x in blocking
            ]
        return errors

    async def import_journey(self, document: ExportDocument) -> Journey:
        """A new journey from ``document`` (an admin's act); a 422 naming each step at
        fault when a graph does not fit this deployment or a version does not validate."""
        ensure_role(self.actor, "admin", "importing a journey")
        versions = sorted(document.versions, key=lambda v: v.version)
        errors = self._refusals(document, versions)
        if errors:
            raise Refused(
                422,
                "the export cannot be imported here: " + "; ".join(e.message for e in errors[:5]),
                slug="invalid-import",
                errors=errors,
            )
        actor = self.actor.actor
        async with self.store.transaction():
            journey = await self.scope.journeys.create(
                name=document.name, description=document.description, draft=document.draft
            )
            for version in versions:
                await self.scope.journeys.publish(
                    journey.id,
                    version.graph,
                    published_by=actor,
                    note=f"imported version {version.version}"
                    + (f": {version.note}" if version.note else ""),
                )
            if versions:
                # Never live on arrival: a copy of a live journey would enroll every
                # client the original does. Its versions are kept; publishing (or
                # resuming) is the act that lets clients in.
                await self.scope.journeys.set_status(journey.id, "paused")
            await self.flow_log.record(
                journey.id,
                [
                    {
                        "op_id": f"import:{new_id()}",
                        "revision": journey.revision,
                        "status": "applied",
                        "kind": "import",
                        "op": {"op": "import", "source_journey_id": document.source_journey_id},
                        "actor": actor,
                    }
                ],
            )
            await self.scope.log.append(
                LogKind.JOURNEY_IMPORTED,
                actor=actor,
                journey_id=journey.id,
                message=f"imported {document.name!r} with {len(versions)} version(s)"
                + ("; paused until published" if versions else "; a draft"),
                data={"source_status": document.status},
            )
        return await self.scope.journeys.get(journey.id)
