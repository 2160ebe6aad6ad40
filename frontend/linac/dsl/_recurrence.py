"""``@linac.recurrence``: one step of a recurrence in Python, compiled by linac.

The decorated function is traced once per (head sizes, dtype, gate kind, constants) into a
``func.func`` holding one ``linac.recurrence`` whose step region is the traced step; that module
goes through the same pipeline as the built-in ops (``_linac.compile``: specialize, recognize,
chunk, tile, lower, target), and the kernel is kept in memory and in the on-disk kernel cache.
"""

from __future__ import annotations

import ast
import functools
import inspect
import json
import linecache
import re
import textwrap
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import _linac
from .._runtime import LoadedKernel, load
from .._tensors import aligned_empty, dtype_name, inputs_to_numpy
from .._validate import check_problem
from ._trace import (
    Position,
    SequentialWarning,
    StepError,
    Tracer,
    Value,
    shape_text,
    tensor_type,
)
from ._trace import (
    scale as scale_op,
)

#: Positional parameters bind to the op's inputs by name.
ROLES = ("q", "k", "v", "g", "beta", "S")
_REQUIRED_ROLES = ("q", "k", "v", "S")
_REQUIRED = inspect.Parameter.empty
_CALL_KEYWORDS = ("scale", "initial_state", "output_final_state", "cu_seqlens")

_TOKENS = "memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>"
_SCALARS = "memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>"
_OFFSETS = "memref<?xi64, strided<[?], offset: ?>>"


@dataclass(frozen=True)
class _Variant:
    """What a trace depends on: head sizes, the gate kind and the constants."""

    K: int
    V: int
    gate: str | None
    constants: tuple


