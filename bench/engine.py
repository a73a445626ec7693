"""Engine transitions per second, in process, on the demo journey.

One "transition" is one call of the pure engine (``start``, ``handle_event`` or
``tick``) with its state change and effects. Each round drives a booked couple through
the whole demo journey: 7 calls entering 11 steps and planning 5 action runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

import msgspec

from aisle.demo import demo_contacts, demo_journey
from aisle.domain import Contact, EnrollmentState, Event
from aisle.engine.compiled import CompiledJourney
from aisle.engine.core import compile_journey, handle_event, start, tick
from aisle.engine.effects import Transition
from aisle.plugins.manager import load_registry
from bench.registry import Result, bench, from_samples

__all__ = ["drive_demo_journey", "engine_transitions"]

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _event(number: int, type_: str, at: datetime, **payload: object) -> Event:
    return Event(
        id=f"ev{number}",
        type=type_,
        contact_id="c1",
        occurred_at=at,
        idempotency_key=f"k{number}",
        payload=dict(payload),
    )


def drive_demo_journey(
    journey: CompiledJourney,
    contact: Contact,
    enrollment_id: str,
    record: Callable[[Callable[[], Transition]], Transition],
) -> EnrollmentState:
    """Take a booked couple from enquiry to the end; ``record`` makes (and times) each call."""
    now = START
    state = record(partial(start, journey, enrollment_id, contact, now)).state
    steps: list[tuple[str, dict[str, object]] | None] = [
        None,  # three days later: booked? → deposit requested
        ("payment.received", {"amount": "500.00", "currency": "GBP"}),
        None,  # 30 days before the wedding: questionnaire
        ("form.submitted", {"form_id": "questionnaire"}),
        ("task.completed", {"step_id": "shot_list"}),
        None,  # 7 days before: see you soon → end
    ]
    for number, step in enumerate(steps):
        current = state
        if step is None:
            if current.wake_at is None:
                raise RuntimeError(f"no wake-up at {current.step_id}")
            now = max(now, current.wake_at)
            state = record(partial(tick, journey, current, contact, now)).state
        else:
            now += timedelta(hours=1)
            event = _event(number, step[0], now, **step[1])
            state = record(partial(handle_event, journey, current, contact, event, now)).state
    if state.status != "completed":
        raise RuntimeError(f"the demo journey stopped at {state.step_id}: {state.status}")
    return state


@bench("engine.transitions", "pure engine calls per second on the demo journey")
def engine_transitions(quick: bool) -> Result:
    journey = compile_journey(demo_journey(), load_registry(), journey_id="demo", version=1)
    contact = msgspec.structs.replace(demo_contacts(START.date())[0], id="c1")
    samples: list[float] = []

    def timed(call: Callable[[], Transition]) -> Transition:
        began = time.perf_counter()
        transition = call()
        samples.append(time.perf_counter() - began)
        return transition

    rounds = 50 if quick else 3000
    for _ in range(5):  # warm up
        drive_demo_journey(journey, contact, "warmup", lambda call: call())
    for n in range(rounds):
        drive_demo_journey(journey, contact, f"e{n}", timed)
    return from_samples("engine.transitions", samples, unit="transition")
