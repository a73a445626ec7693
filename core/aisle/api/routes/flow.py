"""The canvas endpoints: the draft as React Flow JSON, whole-flow saves and op batches."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get, post, put
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from aisle.api.canvas import canvas_for
from aisle.api.collab import FENCED_WRITE_RESPONSE, FENCING_TOKENS_PATTERN, fences_from_header
from aisle.api.deps import Call
from aisle.api.openapi import optional_header
from aisle.api.problems import ProblemBody, problem_response, problem_spec
from aisle.canvas.etags import etag, if_none_match_hits
from aisle.canvas.flow_ops import OpBatch
from aisle.canvas.reactflow import FlowDocument
from aisle.canvas.service import LoggedOps, OpsOutcome
from aisle.services.errors import Refused

__all__ = ["FlowController", "OpsConflictBody"]


class OpsConflictBody(ProblemBody, kw_only=True):
    """409 for an op batch: RFC 9457 members plus what the batch did."""

    revision: int = 0
    etag: str = ""
    applied: list[str] = []
    replayed: list[Any] = []
    rejected: list[Any] = []


class FlowController(Controller):
    path = "/journeys/{journey_id:str}/flow"
    tags = ["canvas"]

    @get(
        "/",
        summary="Read the draft as a React Flow object",
        description="Exactly `ReactFlowJsonObject` (`toObject()`); node and edge `data` "
        "carry read-only `issues` (and `lock` for nodes). The `ETag` header is the draft "
        "revision; send it back as `If-Match` when saving.",
        response_headers=[],
    )
    async def get_flow(
        self,
        call: Call,
        journey_id: FromPath[str],
        if_none_match: Annotated[
            str | None, HeaderParameter(name="If-None-Match", schema_extra=optional_header())
        ] = None,
        issues: Annotated[
            bool, QueryParameter(description="Annotate nodes and edges with validation issues.")
        ] = True,
    ) -> Response[FlowDocument]:
        canvas = canvas_for(call)
        journey = await canvas.journey(journey_id)
        tag = etag(journey.id, journey.revision)
        if if_none_match_hits(if_none_match, tag):
            return Response(content=b"", status_code=304, headers={"ETag": tag})  # type: ignore[arg-type]
        document = await canvas.document(journey, with_issues=issues)
        return Response(content=document, headers={"ETag": tag})

    @put(
        "/",
        summary="Save the whole canvas (what toObject() returned)",
        description="Needs `If-Match` with the ETag you read (428 without, 412 when the "
        "draft moved on). React-only fields (`selected`, `measured`, `dragging`…) are "
        "accepted and dropped. Changing an element under an edit lock needs the lock's "
        "fencing token in `Aisle-Fencing-Tokens: node:<id>=<token>, …` (423 otherwise).",
        responses={
            423: FENCED_WRITE_RESPONSE,
            428: problem_spec("No `If-Match`: send the ETag of the flow you edited"),
        },
    )
    async def put_flow(
        self,
        call: Call,
        journey_id: FromPath[str],
        data: JSONBody[FlowDocument],
        if_match: Annotated[
            str | None, HeaderParameter(name="If-Match", schema_extra=optional_header())
        ] = None,
        fencing_tokens: Annotated[
            str | None,
            HeaderParameter(
                name="Aisle-Fencing-Tokens",
                required=False,
                schema_extra=optional_header(pattern=FENCING_TOKENS_PATTERN),
            ),
        ] = None,
    ) -> Response[FlowDocument]:
        fences = fences_from_header(fencing_tokens)
        canvas = canvas_for(call)
        saved = await canvas.replace_flow(journey_id, data, if_match, fences)
        document = await canvas.document(saved)
        return Response(content=document, headers={"ETag": etag(saved.id, saved.revision)})

    @post(
        "/ops",
        summary="Apply a batch of canvas operations",
        description="Ops on different nodes, or different properties of one node, merge. "
        "An op whose property someone else changed since its base revision is refused: "
        "409 with both values, and the refused value is kept as a conflict record. "
        "Resending an op id is a no-op. Changing an element under an edit lock needs the "
        "lock's fencing token in `fences` (423 otherwise, naming holder and expiry).",
        status_code=200,
        responses={
            409: problem_spec("Some operations conflict", OpsConflictBody),
            423: FENCED_WRITE_RESPONSE,
        },
    )
    async def post_ops(
        self, call: Call, journey_id: FromPath[str], data: JSONBody[OpBatch]
    ) -> Response[OpsOutcome]:
        outcome = await canvas_for(call).apply_ops(journey_id, data)
        headers = {"ETag": outcome.etag}
        if outcome.rejected:
            return problem_response(  # type: ignore[return-value]
                None,
                Refused(
                    409,
                    f"{len(outcome.rejected)} operation(s) conflict with changes made since "
                    "their base revision; the refused values are kept as conflict records",
                    slug="edit-conflict",
                    title="Edit conflict",
                    extra=msgspec.to_builtins(outcome),
                    headers=headers,
                ),
            )
        return Response(content=outcome, headers=headers)

    @get("/ops", summary="Operations applied after a revision (for reconnecting clients)")
    async def get_ops(
        self,
        call: Call,
        journey_id: FromPath[str],
        since: Annotated[
            int, QueryParameter(ge=0, le=2**31 - 1, description="The last revision you have.")
        ],
        limit: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1000,
    ) -> LoggedOps:
        return await canvas_for(call).logged_ops(journey_id, since, limit)
