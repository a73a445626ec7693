"""``TriggerTypeSuite``: the contract every trigger type keeps, checked against the clock.

A trigger type answers fire now, fire at T, or not yet. The suite checks the answers
are pure, follow the engine's clock (``context.now``) and never the machine's, and are
consistent with a clock moving forward: a ``FireAt`` is timezone-aware and
never before the client entered the step, the trigger is not due a moment before T and
is due from T on, and the engine wakes the enrollment exactly then. It also checks the
declared ``event_types`` match what fires: an event of a type the trigger does not
declare never makes it fire (the engine would never deliver it), and an event it does
declare does. Fire times are checked for many moments of entry (hypothesis), across
daylight-saving changes::

    class TestTaskDone(TriggerTypeSuite):
        @pytest.fixture
        def trigger_type(self):
            return TASK_DONE

        @pytest.fixture
        def matching_event(self, entered_at):
            return EventView(type="task.completed", payload={"step_id": SOURCE},
                             occurred_at=entered_at + timedelta(hours=1))
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aisle.clock import TestClock
from aisle.contracts.events import EventView
from aisle.contracts.registry import Registry
from aisle.contracts.triggers import ANY_EVENT, Fire, FireAt, NotYet, TriggerDecision, TriggerType
from aisle.domain.contact import Contact
from aisle.domain.event import Event
from aisle.engine.compiled import CompiledJourney
from aisle.engine.core import handle_event, start, tick
from aisle.engine.simulation import ScriptedEvent, simulate
from aisle.testing.journeys import (
    ENROLLMENT,
    SOURCE,
    TARGET,
    compile_or_fail,
    trigger_context,
    trigger_graph,
)
from aisle.testing.registration_suite import STRICT_CONFIG, RegistrationSuite
from aisle.testing.requirements import requires
from aisle.testing.samples import SAMPLE_NOW, sample_contact

__all__ = ["UNDECLARED_EVENT", "TriggerTypeSuite"]

UNDECLARED_EVENT = "conformance.undeclared"
"""An event type no trigger declares; a trigger must not fire on it."""

_EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"

# Moments of entry the clock checks try: two years around the sample wedding, which
# cover both daylight-saving changes of every zone.
_ENTRIES = st.datetimes(
    min_value=datetime(2025, 6, 1),
    max_value=datetime(2027, 6, 1),
    timezones=st.just(UTC),
)
_CLOCK_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)


# Two machine clocks far from every engine clock the suite uses: an answer that changes
# between them was read from the machine, not from the context.
_WALL_CLOCKS = (datetime(1990, 1, 1, tzinfo=UTC), datetime(2090, 1, 1, tzinfo=UTC))


def _due(decision: TriggerDecision, now: datetime) -> bool:
    """What the engine treats as due: ``Fire``, or ``FireAt`` not after ``now``."""
    return isinstance(decision, Fire) or (isinstance(decision, FireAt) and decision.at <= now)


class TriggerTypeSuite(RegistrationSuite):
    """Subclass in a test module; override ``trigger_type``; ``valid_config`` when ``{}``
    is not valid; ``matching_event`` when an empty-payload event of a declared type does
    not make it fire."""

    kind: ClassVar[str] = "trigger type"
    registry_table: ClassVar[str] = "trigger_types"
    capabilities: ClassVar[Mapping[str, str]] = {
        "strict_config": STRICT_CONFIG,
        "fires_after_entry": (
            "a FireAt is never earlier than the moment the client entered the step (a "
            "moment already past is answered with Fire or NotYet, by the trigger's policy)"
        ),
    }

    # -- fixtures a plugin's test class overrides -----------------------------------

    @pytest.fixture
    def trigger_type(self) -> TriggerType:
        """The :class:`~aisle.TriggerType` under test."""
        pytest.fail(
            "override the `trigger_type` fixture in your test class to return the "
            "TriggerType under test"
        )

    @pytest.fixture
    def registration(self, trigger_type: TriggerType) -> TriggerType:
        return trigger_type

    @pytest.fixture
    def contact(self) -> Contact:
        """The couple on the edge's source step (a wedding in September, in London)."""
        return sample_contact()

    @pytest.fixture
    def entered_at(self) -> datetime:
        """When the client entered the edge's source step."""
        return SAMPLE_NOW

    @pytest.fixture
    def matching_event(self, trigger_type: TriggerType, entered_at: datetime) -> EventView | None:
        """An event that makes the trigger fire, an hour after entry (``None``: it fires
        on no event). Default: an empty payload of its one declared event type."""
        declared = sorted(trigger_type.event_types - {ANY_EVENT})
        if not declared:
            return None
        if len(declared) > 1:
            pytest.fail(
                f"trigger type {trigger_type.name!r} declares several event types "
                f"({', '.join(declared)}): override the `matching_event` fixture to return "
                "one that makes it fire"
            )
        return EventView(
            type=declared[0], payload={}, occurred_at=entered_at + timedelta(hours=1), id="e1"
        )

    @pytest.fixture
    def source_node_type(self) -> str:
        """The node type of the step the edge leaves (one whose config may be empty).

        A ``wait`` by default; a trigger only branching steps take (``otherwise``) needs
        ``"decision"``.
        """
        return "wait"

    @pytest.fixture
    def journey(
        self,
        trigger_type: TriggerType,
        valid_config: Any,
        source_node_type: str,
        registry: Registry,
    ) -> CompiledJourney:
        """The source step, the trigger under test, an end step; compiled."""
        graph = trigger_graph(trigger_type.name, valid_config, source_node_type)
        return compile_or_fail(graph, registry, f"trigger type {trigger_type.name!r}")

    # -- checks ---------------------------------------------------------------------

    def test_declared_event_types_are_well_formed(self, trigger_type: TriggerType) -> None:
        """Event types are dotted lowercase names (``form.submitted``) or ``*``."""
        wrong = sorted(
            t
            for t in trigger_type.event_types
            if t != ANY_EVENT and not re.match(_EVENT_TYPE_PATTERN, t)
        )
        assert not wrong, (
            f"trigger type {trigger_type.name!r} declares event types {wrong}: use dotted "
            "lowercase names such as 'form.submitted' (or '*' for every event)"
        )

    def test_answers_are_decisions_and_pure(
        self,
        trigger_type: TriggerType,
        journey: CompiledJourney,
        contact: Contact,
        entered_at: datetime,
        matching_event: EventView | None,
    ) -> None:
        """Fire, FireAt or NotYet; the same context always gives the same answer."""
        for event in (None, matching_event):
            first = self._ask(trigger_type, journey, contact, entered_at, entered_at, event)
            again = self._ask(trigger_type, journey, contact, entered_at, entered_at, event)
            assert first == again, (
                f"trigger type {trigger_type.name!r} answered {first!r}, then {again!r} for "
                "the same context: evaluate must not read the clock, randomness or anything "
                "outside its TriggerContext (use context.now)"
            )

    def test_answers_follow_the_engine_clock_not_the_machine_clock(
        self,
        trigger_type: TriggerType,
        journey: CompiledJourney,
        contact: Contact,
        entered_at: datetime,
        matching_event: EventView | None,
    ) -> None:
        """The same context gives the same answer whatever the machine's clock says."""
        asks: list[tuple[datetime, EventView | None]] = [
            (entered_at, None),
            (entered_at + timedelta(hours=1), None),
            (entered_at + timedelta(days=400), None),
        ]
        if matching_event is not None:
            asks.append((matching_event.occurred_at, matching_event))
        for now, event in asks:
            answers = []
            for wall in _WALL_CLOCKS:
                with time_machine.travel(wall, tick=False):
                    answers.append(
                        self._ask(trigger_type, journey, contact, entered_at, now, event)
                    )
            early, late = answers
            assert early == late, (
                f"trigger type {trigger_type.name!r}, asked with the engine's clock at "
                f"{now.isoformat()}, answered {early!r} while the machine's clock said "
                f"{_WALL_CLOCKS[0].year} and {late!r} when it said {_WALL_CLOCKS[1].year}: "
                "it reads the machine's clock (datetime.now, date.today, time.time). Use "
                "context.now, the engine's clock: the scheduler, simulations and replays "
                "set it, and the machine's time is not the moment being evaluated"
            )

    def test_fire_at_is_aware_and_declared_time_based(
        self,
        trigger_type: TriggerType,
        journey: CompiledJourney,
        contact: Contact,
        entered_at: datetime,
    ) -> None:
        """A FireAt is timezone-aware, and only a ``time_based`` trigger answers one."""
        decision = self._ask(trigger_type, journey, contact, entered_at, entered_at, None)
        if not isinstance(decision, FireAt):
            return
        assert decision.at.tzinfo is not None, (
            f"trigger type {trigger_type.name!r} answered FireAt({decision.at!r}) with a "
            "naive datetime: Aisle keeps every time timezone-aware (UTC)"
        )
        assert trigger_type.time_based, (
            f"trigger type {trigger_type.name!r} answers FireAt but is not declared "
            "time_based=True: the validator then treats it as instant (a cycle through it "
            "is reported as running away)"
        )

    @requires("fires_after_entry")
    def test_fire_at_is_never_before_entry(
        self,
        trigger_type: TriggerType,
        journey: CompiledJourney,
        contact: Contact,
    ) -> None:
        """For any moment of entry, a FireAt is not earlier than that moment."""

        @_CLOCK_SETTINGS
        @given(entered_at=_ENTRIES)
        def check(entered_at: datetime) -> None:
            decision = self._ask(trigger_type, journey, contact, entered_at, entered_at, None)
            if isinstance(decision, FireAt):
                assert decision.at >= entered_at, (
                    f"trigger type {trigger_type.name!r}, entered at {entered_at.isoformat()}"
                    f", answered FireAt({decision.at.isoformat()}), before the client "
                    "arrived: answer Fire (or NotYet) for a moment already past"
                )

        check()

    def test_fires_only_when_due_as_the_clock_moves(
        self,
        trigger_type: TriggerType,
        journey: CompiledJourney,
        contact: Contact,
    ) -> None:
        """Not due a second before its FireAt time; due at that time and after."""

        @_CLOCK_SETTINGS
        @given(entered_at=_ENTRIES)
        def check(entered_at: datetime) -> None:
            clock = TestClock(entered_at)
            first = self._ask(trigger_type, journey, contact, entered_at, clock.now(), None)
            if not isinstance(first, FireAt) or first.at <= clock.now():
                return
            name, at = trigger_type.name, first.at.isoformat()
            clock.set(first.at - timedelta(seconds=1))
            early = self._ask(trigger_type, journey, contact, entered_at, clock.now(), None)
            assert not _due(early, clock.now()), (
                f"trigger type {name!r} promised FireAt({at}) but is already due a second "
                f"earlier ({early!r}): fire only when the time comes"
            )
            clock.set(first.at)
            for when in ("at that moment", "with the scheduler a day late"):
                answer = self._ask(trigger_type, journey, contact, entered_at, clock.now(), None)
                assert _due(answer, clock.now()), (
                    f"trigger type {name!r} promised FireAt({at}) but {when} answers "
                    f"{answer!r}: once the time has come it must answer Fire (or FireAt a "
                    "time not after now), or the client never moves on"
                )
                clock.advance(days=1)

        check()

    def test_undeclared_events_never_fire_it(
        self,
        trigger_type: TriggerType,
        journey: CompiledJourney,
        contact: Contact,
        entered_at: datetime,
    ) -> None:
        """An event of a type not in ``event_types`` does not make it fire."""
        if ANY_EVENT in trigger_type.event_types:
            pytest.skip(f"trigger type {trigger_type.name!r} listens to every event type")
        moment = entered_at + timedelta(hours=1)
        quiet = self._ask(trigger_type, journey, contact, entered_at, moment, None)
        if _due(quiet, moment):
            return  # it fires anyway (immediate, a past date); no event makes a difference
        stranger = EventView(type=UNDECLARED_EVENT, payload={}, occurred_at=moment, id="x")
        answer = self._ask(trigger_type, journey, contact, entered_at, moment, stranger)
        assert not _due(answer, moment), (
            f"trigger type {trigger_type.name!r} fires on an event of type "
            f"{UNDECLARED_EVENT!r}, which it does not declare: the engine only asks it "
            "about the event types in event_types, so add the type there or ignore it"
        )

    def test_declared_events_fire_it(
        self,
        trigger_type: TriggerType,
        journey: CompiledJourney,
        contact: Contact,
        entered_at: datetime,
        matching_event: EventView | None,
    ) -> None:
        """The matching event has a declared type and makes the trigger fire."""
        if matching_event is None:
            pytest.skip(f"trigger type {trigger_type.name!r} fires on no event")
        declared = trigger_type.event_types
        assert matching_event.type in declared or ANY_EVENT in declared, (
            f"matching_event has type {matching_event.type!r}, which trigger type "
            f"{trigger_type.name!r} does not declare ({sorted(declared)}): the engine "
            "would never deliver it"
        )
        moment = matching_event.occurred_at
        answer = self._ask(trigger_type, journey, contact, entered_at, moment, matching_event)
        assert _due(answer, moment), (
            f"trigger type {trigger_type.name!r} answered {answer!r} to matching_event "
            f"{matching_event!r}: it must fire (or override the `matching_event` fixture "
            "with an event that should make it fire)"
        )

    def test_engine_moves_on_when_it_fires(
        self,
        trigger_type: TriggerType,
        journey: CompiledJourney,
        contact: Contact,
        entered_at: datetime,
        matching_event: EventView | None,
    ) -> None:
        """Under the engine the client stays before the trigger is due and moves after."""
        entered = start(journey, ENROLLMENT, contact, entered_at)
        state = entered.state
        assert state.status != "failed", (
            f"trigger type {trigger_type.name!r} failed the enrollment: {state.error}"
        )
        if state.step_id == TARGET:
            return  # it fired on entry
        if state.wake_at is not None:
            before = tick(journey, state, contact, state.wake_at - timedelta(seconds=1)).state
            assert before.step_id == SOURCE, (
                f"trigger type {trigger_type.name!r}: the engine moved the client on before "
                f"the wake-up it scheduled ({state.wake_at.isoformat()})"
            )
            woken = tick(journey, state, contact, state.wake_at).state
            assert woken.step_id == TARGET, (
                f"trigger type {trigger_type.name!r}: at its wake-up "
                f"({state.wake_at.isoformat()}) the engine did not take the edge "
                f"({woken.status}, {woken.error or 'still waiting'})"
            )
            return
        if matching_event is None:
            pytest.skip(f"trigger type {trigger_type.name!r} fires neither on entry nor later")
        event = Event(
            id=matching_event.id or "e1",
            type=matching_event.type,
            contact_id=contact.id,
            occurred_at=matching_event.occurred_at,
            idempotency_key="conformance-event",
            payload=dict(matching_event.payload),
        )
        moved = handle_event(journey, state, contact, event, matching_event.occurred_at).state
        assert moved.step_id == TARGET, (
            f"trigger type {trigger_type.name!r}: the engine did not take the edge on "
            f"{matching_event.type!r} ({moved.status}, {moved.error or 'still waiting'})"
        )

    def test_simulation_is_deterministic(
        self,
        trigger_type: TriggerType,
        journey: CompiledJourney,
        contact: Contact,
        entered_at: datetime,
        matching_event: EventView | None,
    ) -> None:
        """Simulating the journey twice over a year gives the same timeline."""
        script = (
            [
                ScriptedEvent(
                    at=matching_event.occurred_at,
                    type=matching_event.type,
                    payload=dict(matching_event.payload),
                )
            ]
            if matching_event is not None
            else []
        )
        runs = [
            simulate(journey, contact, script, entered_at, timedelta(days=365)) for _ in range(2)
        ]
        assert runs[0] == runs[1], (
            f"trigger type {trigger_type.name!r}: two simulations of the same journey differ"
        )

    # -- helpers --------------------------------------------------------------------

    def _ask(
        self,
        trigger_type: TriggerType,
        journey: CompiledJourney,
        contact: Contact,
        entered_at: datetime,
        now: datetime,
        event: EventView | None,
    ) -> TriggerDecision:
        context = trigger_context(journey, contact, entered_at, now, event)
        decision: object = trigger_type.evaluate(context)
        assert isinstance(decision, Fire | FireAt | NotYet), (
            f"trigger type {trigger_type.name!r} returned {type(decision).__name__}: "
            "evaluate must return aisle.Fire, FireAt or NotYet"
        )
        return decision
