"""The command line, `python -m linac`: the demo passes (exit code 0, one line per built-in
kernel, each run and checked against the reference, and an "ok" summary), `ops` lists every
built-in kernel, and no command prints the usage with exit code 2."""

from __future__ import annotations

import subprocess
import sys

from linac import _linac


def _linac_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "linac", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_demo_checks_every_kernel() -> None:
    process = _linac_cli("demo")
    assert process.returncode == 0, process.stdout + process.stderr
    lines = process.stdout.splitlines()
    for name, *_ in _linac.builtin_kernels():
        (line,) = [line for line in lines if line.split(" ", 1)[0] == name]
        assert "error" not in line and "FAILED" not in line, line
        assert "not run" not in line, f"give {name} an example in linac/__main__.py: {line}"
    kernels = len(_linac.builtin_kernels())
    assert lines[-1].startswith("kernels compiled")
    assert f"checked {kernels}/{kernels}," in lines[-1]
    assert lines[-1].endswith(": ok")


def test_ops_lists_every_kernel() -> None:
    process = _linac_cli("ops")
    assert process.returncode == 0, process.stderr
    listed = [line.split()[0] for line in process.stdout.splitlines()]
    assert listed == [name for name, *_ in _linac.builtin_kernels()]


def test_no_command_prints_usage() -> None:
    process = _linac_cli()
    assert process.returncode == 2
    assert "demo" in process.stdout and "ops" in process.stdout
