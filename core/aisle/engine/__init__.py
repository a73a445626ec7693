"""The pure, deterministic journey engine; its contracts with node and trigger types
(what they see and answer) live in :mod:`aisle.contracts`.

Modules: :mod:`~aisle.engine.core` (start, handle_event, tick, recompute, matches_entry,
may_enroll), :mod:`~aisle.engine.effects` (transitions, planned actions, log records),
:mod:`~aisle.engine.compiled` (a journey version ready to run),
:mod:`~aisle.engine.validation` (issues with node/edge ids),
:mod:`~aisle.engine.conditions` (CEL), :mod:`~aisle.engine.timing` (local time and DST)
and :mod:`~aisle.engine.simulation` (a virtual-clock timeline).
"""

__all__: list[str] = []
