"""linac: a compiler for linear recurrences on tiles.

- `linac.ops`: the op library (flash-linear-attention's signatures).
- `linac.reference`: float64 step-by-step references.
- `python -m linac demo`: compile every built-in op, run and check them.
"""

from . import _linac, ops, reference
from ._runtime import CompileError, clear_memory_cache, get_kernel

__version__ = _linac.version

__all__ = ["CompileError", "__version__", "clear_memory_cache", "get_kernel", "ops", "reference"]
