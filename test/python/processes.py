"""Running test code in a fresh Python process: for what a process reads once (thread
counts, the cache folder, the ptxas found first)."""

from __future__ import annotations

import subprocess
import sys


def run_python(code: str, *args: str, env: dict[str, str], timeout: float = 600) -> str:
    """The standard output of `code` run by a fresh Python process with `args` and `env`
    (the test fails, with the process's standard error, if the process does)."""
    completed = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert completed.returncode == 0, f"exit {completed.returncode}: {completed.stderr}"
    return completed.stdout
