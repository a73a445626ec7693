"""``ActionExecutorSuite``: the contract every action executor keeps, checked from outside.

An executor runs in a worker with at-least-once delivery, so the suite checks what
makes that safe: every effect carries the run's idempotency key (the same key twice is
one effect), failures are classified so the worker retries what is transient and stops
on what is not, a hanging remote is abandoned when the run's time is up, every request
leaves through the SSRF guard (``aisle.http_client``), and no secret reaches a log
line, a stored result or an error message.

A plugin's test module subclasses the suite and overrides fixtures::

    class TestWebhookExecutor(ActionExecutorSuite):
        @pytest.fixture
        def executor(self):
            return WEBHOOK

        @pytest.fixture
        def valid_config(self, receiver):
            return {"url": receiver.url}

        @pytest.fixture
        def observed_effects(self, receiver):
            return lambda: [Effect(key=r.headers["webhook-id"]) for r in receiver.requests]
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import msgspec
import pytest
import pytest_asyncio

from aisle.contracts.actions import ActionContext, ActionExecutor, ActionResult, RetryableError
from aisle.jobs.backoff import is_retryable
from aisle.testing.config_schema import action_config
from aisle.testing.egress import GUARD_ADVICE, watch_egress
from aisle.testing.registration_suite import STRICT_CONFIG, RegistrationSuite
from aisle.testing.requirements import requires
from aisle.testing.samples import SAMPLE_NOW, sample_contact, sample_studio
from aisle.testing.secrets import leaks, secret_values
from aisle.testing.services import RecordingServices

__all__ = ["ActionExecutorSuite", "ContextFactory", "Effect", "FailureCase"]


class Effect(msgspec.Struct, frozen=True, kw_only=True):
    """One effect the outside world saw, with the idempotency key it carried.

    ``key`` is what the remote received (a ``webhook-id``, an ``Idempotency-Key``
    header, a ``Message-ID``…), or ``None`` when the effect carried none.
    """

    key: str | None
    detail: Mapping[str, Any] = {}


@dataclass(frozen=True, kw_only=True)
class FailureCase:
    """A way to make the executor's remote fail, and how the worker must treat it.

    ``arm`` (sync or async) makes the sandbox fail the next call; ``config`` replaces
    ``valid_config`` for this case (e.g. a URL answering 410). ``expect``:
    ``"retryable"`` (the worker must retry; ``retry_after`` is the delay the remote
    asked for, if any), ``"permanent"`` (the run must stop), ``"hang"`` (the remote
    never answers: the run must give up when its time is up).
    """

    name: str
    expect: Literal["retryable", "permanent", "hang"]
    arm: Callable[[], Awaitable[None] | None] | None = None
    config: Mapping[str, Any] | None = None
    retry_after: float | None = None


ContextFactory = Callable[..., ActionContext]
"""``make_context(key, *, attempt=1, config=None) -> ActionContext``."""

EffectProbe = Callable[[], Awaitable[Sequence[Effect]] | Sequence[Effect]]

_MAX_TIMEOUT_SECONDS = 900.0


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class ActionExecutorSuite(RegistrationSuite):
    """Subclass in a test module; override ``executor``, ``observed_effects`` and, as
    the executor needs, ``valid_config``, ``settings`` and ``failure_cases``."""

    kind: ClassVar[str] = "action executor"
    registry_table: ClassVar[str] = "action_executors"
    capabilities: ClassVar[Mapping[str, str]] = {
        "strict_config": STRICT_CONFIG,
        "retryable_errors": (
            "a transient failure of the remote (a 5xx, a 429, a dropped connection) makes "
            "the worker retry, honouring the delay the remote asked for"
        ),
        "permanent_errors": (
            "a failure retrying cannot fix (a 4xx, a bad address) stops the run at once"
        ),
        "timeouts": "a remote that never answers is abandoned when the run's time is up",
    }

    # -- fixtures a plugin's test class overrides -----------------------------------

    @pytest.fixture
    def executor(self) -> ActionExecutor:
        """The :class:`~aisle.ActionExecutor` under test."""
        pytest.fail(
            "override the `executor` fixture in your test class to return the "
            "ActionExecutor under test"
        )

    @pytest.fixture
    def registration(self, executor: ActionExecutor) -> ActionExecutor:
        return executor

    @pytest.fixture
    def observed_effects(self) -> EffectProbe:
        """A callable (sync or async) listing the effects the sandbox has seen, oldest first.

        The list only grows; the suite compares it before and after each run.
        """
        pytest.fail(
            "override the `observed_effects` fixture to return a callable listing what "
            "your sandbox received, as aisle.testing.Effect(key=<idempotency key it "
            "carried>) values, oldest first"
        )

    @pytest.fixture
    def settings(self) -> Mapping[str, str]:
        """Operator settings the executor reads through ``services.setting`` (``SMTP_HOST``…)."""
        return {}

    @pytest.fixture
    def secrets(self, settings: Mapping[str, str]) -> Sequence[str]:
        """Values that must never appear in logs, results or errors.

        Defaults to the settings whose names say they are secret (password, token,
        secret, key, auth).
        """
        return secret_values(settings)

    @pytest.fixture
    def failure_cases(self) -> Sequence[FailureCase]:
        """Ways to make the remote fail; one per kind the executor claims to handle."""
        return ()

    @pytest.fixture
    def services(self, settings: Mapping[str, str]) -> RecordingServices:
        return RecordingServices(settings=settings)

    @pytest.fixture
    def contact(self) -> Mapping[str, Any]:
        return sample_contact().activation()

    @pytest.fixture
    def studio(self) -> Mapping[str, Any]:
        return sample_studio()

    @pytest.fixture
    def make_context(
        self,
        config_type: type[msgspec.Struct],
        valid_config: Any,
        services: RecordingServices,
        contact: Mapping[str, Any],
        studio: Mapping[str, Any],
    ) -> ContextFactory:
        """Builds the :class:`~aisle.ActionContext` of one attempt, as the worker does."""

        def make(
            key: str, *, attempt: int = 1, config: Mapping[str, Any] | None = None
        ) -> ActionContext:
            return ActionContext(
                run_id=f"run_{key}",
                organization_id=str(studio.get("id", "org_sample")),
                idempotency_key=key,
                attempt=attempt,
                config=action_config(config_type, valid_config if config is None else config),
                contact=contact,
                studio=studio,
                now=SAMPLE_NOW,
                services=services.for_run(key),
            )

        return make

    @pytest.fixture
    def hang_deadline(self) -> float:
        """Seconds the suite lets a hanging call run before cancelling it, as the worker
        does at ``timeout_seconds`` (short, so the suite stays fast)."""
        return 0.2

    @pytest.fixture
    def cancel_grace(self) -> float:
        """Seconds an executor may take to stop once cancelled."""
        return 5.0

    @pytest_asyncio.fixture
    async def effects(self, observed_effects: EffectProbe) -> _Effects:
        return _Effects(observed_effects)

    # -- checks ---------------------------------------------------------------------

    def test_limits_are_sane(self, executor: ActionExecutor) -> None:
        """A finite, positive timeout the worker can enforce; at least one attempt."""
        timeout = executor.timeout_seconds
        assert 0 < timeout <= _MAX_TIMEOUT_SECONDS, (
            f"action executor {executor.name!r} has timeout_seconds={timeout!r}: use a "
            f"positive number of seconds up to {_MAX_TIMEOUT_SECONDS:.0f}, so a hung remote "
            "frees the worker"
        )
        assert executor.max_attempts >= 1

    @pytest.mark.asyncio
    async def test_execute_returns_a_storable_result(
        self, executor: ActionExecutor, make_context: ContextFactory
    ) -> None:
        """A successful run returns an ActionResult whose detail can be stored as JSON."""
        result = await executor.execute(make_context("conformance-result"))
        assert isinstance(result, ActionResult), (
            f"action executor {executor.name!r} returned {type(result).__name__}; return "
            "aisle.ActionResult(detail={...})"
        )
        try:
            msgspec.json.encode(result.detail)
        except (TypeError, msgspec.EncodeError) as exc:
            pytest.fail(
                f"the result detail of {executor.name!r} cannot be stored as JSON ({exc}); "
                "keep it to str, numbers, bools, lists and dicts"
            )

    @pytest.mark.asyncio
    async def test_effects_carry_the_idempotency_key(
        self, executor: ActionExecutor, make_context: ContextFactory, effects: _Effects
    ) -> None:
        """Every effect of a run carries the run's idempotency key to the remote."""
        key = "conformance-key-1"
        new = await effects.during(executor.execute(make_context(key)))
        assert new, (
            f"action executor {executor.name!r} ran but observed_effects() reports no new "
            "effect: make the fixture list what your sandbox received"
        )
        wrong = sorted({str(e.key) for e in new if e.key != key})
        assert not wrong, (
            f"action executor {executor.name!r} sent effect(s) carrying {', '.join(wrong)} "
            f"instead of the run's idempotency key {key!r}: pass ActionContext."
            "idempotency_key to the remote (Idempotency-Key header, webhook-id, Message-ID) "
            "so a run the worker repeats after a crash is not done twice"
        )

    @pytest.mark.asyncio
    async def test_same_key_twice_is_one_effect(
        self, executor: ActionExecutor, make_context: ContextFactory, effects: _Effects
    ) -> None:
        """Re-running a run (a redelivery, a retry) produces no second distinct effect."""
        key = "conformance-key-twice"
        first = await effects.during(executor.execute(make_context(key, attempt=1)))
        second = await effects.during(executor.execute(make_context(key, attempt=2)))
        keys = {e.key for e in [*first, *second]}
        assert keys == {key}, (
            f"action executor {executor.name!r} run twice with idempotency key {key!r} "
            f"produced effects keyed {sorted(map(str, keys))}: the remote cannot tell the "
            "second run is a repeat. Derive every key from ActionContext.idempotency_key "
            "alone (not the attempt, a clock or a random id)"
        )

    @pytest.mark.asyncio
    async def test_distinct_keys_are_distinct_effects(
        self, executor: ActionExecutor, make_context: ContextFactory, effects: _Effects
    ) -> None:
        """Two different runs are two effects (the key is not ignored or cached globally)."""
        new = await effects.during(
            executor.execute(make_context("conformance-key-a")),
            executor.execute(make_context("conformance-key-b")),
        )
        keys = {e.key for e in new}
        assert {"conformance-key-a", "conformance-key-b"} <= keys, (
            f"action executor {executor.name!r} ran two different runs but the sandbox saw "
            f"keys {sorted(map(str, keys))}: each run must reach the remote with its own key"
        )

    @pytest.mark.asyncio
    async def test_preview_renders_without_sending(
        self,
        executor: ActionExecutor,
        config_type: type[msgspec.Struct],
        valid_config: Any,
        contact: Mapping[str, Any],
        studio: Mapping[str, Any],
        effects: _Effects,
    ) -> None:
        """``preview`` shows what would be sent, the same each time, and sends nothing."""
        preview = executor.preview
        if preview is None:
            pytest.skip(f"action executor {executor.name!r} offers no preview")
        config = action_config(config_type, valid_config)
        before = await effects.snapshot()
        first, second = preview(config, contact, studio), preview(config, contact, studio)
        assert await effects.snapshot() == before, (
            f"action executor {executor.name!r}: preview reached the remote; it must only "
            "render what execute would send"
        )
        assert first == second, (
            f"action executor {executor.name!r}: two previews of the same action differ"
        )
        try:
            msgspec.json.encode(first)
        except (TypeError, msgspec.EncodeError) as exc:
            pytest.fail(f"the preview of {executor.name!r} is not JSON the API can return: {exc}")

    @requires("retryable_errors")
    @pytest.mark.asyncio
    async def test_transient_failures_are_retried(
        self,
        executor: ActionExecutor,
        make_context: ContextFactory,
        failure_cases: Sequence[FailureCase],
    ) -> None:
        """A transient failure raises an error the worker retries, with the asked delay."""
        await self._check_cases(executor, make_context, failure_cases, "retryable")

    @requires("permanent_errors")
    @pytest.mark.asyncio
    async def test_permanent_failures_stop_the_run(
        self,
        executor: ActionExecutor,
        make_context: ContextFactory,
        failure_cases: Sequence[FailureCase],
    ) -> None:
        """A failure retrying cannot fix raises an error the worker does not retry."""
        await self._check_cases(executor, make_context, failure_cases, "permanent")

    @requires("timeouts")
    @pytest.mark.asyncio
    async def test_hanging_remote_is_abandoned(
        self,
        executor: ActionExecutor,
        make_context: ContextFactory,
        failure_cases: Sequence[FailureCase],
        hang_deadline: float,
        cancel_grace: float,
    ) -> None:
        """When the remote never answers, the run ends once the worker's time is up."""
        cases = self._cases(executor, failure_cases, "hang")
        for case in cases:
            await _maybe_await(case.arm() if case.arm else None)
            task = asyncio.ensure_future(
                executor.execute(make_context(f"conformance-hang-{case.name}", config=case.config))
            )
            done, _ = await asyncio.wait({task}, timeout=hang_deadline)
            if not done:
                task.cancel()  # what the worker's timeout does
                done, _ = await asyncio.wait({task}, timeout=cancel_grace)
                assert done, (
                    f"{executor.name!r}, case {case.name!r}: still running {cancel_grace}s "
                    "after the worker cancelled it. Do not swallow asyncio.CancelledError "
                    "and do not block the event loop (use async I/O)"
                )
                if task.cancelled():
                    continue
            error = task.exception()
            assert error is not None, (
                f"{executor.name!r}, case {case.name!r}: the remote never answered but "
                "execute returned success; let the worker's cancellation through (never "
                "swallow asyncio.CancelledError) or raise RetryableError on a timeout"
            )
            assert is_retryable(error, executor.classify), (
                f"{executor.name!r}, case {case.name!r}: a remote that does not answer is "
                f"transient, but {type(error).__name__}: {error} would stop the run; raise "
                "aisle.RetryableError on your own timeout"
            )

    @pytest.mark.asyncio
    async def test_requests_go_through_the_ssrf_guard(
        self,
        executor: ActionExecutor,
        make_context: ContextFactory,
        failure_cases: Sequence[FailureCase],
    ) -> None:
        """Every outbound request leaves through a client of ``aisle.http_client``."""
        with watch_egress() as bypasses:
            with contextlib.suppress(Exception):  # other checks judge the outcome
                await executor.execute(make_context("conformance-egress"))
            for case in failure_cases:
                if case.expect == "hang":
                    continue
                await _maybe_await(case.arm() if case.arm else None)
                with contextlib.suppress(Exception):
                    await executor.execute(
                        make_context(f"conformance-egress-{case.name}", config=case.config)
                    )
        assert not bypasses, (
            f"action executor {executor.name!r} sent "
            f"{'; '.join(sorted({str(b) for b in bypasses}))} through an HTTP client it made "
            f"itself, which skips Aisle's SSRF guard: {GUARD_ADVICE}"
        )

    @pytest.mark.asyncio
    async def test_secrets_stay_out_of_logs_results_and_errors(
        self,
        executor: ActionExecutor,
        make_context: ContextFactory,
        failure_cases: Sequence[FailureCase],
        secrets: Sequence[str],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """No secret setting appears in a log record, a stored result or an error."""
        if not secrets:
            pytest.skip(f"action executor {executor.name!r} is given no secret settings")
        caplog.set_level(logging.DEBUG)
        seen: list[tuple[str, object]] = []
        result = await executor.execute(make_context("conformance-secrets"))
        seen.append(("the result detail", msgspec.json.encode(result.detail).decode()))
        for case in failure_cases:
            if case.expect == "hang":
                continue
            await _maybe_await(case.arm() if case.arm else None)
            try:
                await executor.execute(
                    make_context(f"conformance-secrets-{case.name}", config=case.config)
                )
            except Exception as exc:
                seen.append((f"the error of case {case.name!r}", exc))
        seen.extend(("a log record", record) for record in caplog.records)
        found = leaks(secrets, seen)
        assert not found, (
            f"action executor {executor.name!r} leaks a secret setting into "
            f"{', '.join(found)}: never put credentials in messages, URLs or results"
        )

    # -- helpers --------------------------------------------------------------------

    def _cases(
        self, executor: ActionExecutor, failure_cases: Sequence[FailureCase], expect: str
    ) -> list[FailureCase]:
        cases = [case for case in failure_cases if case.expect == expect]
        capability = {"retryable": "retryable_errors", "permanent": "permanent_errors"}.get(
            expect, "timeouts"
        )
        if not cases:
            pytest.fail(
                f"action executor {executor.name!r}: add a FailureCase(expect={expect!r}) to "
                f"the `failure_cases` fixture, or declare unsupported = "
                f"{{{capability!r}: '<why the executor cannot meet this>'}}"
            )
        return cases

    async def _check_cases(
        self,
        executor: ActionExecutor,
        make_context: ContextFactory,
        failure_cases: Sequence[FailureCase],
        expect: str,
    ) -> None:
        """Run every case of kind ``expect``; fail listing each one raised wrongly."""
        problems = [
            problem
            async for problem in self._problems(executor, make_context, failure_cases, expect)
        ]
        assert not problems, "; ".join(problems)

    async def _problems(
        self,
        executor: ActionExecutor,
        make_context: ContextFactory,
        failure_cases: Sequence[FailureCase],
        expect: str,
    ) -> AsyncIterator[str]:
        """What is wrong with how each case of kind ``expect`` is raised (nothing when right)."""
        for case in self._cases(executor, failure_cases, expect):
            await _maybe_await(case.arm() if case.arm else None)
            context = make_context(f"conformance-{expect}-{case.name}", config=case.config)
            try:
                await executor.execute(context)
            except Exception as error:
                retried = is_retryable(error, executor.classify)
                described = f"{type(error).__name__}: {' '.join(str(error).split())}"
                if expect == "retryable" and not retried:
                    yield (
                        f"case {case.name!r} is transient but {described} would stop the run: "
                        "raise aisle.RetryableError (with retry_after= when the remote says "
                        "when to come back)"
                    )
                elif expect == "permanent" and retried:
                    yield (
                        f"case {case.name!r} cannot be fixed by retrying but {described} "
                        "would be retried: raise aisle.PermanentError"
                    )
                elif case.retry_after is not None:
                    asked = getattr(error, "retry_after", None)
                    if not isinstance(error, RetryableError) or asked is None:
                        yield (
                            f"case {case.name!r}: the remote asked to retry after "
                            f"{case.retry_after}s but {described} carries no retry_after; "
                            "raise RetryableError(..., retry_after=<seconds>)"
                        )
                    elif asked < case.retry_after:
                        yield (
                            f"case {case.name!r}: the remote asked to retry after "
                            f"{case.retry_after}s but the error says {asked}s"
                        )
            else:
                yield f"case {case.name!r}: the remote failed but execute returned success"


class _Effects:
    """Reads the author's probe before and after a run; yields what the run added."""

    def __init__(self, probe: EffectProbe) -> None:
        self._probe = probe

    async def snapshot(self) -> list[Effect]:
        effects = await _maybe_await(self._probe())
        return list(effects)

    async def during(self, *runs: Awaitable[ActionResult]) -> list[Effect]:
        before = await self.snapshot()
        for run in runs:
            await run
        after = await self.snapshot()
        assert after[: len(before)] == before, (
            "observed_effects() must list effects oldest first and only ever grow"
        )
        return after[len(before) :]
