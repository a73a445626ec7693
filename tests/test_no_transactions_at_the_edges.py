"""Transactions belong to the services: no route, command or dashboard page opens one.

An entry point parses, calls a service and answers; the service checks who may act,
writes and logs in one transaction of its own, so the API, the CLI, the demo seed and
the dashboard change state the same way. A ``transaction(`` in an entry point's source
is a write path the other entry points do not share.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EDGES = [
    ROOT / "core" / "aisle" / "api",
    ROOT / "core" / "aisle" / "cli",
    ROOT / "dashboard",
    *sorted(p for p in (ROOT / "plugins").iterdir() if p.is_dir()),
]


def _sources() -> list[Path]:
    return sorted(p for edge in EDGES for p in edge.rglob("*.py") if ".venv" not in p.parts)


def test_the_edges_are_where_they_were() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in _sources()}
    assert "core/aisle/api/routes/access.py" in names
    assert "core/aisle/cli/token.py" in names
    assert any(n.startswith("dashboard/aisle_dashboard/") for n in names)
    assert any(n.startswith("plugins/actions/") for n in names)


def test_no_entry_point_opens_a_transaction() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _sources()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "transaction(" in line
    ]
    assert found == [], "open the transaction in a service instead:\n" + "\n".join(found)
