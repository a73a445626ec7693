"""The bench registry: named measurements, their results, and the table they print as.

A bench is a function registered with :func:`bench`; it runs a bounded workload and
returns a :class:`Result`. It takes one argument, ``quick``: when true it runs a small
workload (tests use it to keep the benches from rotting), else the full one. Modules
under ``bench/`` register their functions on import, so a later issue adds a row by
adding a module.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["BENCHES", "Bench", "BenchFunction", "Result", "bench", "format_table", "from_samples"]


@dataclass(frozen=True)
class Result:
    """One row of the table.

    ``median`` and ``p99`` are seconds per operation (``None`` when the bench measures
    throughput only); ``rate`` is operations per second; ``n`` operations were measured.
    """

    name: str
    n: int
    rate: float
    median: float | None = None
    p99: float | None = None
    unit: str = "op"
    note: str = ""


@dataclass(frozen=True)
class Bench:
    name: str
    description: str
    run: Callable[[bool], Result]
    needs: tuple[str, ...] = ()


BENCHES: dict[str, Bench] = {}


BenchFunction = Callable[[bool], Result]


def bench(
    name: str, description: str, *, needs: Sequence[str] = ()
) -> Callable[[BenchFunction], BenchFunction]:
    """Register a bench function under ``name`` (``needs``: services, e.g. ``postgres``)."""

    def register(func: BenchFunction) -> BenchFunction:
        if name in BENCHES:
            raise ValueError(f"bench {name!r} is registered twice")
        BENCHES[name] = Bench(name, description, func, tuple(needs))
        return func

    return register


def from_samples(
    name: str,
    samples: Sequence[float],
    *,
    elapsed: float | None = None,
    unit: str = "op",
    note: str = "",
) -> Result:
    """A result from per-operation durations in seconds.

    The rate is operations per second of ``elapsed`` (wall time, for operations that
    overlapped), else of the samples' sum (operations one after another).
    """
    if not samples:
        raise ValueError(f"bench {name!r} measured nothing")
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    total = elapsed if elapsed is not None else sum(ordered)
    return Result(
        name=name,
        n=len(ordered),
        rate=len(ordered) / total if total > 0 else float("inf"),
        median=statistics.median(ordered),
        p99=p99,
        unit=unit,
        note=note,
    )


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def format_table(results: Sequence[Result]) -> str:
    """The results as a plain-text table (name, median, p99, rate, n)."""
    rows = [("NAME", "MEDIAN", "P99", "RATE", "N", "NOTE")]
    for r in results:
        rows.append(
            (
                r.name,
                _duration(r.median),
                _duration(r.p99),
                f"{r.rate:,.0f} {r.unit}/s",
                str(r.n),
                r.note,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    )
