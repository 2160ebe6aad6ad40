"""Tracing one recurrence step into linac IR.

The step function runs once on ``Value`` objects. Each operation appends one or a few ops of
the step region (``linac.outer``, ``linac.matvec``, ``linac.transpose``, ``linac.scale``,
``linac.scale_rows``, arith and math ops on ``f32`` or ``tensor<...xf32>``) tagged with the
user's source position (``loc("file.py":line:col)``), and checks shapes on the way: a mismatch
names the line, the expression and the shapes of its operands.
"""

from __future__ import annotations

import ast
import linecache
import os
import sys
from dataclasses import dataclass

import numpy as np

_DSL_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class StepError(Exception):
    """A recurrence step that linac cannot trace or compile; the message names the user's
    source line and expression."""


class SequentialWarning(UserWarning):
    """A recurrence step that is not chunkable runs as a sequential recurrent kernel."""


# --- source positions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    """Where an expression of the user's code is: 1-based lines, 0-based columns."""

    filename: str
    line: int
    col: int
    end_line: int
    end_col: int

    def loc(self) -> str:
        name = self.filename.replace("\\", "\\\\").replace('"', '\\"')
        return f'loc("{name}":{self.line}:{self.col + 1})'

    def text(self) -> str | None:
        """The source text of the expression, on one line, or None without source."""
        lines = linecache.getlines(self.filename)
        if not lines or self.end_line > len(lines):
            return None
        if self.line == self.end_line:
            return lines[self.line - 1][self.col : self.end_col]
        parts = [lines[self.line - 1][self.col :]]
        parts += lines[self.line : self.end_line - 1]
        parts.append(lines[self.end_line - 1][: self.end_col])
        return " ".join(part.strip() for part in parts)

    def where(self) -> str:
        return f"{self.filename}:{self.line}"


_positions_cache: dict = {}


def _code_positions(code) -> list:
    positions = _positions_cache.get(code)
    if positions is None:
        positions = list(code.co_positions())
        _positions_cache[code] = positions
    return positions


def user_position() -> Position | None:
    """The position of the innermost frame outside linac.dsl: the expression being traced."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_DSL_DIR):
        frame = frame.f_back
    if frame is None:
        return None
    code = frame.f_code
    if not hasattr(code, "co_positions"):  # Python < 3.11: lines only
        return Position(code.co_filename, frame.f_lineno, 0, frame.f_lineno, 0)
    line, end_line, col, end_col = _code_positions(code)[frame.f_lasti // 2]
    if line is None:
        return Position(code.co_filename, frame.f_lineno, 0, frame.f_lineno, 0)
    return Position(code.co_filename, line, col or 0, end_line or line, end_col or 0)


_ast_cache: dict = {}


def _node_at(position: Position):
    """The AST node of the user's file that spans exactly ``position``, if any."""
    lines = linecache.getlines(position.filename)
    if not lines:
        return None
    source = "".join(lines)
    key = (position.filename, hash(source))
    index = _ast_cache.get(key)
    if index is None:
        index = {}
        try:
            tree = ast.parse(source)
        except SyntaxError:
            tree = None
        if tree is not None:
            for node in ast.walk(tree):
                if hasattr(node, "end_lineno"):
                    span = (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)
                    index.setdefault(span, node)
        _ast_cache[key] = index
    return index.get((position.line, position.col, position.end_line, position.end_col))


def operand_texts(position: Position | None, count: int) -> list[str] | None:
    """The source text of the operands of the expression at ``position`` (a binary operator's
    two sides, a call's arguments), or None."""
    if position is None:
        return None
    node = _node_at(position)
    source = "".join(linecache.getlines(position.filename))
    if isinstance(node, ast.BinOp):
        operands = [node.left, node.right]
    elif isinstance(node, ast.Call):
        operands = list(node.args)
    else:
        return None
    if len(operands) != count:
        return None
    texts = [ast.get_source_segment(source, operand) for operand in operands]
    return texts if all(texts) else None


def fail(message: str, position: Position | None = None) -> StepError:
    """A StepError for the expression at ``position`` (default: the one being traced)."""
    position = position or user_position()
    if position is None:
        return StepError(message)
    text = position.text()
    where = position.where()
    if text:
        return StepError(f"{where}: in `{text}`: {message}")
    return StepError(f"{where}: {message}")


