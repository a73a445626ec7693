"""Export and import of a journey as one JSON document (draft and every version)."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from aisle.api.context import ApiCall
from aisle.api.deps import Call
from aisle.api.routes.journeys import JourneyOut, journey_out
from aisle.canvas.transfer import ExportDocument, JourneyTransfer

__all__ = ["TransferController"]


def _transfer(call: ApiCall) -> JourneyTransfer:
    return JourneyTransfer(
        call.store,
        call.scope,
        call.caller,
        registry=call.registry,
        limits=call.config.graph_limits,
    )


class TransferController(Controller):
    path = "/journeys"
    tags = ["journeys"]

    @get("/{journey_id:str}/export", summary="Export a journey (draft and versions)")
    async def export_journey(self, call: Call, journey_id: FromPath[str]) -> ExportDocument:
        return await _transfer(call).export(journey_id)

    @post(
        "/import",
        summary="Import an exported journey as a new journey (a draft, or paused)",
        status_code=HTTP_201_CREATED,
    )
    async def import_journey(self, call: Call, data: JSONBody[ExportDocument]) -> JourneyOut:
        """The journey arrives with its versions but takes no clients: ``paused`` when
        it has versions, else ``draft``, whatever ``status`` the export carries. It goes
        live when it is published."""
        return journey_out(await _transfer(call).import_journey(data))
