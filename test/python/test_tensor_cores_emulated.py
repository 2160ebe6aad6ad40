"""linac-map-to-gpu's tensor-core products, run on the CPU by gpu_emulator.py.

Each case is one matrix product `out (+|-)= A B` as linac's chunk lowering writes it
(operands in global or shared memory, either order of their dimensions, bf16, f16 or
fp32, a dynamic row or reduction extent as in a chunk's last rows). linac-opt maps it to
the GPU (mma.sync tiles, ldmatrix or 4-byte fragment loads, one tile at a time or grouped
tiles with split k chains), and the emulator runs the block, following the PTX ISA's
fragment layouts. The result must match numpy's float64 product of the same operands.
No GPU is needed: this is how the GPU products are tested on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from gpu_emulator import LINAC_OPT, EmulationError, generic_form, round_to, run_kernel


@dataclass(frozen=True)
class Product:
    m: int
    n: int
    k: int
    lhs: str = "mk"  # dimension order of A: "mk" or "km"
    rhs: str = "kn"  # of B: "kn" or "nk"
    lhs_type: str = "bf16"
    rhs_type: str = "bf16"
    subtract: bool = False
    shared: bool = True  # operands copied into shared memory first
    dynamic: str = ""  # "m" or "k": that extent is a run-time min(size, bound)

    def shape(self, order: str) -> tuple[int, int]:
        return tuple(getattr(self, d) for d in order)


def memref(shape: tuple, element: str, layout: str = "") -> str:
    dims = "x".join("?" if d is None else str(d) for d in shape)
    return f"memref<{dims}x{element}{', ' + layout if layout else ''}>"


def kernel_source(p: Product) -> str:
    """A function in linac's lower-stage form: one sequence per block, one product."""
    dims = {"m": "d0", "n": "d1", "k": "d2"}
    lhs_map = f"affine_map<(d0, d1, d2) -> ({dims[p.lhs[0]]}, {dims[p.lhs[1]]})>"
    rhs_map = f"affine_map<(d0, d1, d2) -> ({dims[p.rhs[0]]}, {dims[p.rhs[1]]})>"
    a_shape, b_shape = p.shape(p.lhs), p.shape(p.rhs)
    types = {
        "A": memref((None, *a_shape), p.lhs_type),
        "B": memref((None, *b_shape), p.rhs_type),
        "O": memref((None, p.m, p.n), "f32"),
    }
    lines = [
        (
            f"func.func @product(%a: {types['A']}, %b: {types['B']}, %out: {types['O']}, "
            "%size: index) {"
        ),
        "  %c0 = arith.constant 0 : index",
        "  %c1 = arith.constant 1 : index",
        f"  %n = memref.dim %out, %c0 : {types['O']}",
        "  scf.parallel (%s) = (%c0) to (%n) step (%c1) {",
    ]
    bound = {"m": p.m, "k": p.k}.get(p.dynamic)
    if bound:
        lines.append(f"    %bound = arith.constant {bound} : index")
        lines.append("    %extent = arith.minsi %size, %bound : index")

    def sizes(order: str) -> tuple[list[str], tuple]:
        text = ["%extent" if d == p.dynamic else str(getattr(p, d)) for d in order]
        shape = tuple(None if d == p.dynamic else getattr(p, d) for d in order)
        return text, shape

    def view(name: str, source: str, full: tuple, order: str, element: str) -> tuple[str, str]:
        """A view of sequence %s of `source` (global) or of its shared copy."""
        text, shape = sizes(order)
        full_type = memref((None, *full), element)
        stride = f"strided<[{full[1]}, 1], offset: ?>"
        if not p.shared:
            view_type = memref(shape, element, stride)
            lines.append(
                f"    %{name} = memref.subview {source}[%s, 0, 0] [1, {text[0]}, {text[1]}] "
                f"[1, 1, 1] : {full_type} to {view_type}"
            )
            return f"%{name}", view_type
        whole = memref(full, element, stride)
        local = memref(full, element)
        lines.append(
            f"    %{name}_g = memref.subview {source}[%s, 0, 0] [1, {full[0]}, {full[1]}] "
            f"[1, 1, 1] : {full_type} to {whole}"
        )
        lines.append(f"    %{name}_l = memref.alloca() : {local}")
        identity = "affine_map<(d0, d1) -> (d0, d1)>"
        lines.append(
            f"    linalg.generic {{indexing_maps = [{identity}, {identity}], iterator_types = "
            f'["parallel", "parallel"]}} ins(%{name}_g : {whole}) outs(%{name}_l : {local}) {{'
        )
        lines.append(f"    ^bb0(%x: {element}, %y: {element}):")
        lines.append(f"      linalg.yield %x : {element}")
        lines.append("    }")
        view_type = memref(shape, element, f"strided<[{full[1]}, 1]>")
        lines.append(
            f"    %{name} = memref.subview %{name}_l[0, 0] [{text[0]}, {text[1]}] [1, 1] : "
            f"{local} to {view_type}"
        )
        return f"%{name}", view_type

    a, a_type = view("av", "%a", a_shape, p.lhs, p.lhs_type)
    b, b_type = view("bv", "%b", b_shape, p.rhs, p.rhs_type)
    o_text, o_shape = sizes("mn")
    o_type = memref(o_shape, "f32", f"strided<[{p.n}, 1], offset: ?>")
    lines.append(
        f"    %o = memref.subview %out[%s, 0, 0] [1, {o_text[0]}, {o_text[1]}] [1, 1, 1] : "
        f"{types['O']} to {o_type}"
    )
    lines.append(
        f"    linalg.generic {{indexing_maps = [{lhs_map}, {rhs_map}, "
        "affine_map<(d0, d1, d2) -> (d0, d1)>], "
        'iterator_types = ["parallel", "parallel", "reduction"]}'
    )
    lines.append(f"        ins({a}, {b} : {a_type}, {b_type}) outs(%o : {o_type}) {{")
    lines.append(f"    ^bb0(%x: {p.lhs_type}, %y: {p.rhs_type}, %acc: f32):")
    xf, yf = "%x", "%y"
    if p.lhs_type != "f32":
        lines.append(f"      %xf = arith.extf %x : {p.lhs_type} to f32")
        xf = "%xf"
    if p.rhs_type != "f32":
        lines.append(f"      %yf = arith.extf %y : {p.rhs_type} to f32")
        yf = "%yf"
    lines.append(f"      %prod = arith.mulf {xf}, {yf} : f32")
    lines.append(f"      %r = arith.{'subf' if p.subtract else 'addf'} %acc, %prod : f32")
    lines.append("      linalg.yield %r : f32")
    lines.append("    }")
    lines.append("    scf.reduce")
    lines.append('  } {linac.grid = ["sequence"]}')
    lines.append("  return")
    lines.append("}")
    return "\n".join(lines) + "\n"


