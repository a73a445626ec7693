"""Fixtures for the actions plugin's tests: local servers and an executor's context."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from aisle import ActionContext
from aisle.testing.http_server import HTTPReceiver
from aisle.testing.samples import sample_contact, sample_studio
from aisle.testing.services import RecordingServices

LOCAL = {"HTTP_ALLOW": "127.0.0.1/32", "HTTP_HOSTS": ""}
"""Operator settings that let executors reach the test servers on 127.0.0.1."""

MakeContext = Callable[..., ActionContext]


@pytest.fixture
def http_receiver() -> Iterator[HTTPReceiver]:
    with HTTPReceiver() as receiver:
        yield receiver


@pytest.fixture
def action_settings() -> dict[str, str]:
    """Settings the executors read; tests add to it before making a context."""
    return dict(LOCAL)


@pytest.fixture
def action_services(action_settings: dict[str, str]) -> RecordingServices:
    return RecordingServices(settings=action_settings)


@pytest.fixture
def contact() -> dict[str, Any]:
    return sample_contact().activation()


@pytest.fixture
def studio() -> dict[str, Any]:
    return sample_studio()


@pytest.fixture
def make_context(
    action_services: RecordingServices,
    contact: Mapping[str, Any],
    studio: Mapping[str, Any],
) -> MakeContext:
    """``make_context(config, key="run-1", attempt=1, now=None, **fields)``.

    ``now`` defaults to the real time: receivers verify webhook timestamps against it.
    """

    def make(
        config: Any,
        key: str = "run-1",
        *,
        attempt: int = 1,
        now: datetime | None = None,
        **fields: Any,
    ) -> ActionContext:
        values: dict[str, Any] = {
            "run_id": f"ar_{key}",
            "organization_id": "org_sample",
            "idempotency_key": key,
            "attempt": attempt,
            "config": config,
            "contact": contact,
            "studio": studio,
            "now": now or datetime.now(UTC),
            "services": action_services.for_run(key),
        }
        values.update(fields)
        return ActionContext(**values)

    return make


def planned(node_type: str, config: Mapping[str, Any], contact: Mapping[str, Any]) -> Any:
    """The action config a built-in node plans on entry, as the outbox snapshots it.

    Tests start from the node's config, so executor and node config names agree.
    """
    import msgspec

    from aisle.builtins.nodes import NODE_TYPES
    from aisle.contracts.nodes import NodeContext

    node = next(n for n in NODE_TYPES if n.name == node_type)
    outcome = node.on_enter(
        NodeContext(
            node_id="step-1",
            label=node.label,
            config=msgspec.convert(config, node.config),
            now=datetime(2026, 3, 2, 10, 30, tzinfo=UTC),
            contact=contact,
            variables={},
            event=None,
            outgoing=(),
            evaluate=lambda _expression: False,
            studio_timezone="Europe/London",
        )
    )
    (request,) = outcome.actions  # type: ignore[union-attr]
    return msgspec.to_builtins(request.config)
