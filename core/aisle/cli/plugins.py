"""``aisle plugins``: what is installed, what each plugin registers, what failed."""

from __future__ import annotations

import json

import click

from aisle.plugins.manager import load_registry

__all__ = ["command"]


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def command(as_json: bool) -> None:
    """List plugins, their versions, the names they register per hook, and load errors."""
    registry = load_registry()
    if as_json:
        click.echo(json.dumps(registry.as_json(), indent=2))
        return
    rows = [("PLUGIN", "DISTRIBUTION", "VERSION", "REGISTERS")]
    for plugin in registry.plugins:
        registers = "; ".join(
            f"{hook}: {', '.join(names)}" for hook, names in plugin.registered.items() if names
        )
        rows.append((plugin.name, plugin.distribution, plugin.version, registers or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        click.echo(
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3]
        )
    if registry.errors:
        click.echo("\nLoad errors:", err=True)
        for error in registry.errors:
            where = f" in {error.hook}" if error.hook else ""
            click.echo(f"  {error.plugin} ({error.distribution}){where}: {error.reason}", err=True)
