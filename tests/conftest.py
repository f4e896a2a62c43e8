"""Shared test configuration."""

import pytest
from threadpoolctl import threadpool_limits


# The fits in this suite make many tiny linear-algebra calls (2x2 to 10x10
# Cholesky factors and solves). A multi-threaded BLAS only adds thread
# start-up cost to those, and on a loaded two-core machine it made modules
# four to ten times slower. One BLAS thread keeps the run time predictable;
# the numbers computed are the same.
@pytest.fixture(autouse=True, scope="session")
def _single_blas_thread():
    with threadpool_limits(limits=1, user_api="blas"):
        yield
