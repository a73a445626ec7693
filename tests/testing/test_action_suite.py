"""The action executor suite, run against Notify and a local receiver."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pytest

from aisle import ActionExecutor, hookimpl
from aisle.contracts.registry import Registry
from aisle.plugins.manager import load_registry
from aisle.testing import ActionExecutorSuite, Effect, FailureCase, HTTPReceiver, Reply

from .notify import NOTIFY


class _Plugin:
    @hookimpl
    def aisle_action_executors(self) -> list[ActionExecutor]:
        return [NOTIFY]


class TestNotify(ActionExecutorSuite):
    @pytest.fixture
    def executor(self) -> ActionExecutor:
        return NOTIFY

    @pytest.fixture
    def registry(self) -> Registry:
        return load_registry(extra_plugins=[("notify", _Plugin())], entry_points=False)

    @pytest.fixture
    def receiver(self) -> Iterator[HTTPReceiver]:
        with HTTPReceiver() as receiver:
            yield receiver

    @pytest.fixture
    def valid_config(self, receiver: HTTPReceiver) -> Mapping[str, Any]:
        return {"url": f"{receiver.url}/hooks/notify"}

    @pytest.fixture
    def settings(self) -> Mapping[str, str]:
        return {"HTTP_ALLOW": "127.0.0.1", "NOTIFY_TOKEN": "notify-token-s3cret"}

    @pytest.fixture
    def observed_effects(self, receiver: HTTPReceiver) -> Callable[[], list[Effect]]:
        return lambda: [Effect(key=r.headers.get("idempotency-key")) for r in receiver.requests]

    @pytest.fixture
    def failure_cases(self, receiver: HTTPReceiver) -> Sequence[FailureCase]:
        return [
            FailureCase(
                name="503 with Retry-After",
                expect="retryable",
                arm=lambda: receiver.reply(Reply(503, {"Retry-After": "30"})),
                retry_after=30,
            ),
            FailureCase(name="429", expect="retryable", arm=lambda: receiver.reply(Reply(429))),
            FailureCase(name="404", expect="permanent", arm=lambda: receiver.reply(Reply(404))),
            FailureCase(name="no answer", expect="hang", arm=receiver.hang),
        ]
