"""CPU kernels built for other vector widths than the host's, checked on the host.

linac-vectorize-contractions picks its register tiles from the target CPU's vector registers
(AVX-512: 16 lanes, 16 accumulators; AVX2: 8 lanes, 8; SSE: 4 lanes). The rest of the suite
runs the host's own width only, so every chunked op is compiled here for each width the host
can run (`cpu=` an LLVM CPU name) and compared with the float64 step-by-step reference, at
sizes with partial tiles: 200 tokens (a partial chunk), K = 32 and V = 48 (not a multiple of
AVX-512's 32-column or AVX2's 32-column tiles).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from linac.ops import _recurrence
from optable import SPECS, OpSpec, check_chunked_against_reference

CHUNK_SPECS = [spec for spec in SPECS if not spec.recurrent]

# LLVM CPU name -> the host feature it needs (/proc/cpuinfo flag).
WIDTHS = {"x86-64": "sse2", "x86-64-v3": "avx2", "x86-64-v4": "avx512f"}


def _host_flags() -> set[str]:
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        return set()
    for line in cpuinfo.read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


HOST_FLAGS = _host_flags()


@pytest.mark.parametrize("cpu", list(WIDTHS))
@pytest.mark.parametrize("spec", CHUNK_SPECS, ids=lambda spec: spec.id)
def test_chunk_ops_match_reference_at_each_vector_width(
    spec: OpSpec, cpu: str, rng: np.random.Generator, monkeypatch
) -> None:
    if WIDTHS[cpu] not in HOST_FLAGS:
        pytest.skip(f"this host has no {WIDTHS[cpu]} to run {cpu} code")
    real = _recurrence.get_kernel
    compiled = []

    def for_cpu(name, *args, **kwargs):
        compiled.append(name)
        return real(name, *args, cpu=cpu, **kwargs)

    monkeypatch.setattr(_recurrence, "get_kernel", for_cpu)
    check_chunked_against_reference(spec, rng)
    assert compiled == [spec.kernel]