# --- IR ---------------------------------------------------------------------------------------


def tensor_type(shape: tuple) -> str:
    if not shape:
        return "f32"
    return "tensor<" + "x".join(str(n) for n in shape) + "xf32>"


def float_literal(value: float) -> str:
    """An exact MLIR literal of ``value`` rounded to f32."""
    value32 = np.float32(value)
    if not np.isfinite(value32):
        return f"0x{int(np.array(value32).view(np.uint32)):08X}"
    return format(float(value32), ".9e")


def shape_text(shape: tuple) -> str:
    return "scalar" if not shape else str(list(shape))


class Tracer:
    """Builds the ops of one step region as MLIR text."""

    def __init__(self):
        self.lines: list[str] = []
        self.count = 0
        self._constants: dict = {}

    def fresh(self) -> str:
        self.count += 1
        return f"%t{self.count}"

    def emit(self, text: str, position: Position | None) -> None:
        loc = f" {position.loc()}" if position else ""
        self.lines.append(f"    {text}{loc}")

    def op(self, shape: tuple, text: str, position: Position | None) -> Value:
        """Emits ``%new = text`` and returns %new as a value of ``shape``."""
        name = self.fresh()
        self.emit(f"{name} = {text}", position)
        return Value(self, name, shape, position)

    def constant(self, value: float, shape: tuple = ()) -> Value:
        """An f32 constant (a splat tensor when ``shape`` is not empty), emitted once."""
        key = (float(np.float32(value)), shape)
        found = self._constants.get(key)
        if found is not None:
            return found
        literal = float_literal(value)
        if shape:
            text = f"arith.constant dense<{literal}> : {tensor_type(shape)}"
        else:
            text = f"arith.constant {literal} : f32"
        result = self.op(shape, text, None)
        result.constant = float(np.float32(value))
        self._constants[key] = result
        return result

    def index_zero(self) -> str:
        found = self._constants.get("index0")
        if found is None:
            found = self.fresh()
            self.emit(f"{found} = arith.constant 0 : index", None)
            self._constants["index0"] = found
        return found


# --- values ---------------------------------------------------------------------------------

_BINARY = {
    "+": ("arith.addf", lambda a, b: a + b),
    "-": ("arith.subf", lambda a, b: a - b),
    "*": ("arith.mulf", lambda a, b: a * b),
    "/": ("arith.divf", lambda a, b: a / b),
}
_VERBS = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}


def _is_number(x) -> bool:
    if isinstance(x, (bool, np.bool_)):
        return False
    if isinstance(x, (int, float, np.integer, np.floating)):
        return True
    return isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype.kind in "iuf"


class _Elementwise:
    """+ - * / of step values (Value, Broadcast) with each other and with numbers, both
    ways round; `binary` checks the shapes and emits the op."""

    def __add__(self, other):
        return binary("+", self, other)

    def __radd__(self, other):
        return binary("+", other, self)

    def __sub__(self, other):
        return binary("-", self, other)

    def __rsub__(self, other):
        return binary("-", other, self)

    def __mul__(self, other):
        return binary("*", self, other)

    def __rmul__(self, other):
        return binary("*", other, self)

    def __truediv__(self, other):
        return binary("/", self, other)

    def __rtruediv__(self, other):
        return binary("/", other, self)


class Broadcast(_Elementwise):
    """``x[:, None]`` (axis 1: a column, numpy shape [n, 1]) or ``x[None, :]`` (axis 0: a row,
    [1, n]) of a traced vector: it combines elementwise with matrices and vectors."""

    def __init__(self, vector: Value, axis: int, position: Position | None):
        self.vector = vector
        self.axis = axis
        self.position = position

    @property
    def shape(self) -> tuple:
        n = self.vector.shape[0]
        return (n, 1) if self.axis == 1 else (1, n)

    def materialize(self, shape: tuple, position) -> Value:
        """The full [rows, cols] matrix (an outer product with ones)."""
        tracer = self.vector.tracer
        rows, cols = shape
        if self.axis == 1:
            return outer_product(self.vector, tracer.constant(1.0, (cols,)), position)
        return outer_product(tracer.constant(1.0, (rows,)), self.vector, position)

    def _unsupported(self, what: str):
        raise fail(
            f"{what} of a broadcast vector ({shape_text(self.shape)}): x[:, None] and x[None, :] "
            "only combine elementwise (+ - * /) with matrices, vectors and scalars"
        )

    def __neg__(self):
        return Broadcast(unary("arith.negf", self.vector, user_position()), self.axis, None)

    def __matmul__(self, other):
        self._unsupported("@")

    def __rmatmul__(self, other):
        self._unsupported("@")

    @property
    def T(self):
        return Broadcast(self.vector, 1 - self.axis, self.position)

    def __getitem__(self, key):
        self._unsupported("indexing")

    def __bool__(self):
        raise fail("a traced value has no truth value: steps cannot branch on data")

    __array_ufunc__ = None


