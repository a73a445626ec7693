"""Fixtures that install throwaway plugin distributions on a temporary ``sys.path``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

InstallPlugin = Callable[..., None]


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    return site


@pytest.fixture
def install_plugin(site_dir: Path) -> InstallPlugin:
    """Write a module plus a ``.dist-info`` registering it in the ``aisle`` group.

    ``importlib.metadata`` discovers distributions on ``sys.path``, so a directory on
    ``PYTHONPATH`` is a real installation as far as entry-point loading is concerned.
    """

    def install(distribution: str, entry_name: str, module: str, source: str) -> None:
        (site_dir / f"{module}.py").write_text(textwrap.dedent(source))
        info = site_dir / f"{distribution.replace('-', '_')}-1.2.3.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.2.3\n"
        )
        (info / "entry_points.txt").write_text(f"[aisle]\n{entry_name} = {module}\n")

    return install


@pytest.fixture
def plugins_json(site_dir: Path) -> Callable[..., dict[str, object]]:
    """Run ``aisle plugins --json`` in a fresh interpreter that sees ``site_dir``."""

    def run(**env: str) -> dict[str, object]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("AISLE_")}
        environ["PYTHONPATH"] = os.pathsep.join(
            [str(site_dir), environ.get("PYTHONPATH", "")]
        ).rstrip(os.pathsep)
        environ.update(env)
        out = subprocess.run(
            [sys.executable, "-m", "aisle.cli", "plugins", "--json"],
            env=environ,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        result: dict[str, object] = json.loads(out.stdout)
        return result

    return run