def map_to_gpu(source: str, threads: int, inputs: str, warp_tiles: bool, ldmatrix: bool) -> str:
    options = f"block-size={threads} tensor-cores={inputs}"
    options += f" warp-tiles={int(warp_tiles)} ldmatrix={int(ldmatrix)}"
    module = generic_form(source, f"-linac-map-to-gpu={options}", "-canonicalize", "-cse")
    assert "nvvm.mma.sync" in module, "the product did not go to the tensor cores"
    return module


def check(p: Product, threads: int, warp_tiles: bool, ldmatrix: bool, inputs: str = "bf16"):
    rng = np.random.default_rng(hash((p, threads, warp_tiles, ldmatrix)) % 2**32)
    a = round_to(p.lhs_type, rng.standard_normal((1, *p.shape(p.lhs))))
    b = round_to(p.rhs_type, rng.standard_normal((1, *p.shape(p.rhs))))
    out = rng.standard_normal((1, p.m, p.n)).astype(np.float32)
    size = {"m": 11, "k": 13}.get(p.dynamic, 0)
    expected = out[0].astype(np.float64)
    A = a[0] if p.lhs == "mk" else a[0].T
    B = b[0] if p.rhs == "kn" else b[0].T
    m = size if p.dynamic == "m" else p.m
    k = size if p.dynamic == "k" else p.k
    product = A[:m, :k].astype(np.float64) @ B[:k, :].astype(np.float64)
    expected[:m] += -product if p.subtract else product
    module = map_to_gpu(kernel_source(p), threads, inputs, warp_tiles, ldmatrix)
    run_kernel(module, "product", threads, [a, b, out, size])
    # tf32 products drop 13 bits of each fp32 operand; the emulator keeps them.
    np.testing.assert_allclose(out[0], expected, rtol=1e-5, atol=1e-4 * np.sqrt(p.k))


PRODUCTS = {
    # K^T V of a state update: A is k^T (k runs down the chunk's rows).
    "state-update": Product(128, 32, 16, lhs="km"),
    # Q S with an fp32 state: tf32.
    "q-state": Product(16, 32, 128, rhs_type="f32"),
    # Q K^T (both along k), subtracting as in U -= W S.
    "scores-subtract": Product(16, 16, 128, rhs="nk", subtract=True),
    # P V with fp32 scores: tf32, 2 k steps.
    "scores-values": Product(16, 32, 16, lhs_type="f32"),
    # f16 operands (f16 fragments are pairs of halves).
    "f16": Product(32, 16, 32, lhs_type="f16", rhs_type="f16"),
    # A chunk's last rows: dynamic m, and a dynamic k (masked loads).
    "rows-left": Product(16, 32, 128, dynamic="m", shared=False),
    "k-left": Product(32, 32, 16, lhs="km", dynamic="k", shared=False),
    "global-transposed": Product(32, 16, 32, lhs="km", rhs="nk", shared=False),
}


