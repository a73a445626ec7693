"""Running the real ``aisle`` command in a subprocess, as a user or a script would."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

AISLE = str(Path(sys.executable).with_name("aisle"))


def clean_env(**aisle: str) -> dict[str, str]:
    """The environment without the developer's own ``AISLE_*`` settings, plus ``aisle``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AISLE_")}
    env.update(aisle)
    return env


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


async def run_aisle(*args: str, env: dict[str, str], limit: float = 120) -> Ran:
    """Run ``aisle ARGS`` to completion without blocking the test's event loop."""
    process = await asyncio.create_subprocess_exec(
        AISLE,
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), limit)
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())
