"""The UT transform solved column by column (``ut_solve="columns"``, the GPU default),
checked on the CPU.

GPU kernels solve each column of the delta rule's T = (I + diag(beta) A)^-1 diag(beta) as a
sequential substitution of its own, one column per thread, instead of row by row with two
block barriers a row. CPU kernels take the same lowering with ``ut_solve="columns"``: every
delta rule (DeltaProduct included, its in-kernel options too) is checked with it against the
float64 step-by-step reference at the float32 tolerance, at chunk sizes 16 and 64, with
initial states, variable lengths, and the reflections of step size 2 (beta = 2, unit keys).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from linac import _linac, _runtime
from linac.ops import _recurrence
from linac.reference import relative_rms_error
from optable import (
    DELTA_SPECS,
    OPTION_SPECS,
    OpSpec,
    check_chunked_against_reference,
    compile_kernels_with,
    l2_normalized,
    make_state,
)

CHUNKED_DELTA_SPECS = [spec for spec in DELTA_SPECS + OPTION_SPECS if not spec.recurrent]


@pytest.mark.parametrize("chunk_size", [16, 64])
@pytest.mark.parametrize("spec", CHUNKED_DELTA_SPECS, ids=lambda spec: spec.id)
def test_column_solve_matches_reference(
    spec: OpSpec, chunk_size: int, rng: np.random.Generator, monkeypatch
) -> None:
    compiled = compile_kernels_with(monkeypatch, _recurrence, chunk_size, ut_solve="columns")
    check_chunked_against_reference(spec, rng, T=150, K=32, V=24)
    assert compiled == [spec.kernel]


@pytest.mark.parametrize("spec", CHUNKED_DELTA_SPECS[:2], ids=lambda spec: spec.id)
def test_column_solve_of_reflections_matches_rows(
    spec: OpSpec, rng: np.random.Generator, monkeypatch
) -> None:
    # beta = 2 and unit keys: pure reflections, where the substitution's terms cancel. The
    # columns sum each entry's terms in the rows' order, so both forms stay as close to the
    # reference as each other.
    x = spec.inputs(rng, 1, 1000, 2, 32, 32)
    x = replace(x, k=l2_normalized(x.k).astype(np.float32), beta=np.full_like(x.beta, 2.0))
    s0 = make_state(rng, 1, 2, 32, 32)
    ref_o, _ = spec.reference(x, initial_state=s0)
    errors = {}
    for solve in ("rows", "columns"):
        with monkeypatch.context() as patch:
            compile_kernels_with(patch, _recurrence, 16, ut_solve=solve)
            o, _ = spec(x, initial_state=s0, output_final_state=True)
        assert np.isfinite(o).all()
        errors[solve] = relative_rms_error(ref_o, o)
    assert errors["columns"] <= spec.tolerance(np.float32), errors
    assert errors["columns"] <= 2 * errors["rows"] + 1e-7, errors


def test_columns_are_thread_parallel_only_where_asked() -> None:
    # After the lower stage: GPUs (auto) and ut_solve="columns" mark the loop over T's
    # columns thread-parallel; CPUs (auto) keep the row by row products.
    def lowered(target: str, **options) -> str:
        result = _linac.compile_builtin(
            "chunk_delta_rule",
            target,
            32,
            32,
            "f32",
            use_cache=False,
            keep_stages=True,
            **options,
        )
        return next(text for name, text in result.stages if name == "lower")

    assert "linac.thread_parallel" in lowered("sm_90")
    assert "linac.thread_parallel" in lowered("cpu", ut_solve="columns")
    assert "linac.thread_parallel" not in lowered("cpu")
    assert "linac.thread_parallel" not in lowered("sm_90", ut_solve="rows")


def test_unknown_ut_solve_is_an_error() -> None:
    with pytest.raises(_runtime.CompileError, match="unknown ut-solve 'diagonal'"):
        _runtime.get_kernel("chunk_delta_rule", 16, 16, "f32", "cpu", 16, 0, ut_solve="diagonal")
