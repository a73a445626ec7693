"""``python -m bench``: run the registered benches and print one table.

``--only NAME`` (repeatable) picks benches; ``--list`` names them; ``--quick`` runs
small workloads. Every module in the
``bench`` package is imported first so each can register its rows.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from bench.registry import BENCHES, Result, format_table

__all__ = ["main"]

_NOT_BENCHES = {"__main__", "registry", "services"}


def _discover() -> None:
    import bench

    for module in pkgutil.iter_modules(bench.__path__):
        if module.name not in _NOT_BENCHES:
            importlib.import_module(f"bench.{module.name}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", action="append", metavar="NAME", help="run only NAME")
    parser.add_argument("--list", action="store_true", help="list the benches and exit")
    parser.add_argument(
        "--quick", action="store_true", help="small workloads: checks the benches run"
    )
    args = parser.parse_args(argv)
    # The apps and workers a bench starts log every request at INFO; the table is the output.
    logging.disable(logging.INFO)
    _discover()
    if args.list:
        for b in sorted(BENCHES.values(), key=lambda b: b.name):
            needs = f" (needs {', '.join(b.needs)})" if b.needs else ""
            print(f"{b.name}: {b.description}{needs}")
        return 0
    names = args.only or sorted(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown bench {', '.join(unknown)}; known: {', '.join(sorted(BENCHES))}")
    results: list[Result] = []
    failed: list[str] = []
    for name in names:
        print(f"running {name} …", file=sys.stderr, flush=True)
        try:
            results.append(BENCHES[name].run(args.quick))
        except Exception as exc:  # one broken bench (a service down) spares the others
            needs = BENCHES[name].needs
            hint = f" (needs {', '.join(needs)})" if needs else ""
            print(f"{name} failed{hint}: {type(exc).__name__}: {exc}", file=sys.stderr)
            failed.append(name)
    if results:
        print(format_table(results))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
