"""The ``aisle`` command: one click group, each subcommand in a module of its own."""

from __future__ import annotations

import importlib
from typing import Any

import click

__all__ = ["main"]

# command name → module under aisle.cli exposing ``command``; imported only when used,
# so ``aisle plugins`` does not pay for the web stack.
COMMANDS = {
    "serve": "serve",
    "worker": "worker",
    "scheduler": "scheduler",
    "migrate": "migrate",
    "plugins": "plugins",
    "demo": "demo",
    "token": "token",
    "user": "user",
    "org": "org",
    "operator": "operator",
    "crm": "crm",
    "backup": "backup",
    "restore": "restore",
    "new-plugin": "new_plugin",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        loaded: Any = importlib.import_module(f"aisle.cli.{module}")
        command: click.Command = loaded.command
        return command


@click.group(cls=_LazyGroup)
@click.version_option(package_name="aisle-journeys")
def main() -> None:
    """Aisle: journey automation for wedding businesses."""
