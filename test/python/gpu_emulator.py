"""Runs a GPU kernel from linac-map-to-gpu on the CPU, block by block, for tests.

The kernel comes as MLIR in the generic form (`linac-opt --mlir-print-op-generic`). Every
SSA value holds one numpy entry per thread of the block, and the block runs in lockstep:
each op runs for all threads before the next (so barriers and the asynchronous copies'
waits are no-ops). Branches and loops whose condition differs between threads run under
a mask of the threads taking them.

Its parts: mlir_generic.py parses the module, gpu_values.py holds the element types and
the views of buffers, gpu_accounting.py records accesses for the race detector and issues
for the cost model, gpu_warp_ops.py has the warp-wide instructions.

The warp-wide instructions follow the PTX ISA, written from its tables and not from
linac's code: `ldmatrix` ("Warp-level matrix load instruction: ldmatrix") and `mma.sync`
m16n8k16 (bf16/f16) and m16n8k8 (tf32) ("Matrix fragments for mma.m16n8k16" and
"mma.m16n8k8"). A warp must run them with all 32 threads; anything else is an error, as
is any op this emulator does not know.

bf16 and f16 values live in float32 arrays (both are exact there); tf32 products use the
whole float32 operands (the hardware drops their low 13 bits; tests compare within a
tolerance that allows it).

It also checks what lockstep would hide:
- races: two threads touching one element between barriers, one of them writing (an
  asynchronous copy counts as a write in the phase it is issued; a copy that lands a
  phase later, as a prefetch does, is not followed further);
- a barrier some threads of the block skip, a warp-wide instruction that part of a warp
  runs;
- loads and stores outside their view (copies into shared memory may zero-fill rows past
  a chunk's end, inside their buffer).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
from gpu_accounting import Accesses, Costs
from gpu_values import (
    DYNAMIC,
    DYNAMIC_SHARED_BASE,
    DYNAMIC_SHARED_BYTES,
    ELEMENT_BYTES,
    FLOATS,
    GLOBAL_BASE,
    WARP,
    MemRef,
    bits_of,
    element_of,
    float_of,
    numpy_type,
    parse_memref,
    round_to,
)
from gpu_warp_ops import WarpInstructions
from linac import _linac
from mlir_generic import EmulationError, Op, parse, split_top_level

__all__ = [
    "LINAC_OPT", "Costs", "EmulationError", "compile_for_emulation", "generic_form",
    "kernels", "parse", "round_to", "run_kernel",
]  # fmt: skip

LINAC_OPT = Path(__file__).resolve().parents[2] / "build" / "bin" / "linac-opt"


def generic_form(text: str, *passes: str) -> str:
    """`text` (MLIR) after linac-opt's `passes`, printed in the generic form."""
    result = subprocess.run(
        [str(LINAC_OPT), "-", *passes, "--mlir-print-op-generic"],
        input=text, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise EmulationError(f"linac-opt {' '.join(passes)} failed:\n{result.stderr}")
    return result.stdout


def compile_for_emulation(
    name: str, target: str, K: int, V: int, dtype: str, chunk_size: int = 0, **options
) -> tuple[dict, str]:
    """A built-in kernel's metadata and its `gpu` stage (linac-map-to-gpu's output) in the
    generic form, ready for run_kernel."""
    result = _linac.compile_builtin(
        name, target, K, V, dtype, chunk_size, keep_stages=True, use_cache=False, **options
    )
    return json.loads(result.metadata), generic_form(dict(result.stages)["gpu"])


class Block1D(WarpInstructions):
    """One block of `threads` threads in lockstep."""

    def __init__(self, threads: int, block_id: tuple[int, int, int] = (0, 0, 0)):
        if threads % WARP:
            raise EmulationError(f"{threads} threads is not whole warps")
        self.threads = threads
        self.block_id = block_id
        self.tid = np.arange(threads, dtype=np.int64)
        self.values: dict[str, object] = {}
        # Byte addresses: global buffers from 1 GiB, shared ones from 0 (static) and from
        # 128 KiB (views of the dynamic shared memory), within the 18 bits of a wgmma
        # descriptor's start address; `shared` maps them back to buffers.
        self.next_base = GLOBAL_BASE
        self.costs = Costs(threads)
        self.next_shared = 0
        self.shared: list[tuple[int, int, MemRef]] = []
        self.dynamic_shared: dict[str, MemRef] = {}
        # Race detection: accesses between two barriers (a phase) by different threads to
        # one element, one of them a write, are a race (see Accesses).
        self.phase = 0
        self.accesses: dict[int, Accesses] = {}

    def uniform(self, value: int) -> np.ndarray:
        return np.full(self.threads, value, dtype=np.int64)

    def allocate(
        self, type_text: str, data: np.ndarray | None = None, shared_base: int | None = None
    ) -> MemRef:
        shape, element, strides = parse_memref(type_text)
        if data is None:
            if any(d is None for d in shape):
                raise EmulationError(f"no data for dynamic {type_text}")
            data = np.zeros(shape, dtype=numpy_type(element))
        data = np.ascontiguousarray(data, dtype=numpy_type(element))
        if any(d is not None and d != s for d, s in zip(shape, data.shape, strict=True)):
            raise EmulationError(f"data of shape {data.shape} for {type_text}")
        actual = list(np.array(data.strides) // data.itemsize)
        if strides is not None and any(
            s is not None and s != a for s, a in zip(strides, actual, strict=True)
        ):
            raise EmulationError(f"{type_text}: only contiguous arguments")
        sizes = [self.uniform(s) for s in data.shape]
        contiguous = [self.uniform(s // data.itemsize) for s in data.strides]
        nbytes = data.size * ELEMENT_BYTES[element]
        if shared_base is None and "workgroup" in type_text:
            shared_base, self.next_shared = (
                self.next_shared,
                self.next_shared + (nbytes + 127) // 128 * 128,
            )
        if shared_base is None:
            base, self.next_base = self.next_base, self.next_base + (nbytes + 255) // 256 * 256
        else:
            base = shared_base
        view = MemRef(data.reshape(-1), element, self.uniform(0), sizes, contiguous, base)
        if shared_base is not None:
            self.shared.append((base, nbytes, view))
        return view

    def run(self, func: Op, arguments: list) -> None:
        """Runs `func` (a gpu.func) on `arguments` (numpy arrays for memrefs, ints, floats)."""
        (entry,) = func.regions[0]
        inputs = split_top_level(
            re.search(r"function_type = \((.*?)\) ->", func.properties).group(1)
        )
        if len(arguments) != len(inputs):
            raise EmulationError(f"{len(arguments)} arguments for {len(inputs)} parameters")
        for (name, type_text), argument in zip(entry.args, arguments + [None] * len(entry.args)):
            if isinstance(argument, MemRef):
                self.values[name] = argument
            elif type_text.startswith("memref"):
                self.values[name] = self.allocate(type_text, argument)
            elif type_text == "index" or type_text.startswith("i"):
                self.values[name] = self.uniform(int(argument))
            else:
                self.values[name] = np.full(self.threads, argument, dtype=np.float32)
        self.run_ops(entry.ops, np.ones(self.threads, dtype=bool))

    def get(self, name: str):
        if name not in self.values:
            raise EmulationError(f"{name} is not defined")
        return self.values[name]

    def run_ops(self, ops: list[Op], mask: np.ndarray) -> list | None:
        for op in ops:
            if op.name in ("scf.yield", "gpu.return"):
                return [self.get(o) for o in op.operands]
            results = self.run_op(op, mask)
            for name, value in zip(op.results, results or [], strict=False):
                self.values[name] = value
        return None

    def run_op(self, op: Op, mask: np.ndarray) -> list | None:
        handler = getattr(self, "op_" + op.name.replace(".", "_"), None)
        if handler is None:
            raise EmulationError(f"unsupported op {op.name}")
        args = [self.get(o) for o in op.operands]
        if op.regions:
            return handler(op, args, mask)
        self.costs.start_op()
        results = handler(op, args, mask)
        self.costs.end_op(mask, op)
        return results

    # -- structure

    def op_scf_for(self, op: Op, args: list, mask: np.ndarray) -> list:
        lower, upper, step, *carried = args
        (body,) = op.regions[0]
        iv = lower.copy()
        carried = [np.array(c, copy=True) for c in carried]
        while True:
            active = mask & (iv < upper)
            if not active.any():
                return carried
            self.values[body.args[0][0]] = iv
            for (name, _), value in zip(body.args[1:], carried, strict=True):
                self.values[name] = value
            yielded = self.run_ops(body.ops, active)
            carried = [merge(active, new, old) for new, old in zip(yielded, carried, strict=True)]
            iv = np.where(active, iv + step, iv)

    def op_scf_if(self, op: Op, args: list, mask: np.ndarray) -> list:
        condition = args[0].astype(bool)
        outcomes = []
        for region, taken in zip(op.regions, (condition, ~condition), strict=False):
            lanes = mask & taken
            if lanes.any():
                outcomes.append((lanes, self.run_ops(region[0].ops, lanes) or []))
        results = []
        for i, type_text in enumerate(op.result_types):
            value = np.zeros(self.threads, dtype=numpy_type(element_of(type_text)))
            for lanes, yielded in outcomes:
                value = merge(lanes, yielded[i], value)
            results.append(value)
        return results

    def op_gpu_thread_id(self, op: Op, args: list, mask: np.ndarray) -> list:
        if "dim x" not in op.properties:
            return [self.uniform(0)]
        return [self.tid.copy()]

    def op_gpu_block_id(self, op: Op, args: list, mask: np.ndarray) -> list:
        axis = re.search(r"dim (\w)", op.properties).group(1)
        return [self.uniform(self.block_id["xyz".index(axis)])]

    def op_gpu_barrier(self, op: Op, args: list, mask: np.ndarray) -> None:
        if not mask.all():
            raise EmulationError("gpu.barrier under a branch some threads do not take")
        self.phase += 1
        self.costs.end_phase()

    def record(self, view: MemRef, address: np.ndarray, mask: np.ndarray, write: bool, op: Op):
        """Records that each thread of `mask` accesses element `address` of `view`'s buffer;
        an error where that races with another thread's access in this phase."""
        if view.base < GLOBAL_BASE:
            width = ELEMENT_BYTES[view.element]
            self.costs.shared_access(view.base + (address - view.origin) * width, mask)
        key = id(view.buffer)
        if key not in self.accesses:
            self.accesses[key] = Accesses(view.buffer.size)
        self.accesses[key].access(address[mask], self.tid[mask], self.phase, write, op)

    op_nvvm_cp_async_commit_group = op_nvvm_cp_async_wait_group = lambda *_: None

    # -- scalars

    def op_arith_constant(self, op: Op, args: list, mask: np.ndarray) -> list:
        text = op.prop("value").split(" : ")[0]
        type_text = op.result_types[0]
        if type_text in FLOATS:
            return [np.full(self.threads, float(text), dtype=np.float32)]
        value = {"true": 1, "false": 0}.get(text)
        return [self.uniform(int(text) if value is None else value)]

    def binary(self, function):
        return lambda op, args, mask: [function(args[0], args[1])]

    def float_binary(self, function):
        return lambda op, args, mask: [
            round_to(op.result_types[0], function(args[0].astype(np.float32), args[1]))
        ]

    def __getattr__(self, name: str):
        integer = {
            "addi": np.add,
            "subi": np.subtract,
            "muli": np.multiply,
            "divui": np.floor_divide,
            "divsi": np.floor_divide,
            "remui": np.remainder,
            "remsi": np.remainder,
            "minui": np.minimum,
            "minsi": np.minimum,
            "maxui": np.maximum,
            "maxsi": np.maximum,
            "andi": np.bitwise_and,
            "ori": np.bitwise_or,
            "xori": np.bitwise_xor,
            "shli": np.left_shift,
            "shrui": np.right_shift,
        }
        floats = {"addf": np.add, "subf": np.subtract, "mulf": np.multiply}
        unary = {
            "exp": np.exp,
            "log": np.log,
            "log1p": np.log1p,
            "sqrt": np.sqrt,
            "rsqrt": lambda x: 1 / np.sqrt(x),
            "absf": np.abs,
            "tanh": np.tanh,
            "exp2": np.exp2,
            "expm1": np.expm1,
        }
        if name.startswith("op_math_") and name.removeprefix("op_math_") in unary:
            return self.math(unary[name.removeprefix("op_math_")])
        if name.startswith("op_arith_"):
            short = name.removeprefix("op_arith_")
            if short in integer:
                return self.binary(integer[short])
            if short in floats:
                return self.float_binary(floats[short])
        raise AttributeError(name)

    def op_arith_ceildivsi(self, op: Op, args: list, mask: np.ndarray) -> list:
        return [-(-args[0] // np.where(args[1] == 0, 1, args[1]))]

    def op_arith_divf(self, op: Op, args: list, mask: np.ndarray) -> list:
        with np.errstate(divide="ignore", invalid="ignore"):
            return [(args[0] / args[1]).astype(np.float32)]

    def op_arith_maximumf(self, op: Op, args: list, mask: np.ndarray) -> list:
        return [np.maximum(args[0], args[1])]

    def op_arith_minimumf(self, op: Op, args: list, mask: np.ndarray) -> list:
        return [np.minimum(args[0], args[1])]

    op_arith_maxnumf, op_arith_minnumf = op_arith_maximumf, op_arith_minimumf

    def op_arith_cmpf(self, op: Op, args: list, mask: np.ndarray) -> list:
        x, y = args
        predicate = int(op.prop("predicate").split(" : ")[0])
        ordered = ~(np.isnan(x) | np.isnan(y))
        compare = {
            1: np.equal,
            2: np.greater,
            3: np.greater_equal,
            4: np.less,
            5: np.less_equal,
            6: np.not_equal,
            8: np.equal,
            9: np.greater,
            10: np.greater_equal,
            11: np.less,
            12: np.less_equal,
            13: np.not_equal,
        }
        if predicate not in compare:
            raise EmulationError(f"arith.cmpf predicate {predicate}")
        with np.errstate(invalid="ignore"):
            result = compare[predicate](x, y)
        result = result & ordered if predicate <= 6 else result | ~ordered
        return [result.astype(np.int64)]

    def op_arith_sitofp(self, op: Op, args: list, mask: np.ndarray) -> list:
        return [args[0].astype(np.float32)]

    op_arith_uitofp = op_arith_sitofp

    def math(self, function):
        def apply(op: Op, args: list, mask: np.ndarray) -> list:
            with np.errstate(all="ignore"):
                return [function(args[0].astype(np.float64)).astype(np.float32)]

        return apply

    def op_arith_negf(self, op: Op, args: list, mask: np.ndarray) -> list:
        return [-args[0]]

    def op_arith_cmpi(self, op: Op, args: list, mask: np.ndarray) -> list:
        x, y = args
        predicate = int(op.prop("predicate").split(" : ")[0])
        compare = [
            np.equal,
            np.not_equal,
            np.less,
            np.less_equal,
            np.greater,
            np.greater_equal,
            np.less,
            np.less_equal,
            np.greater,
            np.greater_equal,
        ][predicate]
        return [compare(x, y).astype(np.int64)]

    def op_arith_select(self, op: Op, args: list, mask: np.ndarray) -> list:
        return [np.where(args[0].astype(bool), args[1], args[2])]

    def op_arith_index_cast(self, op: Op, args: list, mask: np.ndarray) -> list:
        return [args[0].astype(np.int64)]

    op_arith_index_castui = op_arith_index_cast

    def op_arith_bitcast(self, op: Op, args: list, mask: np.ndarray) -> list:
        source, target = op.operand_types[0], op.result_types[0]
        if source in FLOATS and target.startswith("i"):
            return [bits_of(source, args[0])]
        if target in FLOATS and source.startswith("i"):
            return [float_of(target, args[0])]
        raise EmulationError(f"arith.bitcast {source} to {target}")

    def op_arith_extui(self, op: Op, args: list, mask: np.ndarray) -> list:
        width = int(op.operand_types[0][1:])
        return [args[0] & ((1 << width) - 1)]

    def op_arith_extf(self, op: Op, args: list, mask: np.ndarray) -> list:
        return [args[0].astype(np.float32)]

    def op_arith_truncf(self, op: Op, args: list, mask: np.ndarray) -> list:
        return [round_to(op.result_types[0], args[0])]

    # -- memory

    def mixed_operands(self, op: Op, dynamic: list) -> tuple[list, list, list]:
        """The offsets, sizes and strides of a subview or reinterpret_cast: its static
        values, and its operands where those say dynamic."""
        dynamic = iter(dynamic)

        def resolve(key: str) -> list[np.ndarray]:
            return [next(dynamic) if v == DYNAMIC else self.uniform(v) for v in op.array(key)]

        return resolve("static_offsets"), resolve("static_sizes"), resolve("static_strides")

    def op_memref_subview(self, op: Op, args: list, mask: np.ndarray) -> list:
        source, *dynamic = args
        offsets, sizes, strides = self.mixed_operands(op, dynamic)
        offset = source.offset + sum(o * s for o, s in zip(offsets, source.strides, strict=True))
        new_strides = [s * t for s, t in zip(source.strides, strides, strict=True)]
        # Rank-reducing views drop their unit dimensions (as the result type says).
        rank = len(parse_memref(op.result_types[0])[0])
        units = [i for i, size in enumerate(sizes) if (size == 1).all()]
        if len(sizes) - rank > len(units):
            raise EmulationError(f"memref.subview to {op.result_types[0]}")
        dropped = set(units[: len(sizes) - rank])
        kept = [i for i in range(len(sizes)) if i not in dropped]
        return [
            MemRef(
                source.buffer,
                source.element,
                offset,
                [sizes[i] for i in kept],
                [new_strides[i] for i in kept],
                source.base,
                source.origin,
            )
        ]

    def op_memref_reinterpret_cast(self, op: Op, args: list, mask: np.ndarray) -> list:
        source, *dynamic = args
        (offset,), sizes, strides = self.mixed_operands(op, dynamic)
        return [
            MemRef(
                source.buffer, source.element, source.origin + offset, sizes, strides,
                source.base, source.origin,
            )
        ]  # fmt: skip

    def op_gpu_dynamic_shared_memory(self, op: Op, args: list, mask: np.ndarray) -> list:
        # Typed views of it are separate buffers (see op_memref_view).
        return [self.uniform(0)]

    def op_memref_view(self, op: Op, args: list, mask: np.ndarray) -> list:
        """A typed view at a byte offset of the dynamic shared memory. Views of one
        element type share one buffer, so that buffers whose lifetimes do not meet may
        reuse its bytes; a value written as one type is not read back as another."""
        _, shift, *sizes = args
        if sizes or len(set(shift.tolist())) != 1:
            raise EmulationError("memref.view with dynamic sizes or a per-thread offset")
        start = int(shift[0])
        shape, element, _ = parse_memref(op.result_types[0])
        width = ELEMENT_BYTES[element]
        if start % width:
            raise EmulationError(f"memref.view of {element} at byte {start}")
        if element not in self.dynamic_shared:
            memory = np.zeros(DYNAMIC_SHARED_BYTES // width, dtype=numpy_type(element))
            whole = MemRef(memory, element, self.uniform(0), [], [], DYNAMIC_SHARED_BASE)
            self.dynamic_shared[element] = whole
            self.shared.append((DYNAMIC_SHARED_BASE, DYNAMIC_SHARED_BYTES, whole))
        memory = self.dynamic_shared[element].buffer
        strides, stride = [], 1
        for size in reversed(shape):
            strides.insert(0, self.uniform(stride))
            stride *= size
        if start // width + stride > memory.size:
            raise EmulationError(f"memref.view past the dynamic shared memory at {start}")
        origin = start // width
        view = MemRef(
            memory, element, self.uniform(origin), [self.uniform(d) for d in shape], strides,
            DYNAMIC_SHARED_BASE + start, origin,
        )  # fmt: skip
        return [view]

    def op_memref_cast(self, op: Op, args: list, mask: np.ndarray) -> list:
        return [args[0]]

    def op_memref_dim(self, op: Op, args: list, mask: np.ndarray) -> list:
        source, index = args
        return [np.choose(index, source.sizes)]

    def op_memref_extract_strided_metadata(self, op: Op, args: list, mask: np.ndarray) -> list:
        view = args[0]
        return [view, view.offset - view.origin, *view.sizes, *view.strides]

    def op_memref_extract_aligned_pointer_as_index(
        self, op: Op, args: list, mask: np.ndarray
    ) -> list:
        return [self.uniform(args[0].base)]

    def check_bounds(
        self, view: MemRef, indices: list[np.ndarray], mask: np.ndarray, op: Op, extent: int = 1
    ) -> None:
        for axis, (index, size) in enumerate(zip(indices, view.sizes, strict=True)):
            last = index + (extent - 1 if axis == len(indices) - 1 else 0)
            bad = mask & ((index < 0) | (last >= size))
            if bad.any():
                thread = int(np.argmax(bad))
                raise EmulationError(
                    f"{op.name}: thread {thread} index {int(index[thread])} (+{extent}) out of "
                    f"dimension {axis} of size {int(size[thread])}"
                )

    def check_in_buffer(
        self, view: MemRef, address: np.ndarray, mask: np.ndarray, op: Op, extent: int
    ) -> None:
        bad = mask & ((address < 0) | (address + extent > view.buffer.size))
        if bad.any():
            thread = int(np.argmax(bad))
            raise EmulationError(f"{op.name}: thread {thread} writes outside its buffer")

    def op_memref_load(self, op: Op, args: list, mask: np.ndarray) -> list:
        view, *indices = args
        self.check_bounds(view, indices, mask, op)
        address = view.address(indices)
        value = np.zeros(self.threads, dtype=view.buffer.dtype)
        value[mask] = view.buffer[address[mask]]
        self.record(view, address, mask, False, op)
        return [value]

    def op_memref_store(self, op: Op, args: list, mask: np.ndarray) -> None:
        value, view, *indices = args
        self.check_bounds(view, indices, mask, op)
        address = view.address(indices)
        stored = round_to(view.element, value) if view.element in FLOATS else value
        view.buffer[address[mask]] = stored[mask]
        self.record(view, address, mask, True, op)

    def op_vector_load(self, op: Op, args: list, mask: np.ndarray) -> list:
        view, *indices = args
        width = int(re.match(r"vector<(\d+)x", op.result_types[0]).group(1))
        if not (view.strides[-1] == 1).all():
            raise EmulationError("vector.load along a strided dimension")
        self.check_bounds(view, indices, mask, op, width)
        address = view.address(indices)
        value = np.zeros((self.threads, width), dtype=view.buffer.dtype)
        for i in range(width):
            value[mask, i] = view.buffer[address[mask] + i]
            self.record(view, address + i, mask, False, op)
        return [value]

    def op_vector_extract(self, op: Op, args: list, mask: np.ndarray) -> list:
        (position,) = [int(p) for p in op.array("static_position")]
        return [args[0][:, position]]

    def op_nvgpu_device_async_copy(self, op: Op, args: list, mask: np.ndarray) -> list:
        segments = op.segments()
        values = iter(args)
        dst = next(values)
        dst_indices = [next(values) for _ in range(segments[1])]
        src = next(values)
        src_indices = [next(values) for _ in range(segments[3])]
        count = int(op.prop("dstElements").split(" : ")[0])
        src_count = next(values) if segments[4] else self.uniform(count)
        # Rows past a chunk's end are zero-filled: past the view's dynamic size, inside
        # its buffer (whose rows the chunk's bound sizes).
        self.check_in_buffer(dst, dst.address(dst_indices), mask, op, count)
        reads = mask & (src_count > 0)
        self.check_bounds(src, src_indices, reads, op, 1)
        to, source = dst.address(dst_indices), src.address(src_indices)
        # The copy lands by the wait before the next barrier: recorded in this phase.
        for i in range(count):
            copy = mask & (src_count > i)
            dst.buffer[to[mask] + i] = 0
            dst.buffer[to[copy] + i] = src.buffer[source[copy] + i]
            self.record(src, source + i, copy, False, op)
            self.record(dst, to + i, mask, True, op)
        return [self.uniform(0)]

    # -- LLVM values

    def op_llvm_mlir_undef(self, op: Op, args: list, mask: np.ndarray) -> list:
        fields = split_top_level(op.result_types[0][len("!llvm.struct<(") : -2])
        return [[np.zeros(self.threads, dtype=np.float32) for _ in fields]]

    def op_llvm_insertvalue(self, op: Op, args: list, mask: np.ndarray) -> list:
        (position,) = op.array("position")
        fields = list(args[0])
        fields[position] = args[1]
        return [fields]

    def op_llvm_bitcast(self, op: Op, args: list, mask: np.ndarray) -> list:
        source, target = op.operand_types[0], op.result_types[0]
        element = element_of(source)
        if source.startswith("vector") and target == "i32":
            values = args[0]
            bits = np.zeros(self.threads, dtype=np.int64)
            width = 32 // values.shape[1]
            for i in range(values.shape[1]):
                bits |= bits_of(element, values[:, i]) << (width * i)
            return [bits]
        if source == "i32" and target.startswith("vector<2x"):
            target_element = element_of(target)
            return [
                np.stack(
                    [
                        float_of(target_element, args[0] & 0xFFFF),
                        float_of(target_element, args[0] >> 16),
                    ],
                    axis=1,
                )
            ]
        raise EmulationError(f"llvm.bitcast {source} to {target}")

    def op_llvm_extractvalue(self, op: Op, args: list, mask: np.ndarray) -> list:
        (position,) = op.array("position")
        return [args[0][position]]


def merge(mask: np.ndarray, new, old):
    if isinstance(new, list):
        return [merge(mask, n, o) for n, o in zip(new, old, strict=True)]
    if isinstance(new, MemRef):
        return new
    new, old = np.asarray(new), np.asarray(old)
    if new.ndim == 2:
        return np.where(mask[:, None], new, old)
    return np.where(mask, new, old)


def kernels(module: Op) -> dict[str, Op]:
    """The gpu.func ops of a module, by name."""
    found = {}

    def walk(op: Op) -> None:
        if op.name == "gpu.func":
            found[re.search(r'sym_name = "(\w+)"', op.attributes + op.properties).group(1)] = op
        for region in op.regions:
            for block in region:
                for inner in block.ops:
                    walk(inner)

    walk(module)
    return found


def run_kernel(
    module_text: str, name: str, threads: int, arguments: list, grid: tuple = (1, 1, 1)
) -> dict[str, int]:
    """Runs kernel `name` of a generic-form module on a grid of blocks of `threads` threads,
    one block after another; numpy arguments are updated in place where the kernel writes
    them (bf16 arrays, as ml_dtypes', are computed in float32 and rounded back). Returns
    the blocks' Costs, summed."""
    func = kernels(parse(module_text))[name]
    entry = func.regions[0][0]
    holder = Block1D(threads)
    memrefs = []
    for (_, type_text), argument in zip(entry.args, arguments, strict=False):
        if isinstance(argument, np.ndarray):
            data = (
                argument.astype(np.float32)
                if argument.dtype.kind == "V" or argument.dtype.name == "bfloat16"
                else argument
            )
            memrefs.append(holder.allocate(type_text, data))
        else:
            memrefs.append(argument)
    totals: dict[str, int] = {}
    for z in range(grid[2]):
        for y in range(grid[1]):
            for x in range(grid[0]):
                block = Block1D(threads, (x, y, z))
                block.run(func, list(memrefs))
                block.costs.end_phase(barrier=False)  # what follows the last barrier
                for key, value in block.costs.totals.items():
                    totals[key] = totals.get(key, 0) + value
    for argument, view in zip(arguments, memrefs, strict=False):
        if isinstance(argument, np.ndarray) and argument.size and argument.flags.writeable:
            argument[...] = view.buffer.reshape(argument.shape).astype(argument.dtype)
    return totals