class Value(_Elementwise):
    """A traced value of the step: a scalar (shape ()), a vector [n] or a matrix [n, m] of f32."""

    __array_priority__ = 1000

    def __init__(self, tracer: Tracer, name: str, shape: tuple, position: Position | None):
        self.tracer = tracer
        self.name = name
        self.shape = tuple(shape)
        self.position = position
        self.constant: float | None = None

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def type(self) -> str:
        return tensor_type(self.shape)

    def __repr__(self) -> str:
        return f"<linac step value {self.name}: {shape_text(self.shape)}>"

    def __neg__(self):
        if self.constant is not None:
            return self.tracer.constant(-self.constant, self.shape)
        return unary("arith.negf", self, user_position())

    def __pos__(self):
        return self

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(other, self)

    @property
    def T(self):
        if self.ndim < 2:
            return self
        position = user_position()
        rows, cols = self.shape
        return self.tracer.op(
            (cols, rows),
            f"linac.transpose {self.name} : {self.type} -> {tensor_type((cols, rows))}",
            position,
        )

    def __getitem__(self, key):
        full = slice(None)
        if self.ndim == 1 and isinstance(key, tuple) and len(key) == 2:
            if key[0] == full and key[1] is None:
                return Broadcast(self, 1, user_position())
            if key[0] is None and key[1] == full:
                return Broadcast(self, 0, user_position())
        raise fail(
            f"indexing a {shape_text(self.shape)} value is not part of the step language: only "
            "x[:, None] and x[None, :] on vectors (numpy broadcasting)"
        )

    # What the step language does not have: clear errors instead of numpy's.
    def __pow__(self, other):
        raise fail("** is not part of the step language: write x * x")

    __rpow__ = __pow__

    def __mod__(self, other):
        raise fail("% is not part of the step language")

    __rmod__ = __floordiv__ = __rfloordiv__ = __mod__

    def __abs__(self):
        raise fail("abs is not part of the step language")

    def _compare(self, other):
        raise fail("comparisons are not part of the step language: steps cannot branch on data")

    __lt__ = __le__ = __gt__ = __ge__ = _compare

    def __bool__(self):
        raise fail("a traced value has no truth value: steps cannot branch on data")

    def __float__(self):
        raise fail(
            "a traced value is not a Python number: use linac's exp, log, sigmoid, tanh, sqrt, "
            "sum and outer instead of math or numpy functions"
        )

    __int__ = __index__ = __complex__ = __float__

    def __len__(self):
        raise fail("len() of a traced value: use x.shape")

    def __iter__(self):
        raise fail("a traced value cannot be iterated over")

    def __array__(self, *args, **kwargs):
        raise fail(
            "a traced value is not a numpy array: use linac's exp, log, sigmoid, tanh, sqrt, sum "
            "and outer instead of numpy functions"
        )

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        operators = {
            np.add: "+",
            np.subtract: "-",
            np.multiply: "*",
            np.true_divide: "/",
        }
        if method == "__call__" and ufunc in operators and len(inputs) == 2 and not kwargs:
            return binary(operators[ufunc], *inputs)
        if method == "__call__" and ufunc is np.matmul and len(inputs) == 2 and not kwargs:
            return matmul(*inputs)
        raise fail(
            f"numpy's {ufunc.__name__} is not part of the step language: use linac's exp, log, "
            "sigmoid, tanh, sqrt, sum and outer"
        )

    def __array_function__(self, func, types, args, kwargs):
        raise fail(
            f"numpy.{func.__name__} is not part of the step language: use linac's exp, log, "
            "sigmoid, tanh, sqrt, sum and outer"
        )

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise fail(
            f".{name} is not part of the step language (a step value has .T and .shape; use "
            "linac's exp, log, sigmoid, tanh, sqrt, sum and outer)"
        )


