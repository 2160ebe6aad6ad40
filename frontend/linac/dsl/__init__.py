"""The recurrence DSL: write one step of a recurrence in Python, get a linac kernel.

    import linac
    from linac import exp, outer

    @linac.recurrence
    def kda(q, k, v, g, beta, S, *, scale):
        S = exp(g)[:, None] * S                  # per-key-channel decay
        S = S + beta * outer(k, v - S.T @ k)     # delta rule
        return S, scale * (S.T @ q)              # new state, output

    o, final_state = kda(q, k, v, g, beta, scale=0.25, initial_state=h0, output_final_state=True)

See docs/dsl.md.
"""

from ._functions import exp, log, outer, sigmoid, sqrt, sum, tanh
from ._recurrence import ROLES, Recurrence, recurrence
from ._trace import SequentialWarning, StepError

__all__ = [
    "ROLES",
    "Recurrence",
    "SequentialWarning",
    "StepError",
    "exp",
    "log",
    "outer",
    "recurrence",
    "sigmoid",
    "sqrt",
    "sum",
    "tanh",
]
