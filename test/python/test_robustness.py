"""Robustness of the op API: damaged cache entries and non-finite inputs.

Covers a corrupted on-disk cache entry reaching the user of an op as one RuntimeWarning (the
kernel is rebuilt and its results stay correct), empty batches, sequences and head counts
(empty results, no crash), and NaN/Inf in q, k, v, g, beta and the initial state propagating
as in the float64 reference: the outputs and final states the reference leaves finite stay
finite and accurate, those it makes non-finite are non-finite.
(Non-contiguous and negatively strided inputs: test_ops_layouts.py.)
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from linac.reference import relative_rms_error
from optable import SPEC_BY_KERNEL, make_state
from processes import run_python

# The sizes of test_ops_layouts.py, so the session's kernel cache is shared.
B, T, H, K, V = 1, 100, 2, 16, 64
# Where a bad value goes: token 70, head 1, channel 3; inside a chunk of 16, 32 or 64
# tokens, after earlier tokens of that chunk.
BAD_TOKEN, BAD_HEAD, BAD_CHANNEL = 70, 1, 3

# Runs an op in a fresh process (so no kernel is in memory) and prints, as JSON, the
# warnings it raised and its error against the reference.
RUN_OP = """
import json, warnings
import numpy as np
from linac import ops, reference

rng = np.random.default_rng(0)
q, k, v = (rng.standard_normal((1, 20, 2, 8)).astype(np.float32) for _ in range(3))
g = -rng.uniform(0, 0.5, (1, 20, 2)).astype(np.float32)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    o, _ = ops.chunk_simple_gla(q, k, v, g)
expected, _ = reference.recurrence(q, k, v, g=g)
print(json.dumps({
    "warnings": [[w.category.__name__, str(w.message)] for w in caught],
    "error": reference.relative_rms_error(expected, o),
}))
"""


def _run_op(cache_dir: Path) -> dict:
    env = dict(os.environ, LINAC_CACHE_DIR=str(cache_dir))
    return json.loads(run_python(RUN_OP, env=env, timeout=300))


def test_corrupted_cache_entry_warns_the_op_user_and_is_rebuilt(tmp_path: Path) -> None:
    first = _run_op(tmp_path)
    assert first["warnings"] == []
    assert first["error"] < 1e-5
    (entry,) = [p for p in tmp_path.rglob("*.bin")]
    data = bytearray(entry.read_bytes())
    data[len(data) // 2] ^= 0x40
    entry.write_bytes(bytes(data))

    rebuilt = _run_op(tmp_path)
    assert rebuilt["warnings"] == [
        [
            "RuntimeWarning",
            f"linac: discarded corrupted cache entry {entry} (checksum mismatch); recompiling",
        ]
    ]
    assert rebuilt["error"] < 1e-5
    # The rebuilt entry is whole again: no warning the next time.
    again = _run_op(tmp_path)
    assert again["warnings"] == []
    assert again["error"] < 1e-5


# Calls ops on empty batches, sequences and head counts in a fresh process, so that a crash
# (a division by zero in a kernel is a SIGFPE) fails one test, not the session.
EMPTY_CALLS = """
import numpy as np
from linac import ops

K = V = 16
for B, T, H in [(0, 10, 2), (1, 0, 2), (1, 10, 0)]:
    q = np.ones((B, T, H, K), np.float32)
    # g of the gated ops, beta of the delta rule.
    per_token = np.zeros((B, T, H), np.float32)
    state = np.ones((B, H, K, V), np.float32)
    for op in [ops.chunk_simple_gla, ops.fused_recurrent_simple_gla, ops.chunk_delta_rule]:
        o, final = op(q, q, q, per_token, initial_state=state, output_final_state=True)
        assert o.shape == (B, T, H, V), (op.__name__, B, T, H, o.shape)
        assert final.shape == (B, H, K, V), (op.__name__, B, T, H, final.shape)
        # No token leaves each state as it came in.
        assert T > 0 or np.array_equal(final, state), (op.__name__, B, T, H)