def as_value(x, tracer: Tracer):
    """A Value or Broadcast for an operand: numbers become f32 constants."""
    if isinstance(x, (Value, Broadcast)):
        return x
    if _is_number(x):
        return tracer.constant(float(x))
    raise fail(
        f"a {type(x).__name__} cannot be used in a step: only step values and numbers "
        "(arrays are inputs of the call, not constants of the step)"
    )


def _tracer_of(*operands) -> Tracer:
    for x in operands:
        if isinstance(x, Value):
            return x.tracer
        if isinstance(x, Broadcast):
            return x.vector.tracer
    raise AssertionError("no traced operand")


def unary(op: str, x: Value, position) -> Value:
    return x.tracer.op(x.shape, f"{op} {x.name} : {x.type}", position)


def outer_product(a: Value, b: Value, position) -> Value:
    shape = (a.shape[0], b.shape[0])
    return a.tracer.op(
        shape,
        f"linac.outer {a.name}, {b.name} : {a.type}, {b.type} -> {tensor_type(shape)}",
        position,
    )


def matvec(m: Value, x: Value, position) -> Value:
    shape = (m.shape[0],)
    return m.tracer.op(
        shape,
        f"linac.matvec {m.name}, {x.name} : {m.type}, {x.type} -> {tensor_type(shape)}",
        position,
    )


def transpose(m: Value, position) -> Value:
    shape = (m.shape[1], m.shape[0])
    return m.tracer.op(
        shape, f"linac.transpose {m.name} : {m.type} -> {tensor_type(shape)}", position
    )


def scale(t: Value, factor: Value, position) -> Value:
    return t.tracer.op(t.shape, f"linac.scale {t.name}, {factor.name} : {t.type}", position)


def scale_rows(m: Value, factors: Value, position) -> Value:
    return m.tracer.op(
        m.shape,
        f"linac.scale_rows {m.name}, {factors.name} : {m.type}, {factors.type}",
        position,
    )


def splat(s: Value, shape: tuple, position) -> Value:
    """A scalar broadcast to a tensor of ``shape``."""
    if s.constant is not None:
        return s.tracer.constant(s.constant, shape)
    return scale(s.tracer.constant(1.0, shape), s, position)


def dot(a: Value, b: Value, position) -> Value:
    """a . b of two vectors, as a scalar: (one row [1, n] holding a) @ b."""
    tracer = a.tracer
    row = outer_product(tracer.constant(1.0, (1,)), a, position)
    product = matvec(row, b, position)
    zero = tracer.index_zero()
    return tracer.op((), f"tensor.extract {product.name}[{zero}] : {product.type}", position)


def _mismatch(symbol: str, a, b, position, hint: str = "") -> StepError:
    names = operand_texts(position, 2) or ["left", "right"]
    return fail(
        f"cannot {_VERBS.get(symbol, 'combine')} shapes {shape_text(a.shape)} ({names[0]}) and "
        f"{shape_text(b.shape)} ({names[1]}){hint}",
        position,
    )


def binary(symbol: str, a, b):
    """``a symbol b`` with numpy's broadcasting of scalars and of x[:, None] / x[None, :]."""
    position = user_position()
    tracer = _tracer_of(a, b)
    a, b = as_value(a, tracer), as_value(b, tracer)
    mlir_op, fold = _BINARY[symbol]

    if isinstance(a, Broadcast) or isinstance(b, Broadcast):
        return _binary_broadcast(symbol, a, b, position)

    if a.constant is not None and b.constant is not None and not a.shape and not b.shape:
        with np.errstate(all="ignore"):
            return tracer.constant(float(fold(np.float32(a.constant), np.float32(b.constant))))
    if not a.shape and not b.shape:
        return tracer.op((), f"{mlir_op} {a.name}, {b.name} : f32", position)
    if not a.shape or not b.shape:
        tensor, scalar = (b, a) if not a.shape else (a, b)
        if symbol == "*":
            return scale(tensor, scalar, position)
        s = splat(scalar, tensor.shape, position)
        a, b = (s, b) if not a.shape else (a, s)
    if a.shape != b.shape:
        hint = ""
        if {a.ndim, b.ndim} == {1, 2}:
            hint = (
                ": vectors do not broadcast against matrices implicitly; write x[:, None] to "
                "scale rows or x[None, :] to scale columns"
            )
        raise _mismatch(symbol, a, b, position, hint)
    return tracer.op(a.shape, f"{mlir_op} {a.name}, {b.name} : {a.type}", position)


