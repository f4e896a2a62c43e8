"""One BLAS thread for the small dense linear algebra of an EM iteration.

Between two passes over the data, a fit does a few dozen tiny LAPACK and BLAS
calls on (d, d) matrices: Cholesky factors and their inverses, eigen
decompositions, small solves. With OpenBLAS's default of one thread per core,
each such call may wake a sleeping worker thread, and numpy and scipy each
bring their own OpenBLAS with its own workers, which then compete for the
cores. On the 2-core benchmark machine this made a 10 x 10 triangular solve
take 0.5-13 ms instead of 13 us, and a whole fit (n = 2e5, d = 10, k = 8,
full) 2.4 times slower with the default threads than with one. The large
matrix products of the E-step gain from threads and keep them; only the small
algebra runs under :func:`serial_blas`.

The limit is process-wide (threadpoolctl changes the libraries' settings), so
fits running in several Python threads share one reference-counted limit: the
first to enter sets it, the last to leave restores what was there before.
Whether a limit set from a worker thread takes effect depends on the BLAS
build: with the OpenBLAS of the numpy 2.4 and scipy 1.17 wheels it did not
once the main thread had set its own limit. Such fits then run at the
caller's setting, which costs time but changes no result.
"""

import contextlib
import threading

from threadpoolctl import ThreadpoolController

_lock = threading.Lock()
_state = {"controller": None, "limiter": None, "depth": 0}


@contextlib.contextmanager
def serial_blas():
    """Limit every loaded BLAS library to one thread inside the block."""
    with _lock:
        if _state["depth"] == 0:
            if _state["controller"] is None:
                # Created on first use, once numpy and scipy have loaded their
                # BLAS libraries.
                _state["controller"] = ThreadpoolController()
            _state["limiter"] = _state["controller"].limit(limits=1, user_api="blas")
        _state["depth"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["depth"] -= 1
            if _state["depth"] == 0:
                _state["limiter"].restore_original_limits()
                _state["limiter"] = None
