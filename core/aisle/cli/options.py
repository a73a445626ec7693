"""Options and helpers the ``aisle`` subcommands share: settings from flags and environment."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from aisle import bounded
from aisle.contracts.registry import Registry
from aisle.plugins.manager import load_registry
from aisle.settings import Settings, SettingsError

__all__ = ["data_dir_option", "load_plugins", "load_settings", "require_redis"]

F = TypeVar("F", bound=Callable[..., Any])


def data_dir_option(func: F) -> F:
    """``--data-dir`` (or ``AISLE_DATA_DIR``): where the SQLite file and secret key live."""
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, writable=True),
        default=None,
        help="Data directory for the SQLite database and the generated secret key "
        "[env: AISLE_DATA_DIR; default: ./aisle-data].",
    )(func)


def load_settings(data_dir: str | None = None) -> Settings:
    """Settings from the environment, ``--data-dir`` winning over ``AISLE_DATA_DIR``.

    A malformed setting becomes a usage error naming the variable, not a traceback.
    """
    env = dict(os.environ)
    if data_dir is not None:
        env["AISLE_DATA_DIR"] = data_dir
    try:
        settings = Settings.from_env(env)
        # Templates render in this process's bounded workers, whichever command runs.
        bounded.configure(settings.environ)
    except (SettingsError, ValueError) as exc:
        raise click.UsageError(str(exc)) from exc
    return settings


def load_plugins() -> Registry:
    """Load the plugins, printing each one that failed (the others run regardless)."""
    registry = load_registry()
    for error in registry.errors:
        where = f" in {error.hook}" if error.hook else ""
        click.echo(
            f"Plugin {error.plugin} ({error.distribution}){where} was not loaded: {error.reason}",
            err=True,
        )
    return registry


def require_redis(settings: Settings, command: str) -> None:
    """``aisle worker`` and ``aisle scheduler`` only make sense with the Redis broker."""
    if not settings.redis_url:
        raise click.UsageError(
            f"aisle {command} needs AISLE_REDIS_URL (the dramatiq broker); without Redis, "
            "`aisle serve` runs the jobs in-process"
        )
