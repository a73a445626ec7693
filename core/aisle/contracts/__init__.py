"""The contracts layer: the types plugins and the core exchange, depending on nothing else
in Aisle (``lint-imports`` holds it to that).

Modules are named for what they hold: :mod:`~aisle.contracts.nodes`,
:mod:`~aisle.contracts.triggers`, :mod:`~aisle.contracts.actions` and
:mod:`~aisle.contracts.crm` (each what its kind of plugin sees, answers and registers as),
:mod:`~aisle.contracts.events` and :mod:`~aisle.contracts.cel` (shared by node and
trigger types), :mod:`~aisle.contracts.registrations` (what every registration shares),
:mod:`~aisle.contracts.hooks` (the hook specs, the one place hook names are written)
and :mod:`~aisle.contracts.registry` (what the loaded plugins contributed). Plugins
import these from :mod:`aisle`, never from here.
"""

__all__: list[str] = []
