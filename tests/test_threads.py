"""The one-thread BLAS limit around an iteration's small matrix algebra."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from sklearn_dpgmm import DPGaussianMixture, _estimator
from sklearn_dpgmm._threads import serial_blas


def blas_threads():
    return sorted(
        i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"
    )


def test_serial_blas_limits_and_restores():
    # Guards the context manager itself: one thread inside (also when nested,
    # and after an inner block ends), the caller's setting after, also when
    # the block raises.
    with threadpool_limits(limits=2, user_api="blas"):
        assert set(blas_threads()) == {2}
        with serial_blas():
            assert set(blas_threads()) == {1}
            with serial_blas():
                assert set(blas_threads()) == {1}
            assert set(blas_threads()) == {1}
        assert set(blas_threads()) == {2}
        with pytest.raises(RuntimeError), serial_blas():
            raise RuntimeError
        assert set(blas_threads()) == {2}


def test_overlapping_limits_restore_the_setting():
    # Guards the reference count with the interleaving two concurrent fits can
    # produce: A enters, B enters, A leaves (B still needs one thread), B
    # leaves (the caller's two threads are back). Saving and restoring per
    # block would restore A's one-thread limit at the end. (Driven from one
    # Python thread: whether a limit set in one thread shows in another
    # depends on the BLAS build.)
    with threadpool_limits(limits=2, user_api="blas"):
        a, b = serial_blas(), serial_blas()
        a.__enter__()
        b.__enter__()
        a.__exit__(None, None, None)
        assert set(blas_threads()) == {1}
        b.__exit__(None, None, None)
        assert set(blas_threads()) == {2}


def test_fit_runs_small_algebra_on_one_thread_and_restores(monkeypatch):
    # Guards where the limit applies: the M-step (small (d, d) algebra) sees
    # one BLAS thread, the passes over X see the caller's setting, and a fit
    # leaves the setting as it found it.
    seen = {"m_step": set(), "statistics": set()}
    m_step, statistics = _estimator.m_step, _estimator._exact_statistics

    def spy_m_step(*args, **kwargs):
        seen["m_step"].update(blas_threads())
        return m_step(*args, **kwargs)

    def spy_statistics(*args, **kwargs):
        seen["statistics"].update(blas_threads())
        return statistics(*args, **kwargs)

    monkeypatch.setattr(_estimator, "m_step", spy_m_step)
    monkeypatch.setattr(_estimator, "_exact_statistics", spy_statistics)
    X = np.random.default_rng(0).normal(size=(300, 3))
    with threadpool_limits(limits=2, user_api="blas"):
        DPGaussianMixture(2, bounds=(-4, 4), compute_kl=False, random_state=0).fit(X)
        assert set(blas_threads()) == {2}
    assert seen == {"m_step": {1}, "statistics": {2}}


def test_concurrent_fits_restore_the_setting():
    # Guards the reference count: fits overlapping in several Python threads
    # must not leave BLAS limited to one thread (a naive save/restore per fit
    # can restore another fit's limit) and must give the results of
    # sequential fits.
    X = np.random.default_rng(1).normal(size=(2000, 4))

    def fit(seed):
        model = DPGaussianMixture(
            3, bounds=(-4, 4), compute_kl=False, random_state=seed
        ).fit(X)
        return model.means_

    with threadpool_limits(limits=2, user_api="blas"):
        with ThreadPoolExecutor(4) as pool:
            parallel = list(pool.map(fit, range(8)))
        assert set(blas_threads()) == {2}
    # Products may be split differently over threads: equal up to rounding.
    for seed, means in enumerate(parallel):
        np.testing.assert_allclose(means, fit(seed), rtol=1e-9, atol=1e-12)
