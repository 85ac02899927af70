"""Imported once by the forkserver that the playground's workers are forked from, never elsewhere.

Building a session and training it one epoch imports everything a session needs (PyTorch's
optimizer pulls in its compiler stack on its first step: about 2.3 s on the reference machine),
so every worker forked afterwards starts warm and its first session opens at once. The workers'
own module (and with it the comparison's scikit-learn) is preloaded beside it for the same reason
(`workers.preloaded_context`); it is not imported here, since the workers import this module.
"""

from .. import budget
from .session import Session

# One thread, as in the workers: no OpenMP team is started here, so none is inherited half-made.
with budget.threads(1):
    Session().step()