def _binary_broadcast(symbol: str, a, b, position):
    # Both broadcast vectors.
    if isinstance(a, Broadcast) and isinstance(b, Broadcast):
        if a.axis == b.axis:
            if a.vector.shape != b.vector.shape:
                raise _mismatch(symbol, a, b, position)
            return Broadcast(binary(symbol, a.vector, b.vector), a.axis, position)
        column, row = (a, b) if a.axis == 1 else (b, a)
        shape = (column.vector.shape[0], row.vector.shape[0])
        if symbol == "*":
            return outer_product(column.vector, row.vector, position)
        return binary(symbol, a.materialize(shape, position), b.materialize(shape, position))
    broadcast, other = (a, b) if isinstance(a, Broadcast) else (b, a)
    if not other.shape:
        vector = (
            binary(symbol, broadcast.vector, other)
            if broadcast is a
            else binary(symbol, other, broadcast.vector)
        )
        return Broadcast(vector, broadcast.axis, position)
    if other.ndim == 1:
        if broadcast.axis == 0:
            if broadcast.vector.shape != other.shape:
                raise _mismatch(symbol, a, b, position)
            vector = (
                binary(symbol, broadcast.vector, other)
                if broadcast is a
                else binary(symbol, other, broadcast.vector)
            )
            return Broadcast(vector, 0, position)
        # [n, 1] with [m]: an [n, m] matrix.
        shape = (broadcast.vector.shape[0], other.shape[0])
        if symbol == "*":
            return outer_product(broadcast.vector, other, position)
        row = Broadcast(other, 0, position)
        full = broadcast.materialize(shape, position), row.materialize(shape, position)
        return binary(symbol, *(full if broadcast is a else full[::-1]))
    # With a matrix: rows (axis 1) or columns (axis 0) must match.
    n = broadcast.vector.shape[0]
    if other.shape[1 - broadcast.axis] != n:
        raise _mismatch(symbol, a, b, position)
    if symbol == "*":
        if broadcast.axis == 1:
            return scale_rows(other, broadcast.vector, position)
        return transpose(
            scale_rows(transpose(other, position), broadcast.vector, position), position
        )
    full = broadcast.materialize(other.shape, position)
    return binary(symbol, full, other) if broadcast is a else binary(symbol, other, full)


def matmul(a, b):
    position = user_position()
    tracer = _tracer_of(a, b)
    a, b = as_value(a, tracer), as_value(b, tracer)
    if isinstance(a, Broadcast) or isinstance(b, Broadcast):
        raise fail("@ of a broadcast vector: use x[:, None] and x[None, :] elementwise only")
    if a.ndim == 2 and b.ndim == 1 and a.shape[1] == b.shape[0]:
        return matvec(a, b, position)
    if a.ndim == 1 and b.ndim == 2 and a.shape[0] == b.shape[0]:
        return matvec(transpose(b, position), a, position)
    if a.ndim == 1 and b.ndim == 1 and a.shape == b.shape:
        return dot(a, b, position)
    if a.ndim == 2 and b.ndim == 2:
        raise fail("matrix @ matrix is not part of the step language (a step is O(K V))", position)
    names = operand_texts(position, 2) or ["left", "right"]
    raise fail(
        f"cannot multiply shapes {shape_text(a.shape)} ({names[0]}) @ {shape_text(b.shape)} "
        f"({names[1]})",
        position,
    )


def is_traced(x) -> bool:
    return isinstance(x, (Value, Broadcast))


__all__ = [
    "Broadcast",
    "Position",
    "SequentialWarning",
    "StepError",
    "Tracer",
    "Value",
    "binary",
    "dot",
    "fail",
    "is_traced",
    "matmul",
    "matvec",
    "outer_product",
    "scale",
    "splat",
    "transpose",
    "unary",
    "user_position",
]
