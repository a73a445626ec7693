"""Built-in trigger types (placeholder list until the engine work fills it)."""

from aisle.plugins.registrations import TriggerType

TRIGGER_TYPES: list[TriggerType] = []
