"""Built-in node types (placeholder list until the engine work fills it)."""

from aisle.plugins.registrations import NodeType

NODE_TYPES: list[NodeType] = []
