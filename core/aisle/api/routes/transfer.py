"""Export and import of a journey as one JSON document (draft and every version)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED
from msgspec import Meta

from aisle.api.context import ApiCall
from aisle.api.deps import Call
from aisle.api.problems import FieldError, Problem
from aisle.api.roles import ensure_role
from aisle.api.routes.journeys import JourneyOut, journey_out
from aisle.canvas.admission import check_graph, condition_errors
from aisle.contracts.log import LogKind
from aisle.domain.journey import Graph
from aisle.domain.journey_record import JourneyStatus
from aisle.engine.validation import validate
from aisle.storage.ids import new_id

__all__ = ["EXPORT_FORMAT", "ExportDocument", "TransferController"]

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


def _admit(call: ApiCall, graph: Graph, where: str) -> list[FieldError]:
    errors = check_graph(
        graph,
        node_types=call.registry.node_types.keys(),
        trigger_types=call.registry.trigger_types.keys(),
        limits=call.config.graph_limits,
    ) + condition_errors(graph, call.registry)
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


class TransferController(Controller):
    path = "/journeys"
    tags = ["journeys"]

    @get("/{journey_id:str}/export", summary="Export a journey (draft and versions)")
    async def export_journey(self, call: Call, journey_id: FromPath[str]) -> ExportDocument:
        journey = await call.scope.journeys.get(journey_id)
        versions = await call.scope.journeys.versions(journey.id)
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
            exported_at=call.store.clock.now(),
            source_journey_id=journey.id,
        )

    @post(
        "/import",
        summary="Import an exported journey as a new journey (a draft, or paused)",
        status_code=HTTP_201_CREATED,
    )
    async def import_journey(self, call: Call, data: JSONBody[ExportDocument]) -> JourneyOut:
        """The journey arrives with its versions but takes no clients: ``paused`` when
        it has versions, else ``draft``, whatever ``status`` the export carries. It goes
        live when it is published."""
        ensure_role(call.caller, "admin", "importing a journey")
        errors = _admit(call, data.draft, "draft")
        versions = sorted(data.versions, key=lambda v: v.version)
        for i, version in enumerate(versions):
            errors += _admit(call, version.graph, f"versions[{i}].graph")
            blocking = [x for x in validate(version.graph, call.registry) if x.severity == "error"]
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
        if errors:
            raise Problem(
                422,
                "the export cannot be imported here: " + "; ".join(e.message for e in errors[:5]),
                slug="invalid-import",
                errors=errors,
            )
        async with call.store.transaction():
            journey = await call.scope.journeys.create(
                name=data.name, description=data.description, draft=data.draft
            )
            for version in versions:
                await call.scope.journeys.publish(
                    journey.id,
                    version.graph,
                    published_by=call.caller.actor,
                    note=f"imported version {version.version}"
                    + (f": {version.note}" if version.note else ""),
                )
            if versions:
                # Never live on arrival: a copy of a live journey would enroll every
                # client the original does. Its versions are kept; publishing (or
                # resuming) is the act that lets clients in.
                await call.scope.journeys.set_status(journey.id, "paused")
            await call.flow_log.record(
                journey.id,
                [
                    {
                        "op_id": f"import:{new_id()}",
                        "revision": journey.revision,
                        "status": "applied",
                        "kind": "import",
                        "op": {"op": "import", "source_journey_id": data.source_journey_id},
                        "actor": call.caller.actor,
                    }
                ],
            )
            await call.scope.log.append(
                LogKind.JOURNEY_IMPORTED,
                actor=call.caller.actor,
                journey_id=journey.id,
                message=f"imported {data.name!r} with {len(versions)} version(s)"
                + ("; paused until published" if versions else "; a draft"),
                data={"source_status": data.status},
            )
        return journey_out(await call.scope.journeys.get(journey.id))
