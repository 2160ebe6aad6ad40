"""linac: a compiler for linear recurrences on tiles.

- `linac.ops`: the op library (flash-linear-attention's signatures).
- `linac.recurrence`: write one step of a new recurrence in Python (docs/dsl.md), with the
  step language's `exp`, `log`, `sigmoid`, `tanh`, `sqrt`, `sum` and `outer`.
- `linac.reference`: float64 step-by-step references.
- `python -m linac demo`: compile every built-in op, run and check them.
"""

from . import _linac, ops, reference
from ._runtime import CompileError, clear_memory_cache, get_kernel
from ._tensors import release_output_pool
from .dsl import (
    Recurrence,
    SequentialWarning,
    StepError,
    exp,
    log,
    outer,
    recurrence,
    sigmoid,
    sqrt,
    sum,
    tanh,
)

__version__ = _linac.version

__all__ = [
    "CompileError",
    "Recurrence",
    "SequentialWarning",
    "StepError",
    "__version__",
    "clear_memory_cache",
    "exp",
    "get_kernel",
    "log",
    "ops",
    "outer",
    "recurrence",
    "reference",
    "release_output_pool",
    "sigmoid",
    "sqrt",
    "sum",
    "tanh",
]