class Recurrence:
    """A recurrence step compiled by linac; call it like an op of ``linac.ops``.

    Positional parameters of the step bind to the op's inputs by name: ``q``, ``k`` (K-vectors
    per token), ``v`` (a V-vector), ``g`` (optional: a log-space decay, a scalar or a K-vector
    per token), ``beta`` (optional: a scalar per token) and ``S`` (the state, [K, V] float32).
    The keyword-only parameter ``scale`` is the readout scale, a run-time argument of the
    kernel (no recompile per value); every other keyword-only parameter is a compile-time
    constant (part of the kernel cache key). The step returns ``(new state, output)``.
    """

    def __init__(self, fn, *, chunk_size: int = 0):
        self.fn = fn
        self.name = fn.__name__
        self.chunk_size = chunk_size
        self.filename = fn.__code__.co_filename
        self.line = fn.__code__.co_firstlineno
        self.params: list[str] = []
        self.has_scale = False
        self.scale_default = None
        self.constants: dict[str, object] = {}
        self._parse_signature()
        self._lock = threading.Lock()
        self._sources: dict[_Variant, str] = {}
        self._kernels: dict[tuple, LoadedKernel] = {}
        functools.update_wrapper(self, fn)

    # --- the signature ---------------------------------------------------------------------

    def _error(self, message: str, line: int | None = None) -> StepError:
        return StepError(f"{self.filename}:{line or self.line}: {message}")

    def _parse_signature(self) -> None:
        roles_help = (
            "positional parameters bind by name to q, k, v (required), g, beta (optional) and "
            "S (the state, required); keyword-only parameters after * are compile-time "
            "constants, except scale (the readout scale)"
        )
        for param in inspect.signature(self.fn).parameters.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise self._error(f"{self.name} cannot take *{param.name}: {roles_help}")
            if param.kind == param.KEYWORD_ONLY:
                if param.name == "scale":
                    self.has_scale = True
                    self.scale_default = None if param.default is _REQUIRED else param.default
                elif param.name in _CALL_KEYWORDS:
                    raise self._error(
                        f"{param.name} is an argument of every call of {self.name}, not a "
                        "constant of its step"
                    )
                else:
                    self.constants[param.name] = param.default
                continue
            if param.name not in ROLES:
                raise self._error(
                    f"parameter '{param.name}' of {self.name} is not a role of a recurrence "
                    f"step: {roles_help}"
                )
            self.params.append(param.name)
        missing = [role for role in _REQUIRED_ROLES if role not in self.params]
        if missing:
            raise self._error(
                f"{self.name} needs the parameters {', '.join(missing)}: {roles_help}"
            )

    @property
    def inputs(self) -> list[str]:
        """The per-token inputs of a call, in order (the parameters but S)."""
        return [p for p in self.params if p != "S"]

    def _bind(self, inputs: tuple, kwargs: dict) -> tuple[dict, dict]:
        """(inputs by role, constants) of a call; TypeError for what does not fit."""
        names = self.inputs
        if len(inputs) > len(names):
            raise TypeError(
                f"{self.name}() takes {len(names)} inputs ({', '.join(names)}), got {len(inputs)}"
            )
        bound = dict(zip(names, inputs))
        constants = {}
        for key, value in kwargs.items():
            if key in names:
                if key in bound:
                    raise TypeError(f"{self.name}() got input {key} twice")
                bound[key] = value
            elif key in self.constants:
                constants[key] = value
            else:
                known = names + list(self.constants) + list(_CALL_KEYWORDS)
                raise TypeError(
                    f"{self.name}() got an unexpected argument '{key}' (it takes "
                    f"{', '.join(known)})"
                )
        missing = [name for name in names if name not in bound]
        if missing:
            raise TypeError(f"{self.name}() is missing the inputs {', '.join(missing)}")
        return bound, self._constants(constants)

    def _constants(self, given: dict) -> dict:
        values = {}
        for name, default in self.constants.items():
            if name in given:
                values[name] = given[name]
            elif default is not _REQUIRED:
                values[name] = default
            else:
                raise TypeError(f"{self.name}() is missing the compile-time constant '{name}'")
        unknown = set(given) - set(self.constants)
        if unknown:
            raise TypeError(
                f"{self.name}() has no compile-time constant {', '.join(sorted(unknown))}"
            )
        for name, value in values.items():
            try:
                hash(value)
            except TypeError:
                raise TypeError(
                    f"compile-time constant {name} of {self.name} must be hashable (a number, "
                    f"a string, a tuple), got {type(value).__name__}"
                ) from None
        return values

    # --- tracing -----------------------------------------------------------------------------

    def _return_line(self) -> int:
        """The line of the step's (first) return statement, for messages."""
        try:
            lines, start = inspect.getsourcelines(self.fn)
            tree = ast.parse(textwrap.dedent("".join(lines)))
        except (OSError, TypeError, SyntaxError):
            return self.line
        for node in ast.walk(tree):
            if isinstance(node, ast.Return):
                return start + node.lineno - 1
        return self.line

    def source(self, K: int, V: int, gate: str | None = None, **constants) -> str:
        """The traced MLIR module for head sizes K and V, the gate kind (None, "scalar" or
        "vector") and the constants: what linac compiles."""
        variant = _Variant(K, V, gate, tuple(sorted(self._constants(constants).items())))
        return self._source(variant)

    def _source(self, variant: _Variant) -> str:
        text = self._sources.get(variant)
        if text is None:
            text = self._trace(variant)
            self._sources[variant] = text
        return text

    def _trace(self, variant: _Variant) -> str:
        K, V, gate = variant.K, variant.V, variant.gate
        if "g" in self.params and gate is None:
            raise StepError(f"{self.name} takes g: give its kind (scalar or vector)")
        tracer = Tracer()
        shapes = {"q": (K,), "k": (K,), "v": (V,), "beta": (), "S": (K, V)}
        shapes["g"] = (K,) if gate == "vector" else ()
        args = {}
        for role in self.params:
            name = "%S" if role == "S" else f"%{role}_t"
            args[role] = Value(tracer, name, shapes[role], None)
        readout_scale = Value(tracer, "%scale", (), None)
        kwargs = dict(variant.constants)
        if self.has_scale:
            kwargs["scale"] = readout_scale
        result = self.fn(*(args[role] for role in self.params), **kwargs)

        line = self._return_line()
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise self._error(
                f"{self.name} must return (new state [{K}, {V}], output [{V}]), got "
                f"{type(result).__name__}",
                line,
            )
        state, output = result
        for what, value, shape in (("new state", state, (K, V)), ("output", output, (V,))):
            if not isinstance(value, Value) or value.shape != shape:
                got = shape_text(value.shape) if hasattr(value, "shape") else type(value).__name__
                raise self._error(
                    f"the {what} returned by {self.name} must be {list(shape)} "
                    f"(S is [K, V] = [{K}, {V}]), got {got}",
                    line,
                )
        if not self.has_scale:
            # The op's run-time scale is 1 here; reading out through it keeps the canonical
            # readout `scale * S^T q` that the recognizer matches.
            output = scale_op(output, readout_scale, None)
        return self._module(variant, tracer, state, output)

    def _module(self, variant: _Variant, tracer: Tracer, state: Value, output: Value) -> str:
        K, V, gate = variant.K, variant.V, variant.gate
        func_loc = Position(self.filename, self.line, 0, self.line, 0).loc()
        has_g, has_beta = "g" in self.params, "beta" in self.params
        gates = _TOKENS if gate == "vector" else _SCALARS
        args = ["%q: !tokens", "%k: !tokens", "%v: !tokens"]
        operands = ["q(%q : !tokens)", "k(%k : !tokens)", "v(%v : !tokens)"]
        block = [f"%q_t: {tensor_type((K,))}", f"%k_t: {tensor_type((K,))}"]
        block.append(f"%v_t: {tensor_type((V,))}")
        if has_g:
            args.append("%g: !gates")
            operands.append("g(%g : !gates)")
            block.append(f"%g_t: {tensor_type((K,) if gate == 'vector' else ())}")
        if has_beta:
            args.append("%beta: !scalars")
            operands.append("beta(%beta : !scalars)")
            block.append("%beta_t: f32")
        block.append(f"%S: {tensor_type((K, V))}")
        args += [
            "%initial_state: !states",
            "%output: !tokens",
            "%final_state: !states",
            "%cu_seqlens: !offsets",
            "%scale: f32",
        ]
        operands += [
            "initial_state(%initial_state : !states)",
            "output(%output : !tokens)",
            "final_state(%final_state : !states)",
            "cu_seqlens(%cu_seqlens : !offsets)",
            "scale(%scale)",
        ]
        attributes = ""
        if self.chunk_size:
            attributes = f" attributes {{chunk_size = {self.chunk_size} : i64}}"
        constants = ", ".join(f"{k} = {v!r}" for k, v in variant.constants)
        header = [
            f"// {self.name}: traced by linac.recurrence from {self.filename}:{self.line}",
            f"// K = {K}, V = {V}, g: {gate or 'none'}"
            + (f", constants: {constants}" if constants else ""),
            f"!tokens = {_TOKENS}",
            f"!gates = {gates}",
            f"!scalars = {_SCALARS}",
            f"!states = {_TOKENS}",
            f"!offsets = {_OFFSETS}",
        ]
        body = [
            f"func.func @{self.name}({', '.join(args)}) {{",
            f"  linac.recurrence {' '.join(operands)}{attributes} {{",
            f"  ^bb0({', '.join(block)}):",
            *tracer.lines,
            f"    linac.yield {state.name}, {output.name} : {state.type}, {output.type}",
            f"  }} {func_loc}",
            "  return",
            f"}} {func_loc}",
        ]
        return "\n".join(header + body) + "\n"

    def _infer_gate(self, K: int, V: int, constants: dict) -> str | None:
        """The gate kind for a compile without inputs: the one the step traces with."""
        if "g" not in self.params:
            return None
        traced, errors = [], []
        for gate in ("scalar", "vector"):
            try:
                self._source(_Variant(K, V, gate, tuple(sorted(constants.items()))))
                traced.append(gate)
            except StepError as error:
                errors.append(f"as a {gate}: {error}")
        if len(traced) == 1:
            return traced[0]
        if not traced:
            raise StepError(
                f"{self.name} does not trace with g a scalar or a vector:\n" + "\n".join(errors)
            )
        raise StepError(
            f"{self.name} traces with g a scalar and with g a K-vector per step: give "
            "gate='scalar' or gate='vector'"
        )

    # --- compiling ---------------------------------------------------------------------------

    def _explain(self, message: str) -> str:
        """Compiler messages with each location in the user's file followed by its line."""
        out = []
        for line in message.splitlines():
            out.append(line)
            # Locations print as file.py:12:5 (or "file.py":12:5 inside IR).
            for filename, number in re.findall(r'([^\s"]+\.py)"?:(\d+):\d+', line):
                text = linecache.getline(filename, int(number)).strip()
                if text:
                    out.append(f"    {Path(filename).name}:{number}: {text}")
        return "\n".join(out)

    def _compile(
        self,
        variant: _Variant,
        dtype: str,
        target: str,
        *,
        block_v: int = 0,
        keep_stages: bool = False,
    ) -> _linac.CompileResult:
        source = self._source(variant)
        # The CPU default chunk unless asked, as the op library's kernels.
        chunk_size = self.chunk_size
        if not chunk_size and target == "cpu":
            chunk_size = _linac.cpu_default_chunk_size(variant.K, variant.V)
        try:
            return _linac.compile(
                source,
                self.name,
                self.filename,
                target,
                variant.K,
                variant.V,
                dtype,
                chunk_size,
                block_v,
                use_cache=not keep_stages,
                keep_stages=keep_stages,
                allow_sequential=True,
            )
        except _linac.CompileError as error:
            raise StepError(
                f"{self.filename}:{self.line}: linac cannot compile {self.name}:\n"
                + self._explain(str(error))
            ) from None

    def _kernel(self, variant: _Variant, dtype: str, target: str = "cpu") -> LoadedKernel:
        key = (variant, dtype, target)
        kernel = self._kernels.get(key)
        if kernel is not None:
            return kernel
        with self._lock:
            kernel = self._kernels.get(key)
            if kernel is None:
                kernel = load(self._compile(variant, dtype, target))
                self._kernels[key] = kernel
                if kernel.metadata.get("form") == "sequential":
                    warnings.warn(
                        f"{self.name} is not chunk-parallel: "
                        f"{self._reason(kernel.metadata)}; it runs as a sequential recurrent "
                        "kernel (one token at a time)",
                        SequentialWarning,
                        stacklevel=3,
                    )
        return kernel

    def _reason(self, metadata: dict) -> str:
        """Why the step is not chunkable, with the user's line."""
        reason = metadata.get("sequential_reason", "")

        def show(match: re.Match) -> str:
            filename, number = match.group(1), int(match.group(2))
            text = linecache.getline(filename, number).split("#")[0].strip()
            where = f"{Path(filename).name}:{number}"
            return f"(at {where}: `{text}`)" if text else f"(at {where})"

        return re.sub(r"\(at (.+?):(\d+):\d+\)", show, reason)

    # --- calling -----------------------------------------------------------------------------

    def _problem(self, inputs: tuple, kwargs: dict, call: dict):
        bound, constants = self._bind(inputs, kwargs)
        arrays, caller = inputs_to_numpy(
            {**bound, "initial_state": call["initial_state"], "cu_seqlens": call["cu_seqlens"]}
        )
        g = arrays.get("g")
        gate = None
        if "g" in self.params:
            gate = "vector" if getattr(g, "ndim", 0) == 4 else "scalar"
        readout_scale = call["scale"]
        if not self.has_scale:
            if readout_scale is not None:
                raise TypeError(f"{self.name}() takes no scale (its step has no scale parameter)")
            readout_scale = 1.0
        elif readout_scale is None:
            readout_scale = self.scale_default
        p, g, beta, initial_state, cu = check_problem(
            arrays["q"],
            arrays["k"],
            arrays["v"],
            g=g,
            beta=arrays.get("beta"),
            scale=readout_scale,
            initial_state=arrays["initial_state"],
            cu_seqlens=arrays["cu_seqlens"],
            gate=gate,
            needs_beta="beta" in self.params,
        )
        variant = _Variant(p.K, p.V, gate, tuple(sorted(constants.items())))
        run_args = {
            "q": arrays["q"],
            "k": arrays["k"],
            "v": arrays["v"],
            "g": g,
            "beta": beta,
            "initial_state": initial_state
            if initial_state is not None
            else np.empty((0, p.H, p.K, p.V), dtype=np.float32),
            "cu_seqlens": cu if cu is not None else np.empty((0,), dtype=np.int64),
            "scale": p.scale,
        }
        return p, variant, run_args, caller

    def __call__(
        self,
        *inputs,
        scale=None,
        initial_state=None,
        output_final_state: bool = False,
        cu_seqlens=None,
        **kwargs,
    ):
        r"""Runs the recurrence on the host.

        Args:
            *inputs: the step's inputs in the order of its parameters (S excluded), or by
                name: q, k `[B, T, H, K]`, v `[B, T, H, V]` (float32, float16 or bfloat16),
                g `[B, T, H]` (scalar decay) or `[B, T, H, K]` (vector decay) and beta
                `[B, T, H]` (float32); numpy arrays or tensors with `__dlpack__`.
            scale (Optional[float]): the readout scale, for a step with a `scale` parameter.
                Default: the parameter's default, else `K ** -0.5`.
            initial_state (Optional): `[N, H, K, V]` float32. Default: zeros.
            output_final_state (bool): also return the final state. Default: `False`.
            cu_seqlens (Optional): `[N + 1]` cumulative sequence lengths (then `B == 1`).
            **kwargs: the compile-time constants of the step (its keyword-only parameters).

        Returns:
            o `[B, T, H, V]` in the dtype of `v`, and the final state `[N, H, K, V]` float32 or
            None; as the caller's kind of tensor.
        """
        call = {"scale": scale, "initial_state": initial_state, "cu_seqlens": cu_seqlens}
        p, variant, run_args, caller = self._problem(inputs, kwargs, call)
        kernel = self._kernel(variant, dtype_name(p.dtype))
        output = aligned_empty((p.B, p.T, p.H, p.V), p.dtype)
        final_state = aligned_empty((p.N if output_final_state else 0, p.H, p.K, p.V), np.float32)
        run_args["output"] = output
        run_args["final_state"] = final_state
        kernel.run_cpu(run_args)
        return caller.wrap(output), caller.wrap(final_state) if output_final_state else None

    # --- inspecting and compiling ahead of time ------------------------------------------------

    def plan(
        self,
        *inputs,
        target: str = "cpu",
        scale=None,
        initial_state=None,
        cu_seqlens=None,
        **kwargs,
    ) -> str:
        """A short description of how the step compiles for these inputs: the canonical form
        it matched (or why none did), chunked or sequential, chunk size and target."""
        call = {"scale": scale, "initial_state": initial_state, "cu_seqlens": cu_seqlens}
        p, variant, _, _ = self._problem(inputs, kwargs, call)
        return self._describe(variant, dtype_name(p.dtype), target)

    def _describe(self, variant: _Variant, dtype: str, target: str) -> str:
        kernel = self._kernels.get((variant, dtype, target))
        if kernel is not None:
            metadata = kernel.metadata
        else:
            metadata = json.loads(self._compile(variant, dtype, target).metadata)
        gate = {None: "no g", "scalar": "g a scalar per token", "vector": "g a K-vector per token"}
        lines = [
            (
                f"{self.name} ({Path(self.filename).name}:{self.line}): K={variant.K}, "
                f"V={variant.V}, {dtype}, {gate[variant.gate]}, target {target}"
            )
        ]
        if variant.constants:
            lines.append("  constants: " + ", ".join(f"{k} = {v!r}" for k, v in variant.constants))
        form = metadata.get("form", "")
        if form == "sequential":
            lines.append(f"  no canonical form: {self._reason(metadata)}")
            lines.append(
                "  sequential: one token at a time, grid (head, sequence), the whole "
                f"[{variant.K}, {variant.V}] state in each block"
            )
        else:
            match = re.search(r"<(.*)>", form)
            lines.append(f"  canonical form: {match.group(1) if match else form}")
            tiles = -(-variant.V // metadata["block_v"])
            lines.append(
                f"  chunked: chunk size {metadata['chunk_size']}, grid (head, sequence)"
                + (f" x {tiles} value tiles of {metadata['block_v']}" if tiles > 1 else "")
            )
        return "\n".join(lines)

    def ir(
        self,
        *inputs,
        target: str = "cpu",
        scale=None,
        initial_state=None,
        cu_seqlens=None,
        **kwargs,
    ) -> dict[str, str]:
        """The IR for these inputs: the traced module ("traced") and the IR after each stage
        of the pipeline (specialize, recognize, chunk, tile, lower, then the target's)."""
        call = {"scale": scale, "initial_state": initial_state, "cu_seqlens": cu_seqlens}
        p, variant, _, _ = self._problem(inputs, kwargs, call)
        result = self._compile(variant, dtype_name(p.dtype), target, keep_stages=True)
        return {"traced": self._source(variant), **dict(result.stages)}

    def compile(
        self,
        target: str = "cpu",
        K: int = 64,
        V: int = 64,
        dtype: str = "f32",
        out_dir=".",
        *,
        gate: str | None = None,
        block_v: int = 0,
        **constants,
    ) -> list[Path]:
        """Compiles ahead of time and writes what ``linac-compile`` writes: ``<name>.json``
        (metadata), ``<name>.h`` (C declarations, and a launcher for GPUs) and ``<name>.o``
        (cpu) or ``<name>.ptx`` and ``<name>.cubin`` (sm_80, sm_90, sm_90a; cubin when ptxas is
        installed). ``gate`` ("scalar" or "vector") is needed only when the step traces with
        both kinds of g. Returns the paths written."""
        values = self._constants(constants)
        if gate is None:
            gate = self._infer_gate(K, V, values)
        variant = _Variant(K, V, gate, tuple(sorted(values.items())))
        result = self._compile(variant, dtype, target, block_v=block_v)
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        base = out / result.symbol
        files = {".json": result.metadata + "\n", ".h": _linac.c_header(result)}
        if result.target == "cpu":
            files[".o"] = result.object
        else:
            files[".ptx"] = result.ptx
            if result.cubin:
                files[".cubin"] = result.cubin
            if result.ptxas_log:
                files[".ptxas.log"] = result.ptxas_log
        written = []
        for suffix, contents in files.items():
            path = base.with_name(base.name + suffix)
            if isinstance(contents, bytes):
                path.write_bytes(contents)
            else:
                path.write_text(contents)
            written.append(path)
        return written

    def __repr__(self) -> str:
        return f"<linac.recurrence {self.name} ({', '.join(self.params)}) at {self.filename}:{self.line}>"


def recurrence(fn=None, *, chunk_size: int = 0):
    """Decorates one step of a recurrence: ``@linac.recurrence`` or
    ``@linac.recurrence(chunk_size=32)``. See ``Recurrence``."""
    if fn is None:
        return functools.partial(recurrence, chunk_size=chunk_size)
    return Recurrence(fn, chunk_size=chunk_size)


__all__ = ["ROLES", "Recurrence", "SequentialWarning", "StepError", "recurrence"]
