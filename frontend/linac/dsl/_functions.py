"""The functions of the step language: exp, log, sigmoid, tanh, sqrt, sum and outer.

On traced values they emit IR; on plain numbers they compute the number (so constants fold)."""

from __future__ import annotations

import math

from ._trace import (
    Broadcast,
    Value,
    as_value,
    binary,
    dot,
    fail,
    is_traced,
    matvec,
    outer_product,
    shape_text,
    transpose,
    unary,
    user_position,
)


def _elementwise(name: str, mlir_op: str, number_fn):
    def function(x):
        if not is_traced(x):
            return number_fn(float(x))
        if isinstance(x, Broadcast):
            return Broadcast(function(x.vector), x.axis, x.position)
        if x.constant is not None:
            return x.tracer.constant(number_fn(x.constant), x.shape)
        return unary(mlir_op, x, user_position())

    function.__name__ = name
    function.__qualname__ = name
    function.__doc__ = (
        f"{name}(x), element by element, of a step value (scalar, vector or matrix) or a number."
    )
    return function


exp = _elementwise("exp", "math.exp", math.exp)
log = _elementwise("log", "math.log", math.log)
tanh = _elementwise("tanh", "math.tanh", math.tanh)
sqrt = _elementwise("sqrt", "math.sqrt", math.sqrt)


def sigmoid(x):
    """1 / (1 + exp(-x)), element by element, of a step value or a number."""
    if not is_traced(x):
        return 1.0 / (1.0 + math.exp(-float(x)))
    return 1.0 / (1.0 + exp(-x))


def outer(a, b):
    """The outer product a b^T of two vectors: a [n] x [m] matrix."""
    position = user_position()
    if not (isinstance(a, Value) and isinstance(b, Value) and a.ndim == 1 and b.ndim == 1):
        shapes = [shape_text(x.shape) if is_traced(x) else type(x).__name__ for x in (a, b)]
        raise fail(f"outer takes two vectors, got {shapes[0]} and {shapes[1]}", position)
    return outer_product(a, b, position)


def sum(x, axis: int | None = None):
    """The sum of a vector or matrix (a scalar), or of a matrix along ``axis`` (0: over rows,
    giving one value per column; 1: over columns, one per row)."""
    position = user_position()
    if not isinstance(x, Value) or x.ndim == 0:
        what = shape_text(x.shape) if is_traced(x) else type(x).__name__
        raise fail(f"sum takes a vector or a matrix, got {what}", position)
    tracer = x.tracer
    if x.ndim == 1:
        if axis not in (None, 0):
            raise fail(f"a vector has no axis {axis}", position)
        return dot(x, tracer.constant(1.0, x.shape), position)
    rows, cols = x.shape
    if axis is None:
        return sum(matvec(x, tracer.constant(1.0, (cols,)), position))
    if axis == 1:
        return matvec(x, tracer.constant(1.0, (cols,)), position)
    if axis == 0:
        return matvec(transpose(x, position), tracer.constant(1.0, (rows,)), position)
    raise fail(f"a matrix has axes 0 and 1, got axis={axis}", position)


__all__ = ["as_value", "binary", "exp", "log", "outer", "sigmoid", "sqrt", "sum", "tanh"]
