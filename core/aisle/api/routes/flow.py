"""The canvas endpoints: the draft as React Flow JSON, whole-flow saves and op batches."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get, post, put
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from aisle.api.collab import FENCED_WRITE_RESPONSE, fences_from_header, node_locks
from aisle.api.collab.hooks import FENCING_TOKENS_PATTERN
from aisle.api.deps import Tenant
from aisle.api.etags import etag, if_none_match_hits
from aisle.api.flow_ops import OpBatch
from aisle.api.flow_service import (
    LoggedOp,
    OpsOutcome,
    apply_ops,
    flow_document,
    logged_ops,
    replace_flow,
)
from aisle.api.openapi import optional_header
from aisle.api.problems import Problem, ProblemBody, problem_response, problem_spec
from aisle.api.reactflow import FlowDocument
from aisle.api.roles import ensure_journey_role

__all__ = ["FlowController", "OpsConflictBody"]


class OpsConflictBody(ProblemBody, kw_only=True):
    """409 for an op batch: RFC 9457 members plus what the batch did."""

    revision: int = 0
    etag: str = ""
    applied: list[str] = []
    replayed: list[Any] = []
    rejected: list[Any] = []


class LoggedOps(msgspec.Struct, kw_only=True):
    revision: int
    etag: str
    ops: list[LoggedOp]


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
        tenant: Tenant,
        journey_id: FromPath[str],
        if_none_match: Annotated[
            str | None, HeaderParameter(name="If-None-Match", schema_extra=optional_header())
        ] = None,
        issues: Annotated[
            bool, QueryParameter(description="Annotate nodes and edges with validation issues.")
        ] = True,
    ) -> Response[FlowDocument]:
        journey = await tenant.org.journeys.get(journey_id)
        tag = etag(journey.id, journey.revision)
        if if_none_match_hits(if_none_match, tag):
            return Response(content=b"", status_code=304, headers={"ETag": tag})  # type: ignore[arg-type]
        locks = await node_locks(tenant, journey.id)
        document = flow_document(
            tenant, journey.draft, with_issues=issues, locks=locks, journey=journey
        )
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
        tenant: Tenant,
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
        journey = await tenant.org.journeys.get(journey_id)
        await ensure_journey_role(tenant, journey.id, "editor", "editing the flow")
        fences = fences_from_header(fencing_tokens)
        saved = await replace_flow(tenant, journey.id, data, if_match, fences)
        locks = await node_locks(tenant, saved.id)
        document = flow_document(tenant, saved.draft, locks=locks, journey=saved)
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
        self, tenant: Tenant, journey_id: FromPath[str], data: JSONBody[OpBatch]
    ) -> Response[OpsOutcome]:
        outcome = await apply_ops(tenant, journey_id, data, require="editor")
        headers = {"ETag": outcome.etag}
        if outcome.rejected:
            return problem_response(  # type: ignore[return-value]
                None,
                Problem(
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
        tenant: Tenant,
        journey_id: FromPath[str],
        since: Annotated[
            int, QueryParameter(ge=0, le=2**31 - 1, description="The last revision you have.")
        ],
        limit: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1000,
    ) -> LoggedOps:
        journey = await tenant.org.journeys.get(journey_id)
        ops = await logged_ops(tenant, journey.id, since, limit)
        return LoggedOps(
            revision=journey.revision, etag=etag(journey.id, journey.revision), ops=ops
        )