@pytest.mark.skipif(not LINAC_OPT.exists(), reason="linac-opt not built")
@pytest.mark.parametrize("warp_tiles", [False, True], ids=["single", "grouped"])
@pytest.mark.parametrize("ldmatrix", [True, False], ids=["ldmatrix", "loads"])
@pytest.mark.parametrize("name", list(PRODUCTS))
def test_product_matches_numpy(name: str, ldmatrix: bool, warp_tiles: bool) -> None:
    inputs = "f16" if name == "f16" else "bf16"
    check(PRODUCTS[name], 128, warp_tiles, ldmatrix, inputs)


@pytest.mark.skipif(not LINAC_OPT.exists(), reason="linac-opt not built")
@pytest.mark.parametrize("threads", [32, 64, 256])
@pytest.mark.parametrize("warp_tiles", [False, True], ids=["single", "grouped"])
def test_block_sizes(threads: int, warp_tiles: bool) -> None:
    """Fewer warps than tile groups, and more (warps left without a group)."""
    check(PRODUCTS["state-update"], threads, warp_tiles, True)
    check(PRODUCTS["q-state"], threads, warp_tiles, True)


@pytest.mark.skipif(not LINAC_OPT.exists(), reason="linac-opt not built")
def test_tf32_everywhere() -> None:
    """tensor-cores=tf32: bf16 operands too take m16n8k8 (converted to fp32)."""
    check(PRODUCTS["state-update"], 128, True, False, inputs="tf32")


def test_emulator_catches_a_wrong_fragment() -> None:
    """The emulator is not lenient: a product whose lanes read the wrong B column fails."""
    p = PRODUCTS["scores-values"]
    module = map_to_gpu(kernel_source(p), 128, "bf16", True, True)
    # Swap the two B registers of every mma: the k halves trade places.
    broken = module.replace('"nvvm.mma.sync"(%', '"nvvm.mma.sync"(%', 1)
    lines = broken.splitlines()
    for i, line in enumerate(lines):
        if '"nvvm.mma.sync"(' in line:
            head, rest = line.split('"nvvm.mma.sync"(', 1)
            operands, tail = rest.split(")", 1)
            values = operands.split(", ")
            values[4], values[5] = values[5], values[4]
            lines[i] = head + '"nvvm.mma.sync"(' + ", ".join(values) + ")" + tail
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1, p.m, p.k)).astype(np.float32)
    b = round_to("bf16", rng.standard_normal((1, p.k, p.n)))
    out = np.zeros((1, p.m, p.n), dtype=np.float32)
    run_kernel("\n".join(lines), "product", 128, [a, b, out, 0])
    assert not np.allclose(out[0], a[0].astype(np.float64) @ b[0], rtol=1e-3, atol=1e-3)


def test_emulator_refuses_unknown_ops() -> None:
    module = map_to_gpu(kernel_source(PRODUCTS["scores-values"]), 128, "bf16", False, True)
    with pytest.raises(EmulationError, match="unsupported op arith.frobnicate"):
        run_kernel(
            module.replace('"arith.muli"', '"arith.frobnicate"', 1),
            "product",
            128,
            [
                np.zeros((1, 16, 16), np.float32),
                np.zeros((1, 16, 32), np.float32),
                np.zeros((1, 16, 32), np.float32),
                0,
            ],
        )


def test_costs_count_bank_conflicts_and_the_busiest_warp() -> None:
    """The cost model: 32 lanes reading 32 consecutive words take one wavefront, 32 words
    a row of 32 words apart (one bank) take 32; a phase costs its busiest warp's ops."""
    from gpu_emulator import Costs
    from mlir_generic import Op

    costs = Costs(64)
    load = Op([], "memref.load", [])
    everyone = np.ones(64, dtype=bool)
    lane = np.arange(64)
    for stride in (1, 32):
        costs.start_op()
        costs.shared_access(4 * stride * lane, everyone)
        costs.end_op(everyone, load)
    first_warp = lane < 32
    costs.start_op()
    costs.end_op(first_warp, load)
    costs.end_phase()
    assert costs.totals["critical_wavefronts"] == 1 + 32
    assert costs.totals["critical_ops"] == 3 and costs.totals["warp_ops"] == 5


def test_grouped_tiles_issue_less_on_the_busiest_warp() -> None:
    """The state update's product: grouped warp tiles issue fewer ops and fewer shared
    wavefronts on the busiest warp than one tile at a time, for the same mma count."""
    p = PRODUCTS["state-update"]
    rng = np.random.default_rng(1)
    costs = []
    for grouped in (False, True):
        a = round_to("bf16", rng.standard_normal((1, *p.shape(p.lhs))))
        b = round_to("bf16", rng.standard_normal((1, *p.shape(p.rhs))))
        out = np.zeros((1, p.m, p.n), dtype=np.float32)
        module = map_to_gpu(kernel_source(p), 128, "bf16", grouped, True)
        costs.append(run_kernel(module, "product", 128, [a, b, out, 0]))
    single, grouped = costs
    assert grouped["mma"] == single["mma"] == 32
    assert grouped["critical_ops"] < single["critical_ops"]
    assert grouped["critical_wavefronts"] < single["critical_wavefronts"]
