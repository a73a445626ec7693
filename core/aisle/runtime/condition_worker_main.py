"""The loop of one condition worker process (run by path, so it imports only ``cel``).

Arguments: the file descriptor to read requests from, the one to write answers to, and
the address-space limit in bytes (0: none). It says ``["ready"]`` once started. A
request is a pickled ``(expression, activation)`` from the parent; the answer is JSON,
``["ok", true|false]`` or ``["error", message]`` (never a pickle: the parent must not
load code-bearing data from a process running user-authored expressions). The parent
kills the process when an answer takes longer than its budget, and ends it by closing
the request pipe.
"""

from __future__ import annotations

import json
import resource
import sys
from multiprocessing.connection import Connection
from typing import Any

import cel

_CACHE_SIZE = 1024


def main(argv: list[str]) -> None:
    requests = Connection(int(argv[1]), writable=False)
    answers = Connection(int(argv[2]), readable=False)
    memory = int(argv[3])
    if memory > 0:
        # A comprehension building huge lists fails here instead of growing without end.
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    programs: dict[str, Any] = {}
    answers.send_bytes(b'["ready"]')
    while True:
        try:
            expression, activation = requests.recv()
        except EOFError:
            return
        try:
            program = programs.get(expression)
            if program is None:
                if len(programs) >= _CACHE_SIZE:
                    programs.clear()
                # The parent measured the expression against the limits before sending it.
                program = programs[expression] = cel.compile(expression)
            context = cel.Context()
            context.update(activation)
            result = program.execute(context)
            if isinstance(result, bool):
                answer: list[Any] = ["ok", result]
            else:
                kind = type(result).__name__
                answer = ["error", f"the result is {kind} {result!r:.200}, not a bool"]
        except Exception as exc:
            answer = ["error", f"{type(exc).__name__}: {exc}"[:2000]]
        try:
            answers.send_bytes(json.dumps(answer).encode())
        except OSError:  # the parent is gone
            return


if __name__ == "__main__":
    main(sys.argv)
