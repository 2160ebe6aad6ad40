"""docs/dsl.md runs: its Python code blocks, in order, in one namespace, each from a file of
its own (so that the DSL reads the blocks' source lines as it reads any user's file)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "dsl.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


def test_every_code_block_of_the_tutorial_runs(tmp_path: Path, capsys) -> None:
    blocks = python_blocks(DOC.read_text())
    assert len(blocks) >= 10
    namespace: dict = {"__name__": "dsl_tutorial"}
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        for index, block in enumerate(blocks):
            path = tmp_path / f"dsl_md_block_{index}.py"
            path.write_text(block)
            exec(compile(block, str(path), "exec"), namespace)  # noqa: S102 - the doc's code
    printed = capsys.readouterr().out
    assert "canonical form: decay = vector, update = delta" in printed
    assert "squashed is not chunk-parallel" in printed
    assert "cannot add shapes [64, 32] (S) and [32, 64] (outer(v, k))" in printed
    assert "chunked " in printed and "sequential" in printed
