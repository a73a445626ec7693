"""``POST /contacts/batch``: many contacts created or changed in one call, for
integrators and imports; each record gets its own outcome (see
:mod:`aisle.services.contacts_bulk`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar import Controller, Request, post
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody

from aisle.api.deps import Call
from aisle.api.problems import ProblemBody, problem_body, problem_spec
from aisle.services.contacts_bulk import (
    MAX_RECORDS,
    ContactBatch,
    ContactRecord,
    OutcomeStatus,
    RecordOutcome,
)
from aisle.services.errors import FieldError, Refused

__all__ = ["BatchOut", "ContactBatchController", "OutcomeOut"]

NDJSON = "application/x-ndjson"


class OutcomeOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    index: int
    """The record's place in the body (0-based; for NDJSON, among non-blank lines)."""
    status: OutcomeStatus
    id: str | None = None
    """The contact created, changed or left as it was."""
    problem: ProblemBody | None = None
    """Why the record failed (its ``errors`` name the field in the record)."""


class BatchOut(msgspec.Struct, kw_only=True):
    items: list[OutcomeOut]
    created: int
    updated: int
    unchanged: int
    failed: int


def _record_schema() -> dict[str, Any]:
    """ContactRecord's JSON Schema with its references inlined (the request body is
    read by hand, so Litestar does not put it among the components)."""
    document = msgspec.json.schema(ContactRecord)
    definitions = document.pop("$defs", {})

    def inline(value: Any) -> Any:
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(definitions[ref.removeprefix("#/$defs/")])
            return {k: inline(v) for k, v in value.items()}
        if isinstance(value, list):
            return [inline(v) for v in value]
        return value

    schema: dict[str, Any] = inline(document)
    return schema


@dataclass
class _BatchOperation(Operation):
    """The operation with its request body: a JSON array or NDJSON of contact records."""

    request_body: Any = field(default=None)

    def __post_init__(self) -> None:
        # A record is judged alone, its shape included: one that is not a ContactRecord
        # fails in its outcome and the rest of the batch goes on, so the body admits any
        # value where a record is expected (the record's schema is there to be read).
        record = {
            "anyOf": [_record_schema(), {}],
            "description": (
                "A contact record. A value that is not one does not refuse the call: it "
                "fails alone, its outcome's problem naming the field."
            ),
        }
        array = {"type": "array", "items": record, "minItems": 1, "maxItems": MAX_RECORDS}
        self.request_body = RequestBody(
            required=True,
            description=(
                f"Up to {MAX_RECORDS} contact records: a JSON array, or one JSON object a "
                f"line ({NDJSON})."
            ),
            content={
                "application/json": OpenAPIMediaType(schema=array),  # type: ignore[arg-type]
                NDJSON: OpenAPIMediaType(schema=record),  # type: ignore[arg-type]
            },
        )


def _records(body: bytes, media_type: str) -> list[msgspec.Raw] | list[bytes]:
    if media_type == NDJSON:
        return [line for line in body.splitlines() if line.strip()]
    if media_type != "application/json":
        raise Refused(415, f"send application/json or {NDJSON}, not {media_type or 'nothing'}")
    try:
        return msgspec.json.decode(body, type=list[msgspec.Raw])
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise Refused(
            400,
            f"the body must be a JSON array of contact records: {exc}",
            slug="validation",
            title="Invalid request",
            errors=[FieldError(message=str(exc))],
        ) from None


def _problem(refusal: Refused) -> ProblemBody:
    return problem_body(refusal)


def _out(outcome: RecordOutcome) -> OutcomeOut:
    return OutcomeOut(
        index=outcome.index,
        status=outcome.status,
        id=outcome.id,
        problem=_problem(outcome.problem) if outcome.problem else None,
    )


class ContactBatchController(Controller):
    path = "/contacts/batch"
    tags = ["contacts"]

    @post(
        "/",
        summary="Create or change many contacts (JSON array or NDJSON), each answered alone",
        status_code=200,
        operation_class=_BatchOperation,
        responses={
            404: problem_spec(
                "Never for the call: a record naming an unknown id fails alone (its outcome)"
            ),
            413: problem_spec(
                "The body is larger than the server accepts (`AISLE_MAX_BODY_BYTES`)"
            ),
            415: problem_spec(f"The body is neither application/json nor {NDJSON}"),
            422: problem_spec(f"No records, or more than {MAX_RECORDS}"),
        },
    )
    async def post_batch(self, call: Call, request: Request[Any, Any, Any]) -> BatchOut:
        """Each record is matched by ``id``, else ``external_ids``, else ``email``, and
        created when nothing matches; a record that fails (bad shape, email, phone,
        timezone, an unconfirmed wedding-date move, an id taken by another contact)
        fails alone, with a problem naming its field. Moving a wedding date needs the
        record's ``confirm_date_change`` and reschedules pending steps, as PATCH does."""
        records = _records(await request.body(), request.content_type[0])
        batch = ContactBatch(call.runtime, call.scope, call.caller)
        outcomes = [_out(o) for o in await batch.upsert(records)]
        counts = {status: 0 for status in ("created", "updated", "unchanged", "failed")}
        for outcome in outcomes:
            counts[outcome.status] += 1
        return BatchOut(items=outcomes, **counts)
