"""The budget split: it spends exactly the budget, and its KL model is right."""

from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture

from sklearn_dpgmm._allocation import (
    expected_kl,
    iteration_budgets,
    kl_coefficients,
    split_iteration,
)
from sklearn_dpgmm._estimator import _exact_statistics, _whitened_shift_sq
from sklearn_dpgmm._gaussian import COVARIANCE_TYPES, precision_cholesky
from sklearn_dpgmm._geometry import Box
from sklearn_dpgmm._mstep import MixtureParams, m_step
from sklearn_dpgmm._statistics import NoiseScales, add_noise
from sklearn_dpgmm.kl import kl_mixture_upper_bound

NO_NOISE = NoiseScales(0.0, 0.0, 0.0)


@pytest.mark.parametrize("allocation", ["uniform", "kl"])
def test_split_spends_exactly_the_iteration_budget(allocation):
    # Guards the accounting of a split: the per-group GDP parameters of an
    # iteration compose (root sum of squares) to exactly that iteration's share.
    rng = np.random.default_rng(0)
    for _ in range(20):
        mu_t = rng.uniform(0.01, 5)
        coefficients = rng.uniform(0.1, 100, size=3)
        scales = np.array([1.0, *rng.uniform(1, 10, size=2)])
        mus = split_iteration(mu_t, coefficients, scales, allocation)
        np.testing.assert_allclose(np.sqrt(np.sum(mus**2)), mu_t, rtol=1e-12)
    budgets = iteration_budgets(2.0, 7)
    np.testing.assert_allclose(np.sqrt(np.sum(budgets**2)), 2.0, rtol=1e-12)


def test_kl_split_is_the_constrained_minimum():
    # Guards the closed form: no random split of the same budget has a lower
    # expected KL than the "kl" split.
    rng = np.random.default_rng(1)
    coefficients = np.array([3.0, 40.0, 900.0])
    scales = np.array([1.0, 3.0, 9.0])
    best = split_iteration(1.0, coefficients, scales, "kl")

    def cost(mus):
        return expected_kl(coefficients, scales / mus, 1000)

    for _ in range(200):
        shares = rng.dirichlet(np.ones(3))
        assert cost(best) <= cost(np.sqrt(shares)) * (1 + 1e-12)


def _converged_setting(covariance_type):
    """Data, box and a converged non-private fit in normalised units."""
    rng = np.random.default_rng(5)
    centres = [[-3.0, 0.0, 1.0], [2.0, 2.0, -1.0], [0.0, -3.0, 0.0]]
    X = np.concatenate(
        [
            rng.normal(m, s, size=(n, 3))
            for m, s, n in zip(centres, [1, 0.6, 0.8], [3000, 2000, 1000], strict=True)
        ]
    )
    box = Box.from_bounds(np.full(3, -8.0), np.full(3, 8.0), covariance_type)
    fit = GaussianMixture(
        3, covariance_type=covariance_type, random_state=0, tol=1e-10, max_iter=500
    ).fit(X)
    params = box.params_to_z(
        MixtureParams(fit.weights_, fit.means_, fit.covariances_), covariance_type
    )
    return X, box, params


def _as_mixture(params, covariance_type):
    return SimpleNamespace(
        weights_=params.weights,
        means_=params.means,
        covariances_=params.covariances,
        covariance_type=covariance_type,
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_expected_kl_matches_monte_carlo(covariance_type):
    # Guards the second-order KL model that allocation="kl" minimises,
    # including the coupling through noisy counts: for small noise its
    # prediction of the paired KL bound between the noise-free and the noisy
    # update agrees with a Monte Carlo average over the noise within 20%.
    # (200 draws of a sum of many squared Gaussian terms: the Monte Carlo mean
    # has a relative standard error of a few percent.)
    X, box, params = _converged_setting(covariance_type)
    d = X.shape[1]
    ct = covariance_type
    stats, whitens = _exact_statistics(X, box, params, np.inf, ct)
    reg = np.zeros(d)

    def update(s):
        return m_step(s, params.means, whitens, ct, box.half_widths, NO_NOISE, 0.0, reg)

    exact = update(stats)
    # Noise small enough that the M-step's clipping never acts, with a
    # noticeable count share so that the coupling terms matter.
    stds = NoiseScales(3.0, 2.0, 4.0)
    rng = np.random.default_rng(9)
    kls = [
        kl_mixture_upper_bound(
            _as_mixture(exact, ct),
            _as_mixture(update(add_noise(stats, stds, ct, rng)), ct),
        )
        for _ in range(200)
    ]
    predicted = expected_kl(
        kl_coefficients(
            exact.weights,
            _whitened_shift_sq(
                params, precision_cholesky(params.covariances, ct), exact, ct
            ),
            d,
            ct,
        ),
        [stds.counts, stds.first, stds.second],
        stats.counts.sum(),
    )
    assert np.mean(kls) == pytest.approx(predicted, rel=0.2)