print("ok")
"""


def test_empty_dimensions_give_empty_results(tmp_path: Path) -> None:
    env = dict(os.environ, LINAC_CACHE_DIR=str(tmp_path))
    assert run_python(EMPTY_CALLS, env=env, timeout=600).strip() == "ok"


def _poison(x, name: str, value: float):
    """A copy of the inputs with one element of ``name`` set to ``value``."""
    array = getattr(x, name).copy()
    index = (0, BAD_TOKEN, BAD_HEAD) + ((BAD_CHANNEL,) if array.ndim == 4 else ())
    array[index] = value
    return replace(x, **{name: array})


def _run(spec_name: str, name: str, value: float, rng: np.random.Generator):
    """(outputs, final state, reference outputs, reference final state) with one bad value."""
    spec = SPEC_BY_KERNEL[spec_name]
    x = spec.inputs(rng, B, T, H, K, V)
    state = make_state(rng, B, H, K, V)
    if name == "initial_state":
        state[0, BAD_HEAD, BAD_CHANNEL, 5] = value
    else:
        x = _poison(x, name, value)
    o, final = spec(x, initial_state=state, output_final_state=True)
    with warnings.catch_warnings():
        # numpy warns about the invalid values the reference computes on purpose.
        warnings.simplefilter("ignore", RuntimeWarning)
        ref_o, ref_final = spec.reference(x, initial_state=state)
    return spec, o, final, ref_o, ref_final


def _assert_propagates_as_reference(spec, actual, expected, where: str) -> None:
    finite = np.isfinite(expected)
    wrong = np.argwhere(np.isfinite(actual) != finite)
    assert wrong.size == 0, (
        f"{where}: {len(wrong)} entries finite in one and not the other, first {wrong[:3]}"
    )
    error = relative_rms_error(expected[finite], actual[finite])
    assert error < spec.tolerance(actual.dtype), f"{where}: error {error} on the finite entries"


# (kernel, input, value) whose non-finite results match the reference entry by entry. The
# chunked kernels' intra-chunk products skip the entries above the causal diagonal (rather
# than multiplying their exact zeros by every value of the chunk, 0 * NaN = NaN), so a bad
# value never reaches the earlier tokens of its chunk.
EXACT_CASES = [
    ("fused_recurrent_simple_gla", "v", np.nan),
    ("fused_recurrent_simple_gla", "k", np.inf),
    ("fused_recurrent_simple_gla", "g", np.nan),
    ("fused_recurrent_delta_rule", "v", np.nan),
    ("fused_recurrent_delta_rule", "k", np.nan),
    ("fused_recurrent_delta_rule", "beta", np.inf),
    ("chunk_simple_gla", "q", np.nan),
    ("chunk_simple_gla", "k", np.nan),
    ("chunk_simple_gla", "k", -np.inf),
    ("chunk_simple_gla", "v", np.nan),
    ("chunk_simple_gla", "g", np.nan),
    ("chunk_simple_gla", "initial_state", np.nan),
    ("chunk_linear_attn", "v", np.inf),
    ("chunk_gla", "q", np.inf),
    ("chunk_gla", "k", np.nan),
    ("chunk_gla", "v", np.nan),
    ("chunk_gla", "g", np.nan),
    ("chunk_delta_rule", "k", np.nan),
    ("chunk_delta_rule", "v", np.nan),
    ("chunk_gated_delta_rule", "q", np.nan),
    ("chunk_gated_delta_rule", "k", np.inf),
    ("chunk_gated_delta_rule", "v", np.inf),
    ("chunk_gated_delta_rule", "beta", np.nan),
    ("chunk_gated_delta_rule", "initial_state", np.inf),
]


def _case_id(case) -> str:
    kernel, name, value = case
    return f"{kernel}-{name}={value}"


@pytest.mark.parametrize("case", EXACT_CASES, ids=_case_id)
def test_non_finite_input_propagates_as_in_the_reference(case, rng) -> None:
    spec, o, final, ref_o, ref_final = _run(*case, rng)
    assert not np.isfinite(ref_o).all(), "the bad value does not reach the outputs"
    _assert_propagates_as_reference(spec, o, ref_o, "outputs")
    _assert_propagates_as_reference(spec, final, ref_final, "final state")


@pytest.mark.parametrize("kernel", ["chunk_simple_gla", "fused_recurrent_simple_gla", "chunk_gla"])
def test_closed_gate_gives_finite_exact_results(kernel: str, rng) -> None:
    """g = -inf (a closed gate: exp(g) = 0) forgets the state exactly; nothing turns NaN."""
    spec, o, final, ref_o, ref_final = _run(kernel, "g", -np.inf, rng)
    for actual, expected in ((o, ref_o), (final, ref_final)):
        assert np.isfinite(expected).all()
        assert np.isfinite(actual).all()
        assert relative_rms_error(expected, actual) < spec.tolerance(actual.dtype)
