"""Sensitivity of the released statistics: every bound holds and is tight.

The privacy guarantee rests on one claim per statistic group: after each
component's block is divided by its scale, adding or removing one record moves
the group by at most 1 in L2 norm. These tests check the claim on random data,
random boxes, random neighbours and random released parameters, and check that
a worst-case record reaches the bound, so that a bound that is too loose (and
wastes budget) is caught as well as one that is too tight (and leaks).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_dpgmm import _gaussian
from sklearn_dpgmm._estimator import _exact_statistics
from sklearn_dpgmm._gaussian import (
    COVARIANCE_TYPES,
    estep_blocks,
    log_resp_blocks,
    precision_cholesky,
)
from sklearn_dpgmm._geometry import Box
from sklearn_dpgmm._mstep import MixtureParams
from sklearn_dpgmm._statistics import (
    GROUPS,
    accumulate,
    add_noise,
    clip_radius,
    empty_statistics,
    noise_scales,
    noise_stds,
    record_terms,
    whitening,
)

# Relative slack for floating-point rounding in the sums of squares.
ROUNDING = 1e-9


def random_params(rng, k, d, covariance_type, half_widths):
    """Released parameters as the M-step could produce them (normalised units)."""
    weights = rng.dirichlet(np.ones(k))
    means = rng.uniform(-half_widths, half_widths, size=(k, d))
    scale = 10 ** rng.uniform(-2, 0)
    if covariance_type == "full":
        a = rng.normal(size=(k, d, d)) * scale
        cov = a @ np.swapaxes(a, 1, 2) + 1e-3 * np.eye(d)
    elif covariance_type == "tied":
        a = rng.normal(size=(d, d)) * scale
        cov = a @ a.T + 1e-3 * np.eye(d)
    elif covariance_type == "diag":
        cov = rng.uniform(1e-3, 1.0, size=(k, d)) * scale
    else:
        cov = rng.uniform(1e-3, 1.0, size=k) * scale
    return MixtureParams(weights, means, cov)


def responsibilities(z, params, covariance_type):
    prec = precision_cholesky(params.covariances, covariance_type)
    blocks = log_resp_blocks(z, params.weights, params.means, prec, covariance_type)
    return np.concatenate([np.exp(w - ln[:, None]) for _, w, ln in blocks])


def group_norms(terms):
    """L2 norm of each record's (already rescaled) contribution, per group."""
    return {g: np.linalg.norm(getattr(terms, g), axis=1) for g in GROUPS}


def whitens_of(params, covariance_type):
    k, d = params.means.shape
    prec = precision_cholesky(params.covariances, covariance_type)
    return whitening(prec, covariance_type, k, d)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    covariance_type=st.sampled_from(COVARIANCE_TYPES),
    k=st.integers(1, 4),
    d=st.integers(1, 5),
)
def test_one_record_moves_each_group_by_at_most_one(seed, covariance_type, k, d):
    # Guards the core privacy claim: for records anywhere in the box and any
    # released parameters, one record's rescaled contribution to each group
    # has L2 norm <= 1 (the sensitivity the noise is calibrated to).
    rng = np.random.default_rng(seed)
    lower = rng.uniform(-10, 0, size=d)
    upper = lower + rng.uniform(0.1, 10, size=d)
    box = Box.from_bounds(lower, upper, covariance_type)
    # Records well outside the box too: they are clipped into it first.
    X = rng.uniform(lower - 5, upper + 5, size=(40, d))
    z = box.to_z(X)
    params = random_params(rng, k, d, covariance_type, box.half_widths)
    resp = responsibilities(z, params, covariance_type)
    radius = clip_radius(d, noisy=True)
    terms = record_terms(
        z,
        resp,
        params.means,
        whitens_of(params, covariance_type),
        radius,
        covariance_type,
    )
    for group, norms in group_norms(terms).items():
        assert np.all(norms <= 1.0 + ROUNDING), (group, norms.max())


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("n_remove", [0, 1])
def test_neighbouring_data_sets_differ_by_at_most_one(covariance_type, n_remove):
    # Guards the claim end to end through the estimator's own statistics
    # routine (clipping into the box, normalising, whitening, block sums):
    # the statistics of X and of X with one record added (or removed) differ,
    # once rescaled, by at most 1 per group.
    rng = np.random.default_rng(7)
    d, k = 3, 3
    lower, upper = np.full(d, -2.0), np.full(d, 3.0)
    box = Box.from_bounds(lower, upper, covariance_type)
    X = rng.normal(size=(200, d))
    params = random_params(rng, k, d, covariance_type, box.half_widths)
    radius = clip_radius(d, noisy=True)
    scales = noise_scales(radius)
    # Candidate extra records: random, far corners and points outside the box.
    candidates = np.concatenate(
        [rng.uniform(-6, 7, size=(30, d)), np.array([lower, upper, [9, -9, 9]])]
    )
    base, _ = _exact_statistics(X, box, params, radius, covariance_type)
    for record in candidates:
        if n_remove:
            other = X[1:]
            record = X[0]
        else:
            other = np.vstack([X, record])
        moved, _ = _exact_statistics(other, box, params, radius, covariance_type)
        for group, scale in zip(
            GROUPS, (scales.counts, scales.first, scales.second), strict=True
        ):
            change = getattr(moved, group) - getattr(base, group)
            if group == "second" and covariance_type in ("full", "tied"):
                iu = np.triu_indices(d)
                change = change[..., iu[0], iu[1]]
            norm = np.linalg.norm(change) / scale
            assert norm <= 1.0 + ROUNDING, (group, norm)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_worst_case_record_reaches_the_bound(covariance_type):
    # Guards against a sensitivity that is too loose: a record that one
    # component claims entirely, lying along a whitened axis beyond the
    # clipping radius, moves the first and second moments by exactly their
    # bound and the counts by exactly 1 (within 1%).
    d, k = 3, 2
    means = np.array([[-0.5, 0.0, 0.0], [0.9, 0.9, 0.9]])
    var = 0.01
    cov = {
        "full": np.stack([np.eye(d) * var] * k),
        "tied": np.eye(d) * var,
        "diag": np.full((k, d), var),
        "spherical": np.full(k, var),
    }[covariance_type]
    params = MixtureParams(np.array([0.5, 0.5]), means, cov)
    radius = clip_radius(d, noisy=True)
    # Along the first axis, radius+1 standard deviations from component 0 and
    # far from component 1: responsibility ~ one-hot, deviation clipped.
    z = means[:1] + np.array([[(radius + 1.0) * np.sqrt(var), 0.0, 0.0]])
    resp = responsibilities(z, params, covariance_type)
    assert resp[0, 0] > 0.9999
    terms = record_terms(
        z,
        resp,
        params.means,
        whitens_of(params, covariance_type),
        radius,
        covariance_type,
    )
    for group, norms in group_norms(terms).items():
        assert norms[0] >= 0.99, (group, norms[0])
        assert norms[0] <= 1.0 + ROUNDING, (group, norms[0])


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_record_terms_match_accumulated_statistics(covariance_type):
    # Guards the test machinery itself: the per-record terms used above must
    # sum to what accumulate() releases, otherwise the sensitivity tests would
    # check a different quantity from the one that receives noise.
    rng = np.random.default_rng(3)
    d, k = 4, 3
    z = rng.uniform(-1, 1, size=(50, d))
    params = random_params(rng, k, d, covariance_type, np.ones(d))
    resp = responsibilities(z, params, covariance_type)
    whitens = whitens_of(params, covariance_type)
    radius = clip_radius(d, noisy=True)
    stats = accumulate(
        empty_statistics(covariance_type, k, d),
        z,
        resp,
        params.means,
        whitens,
        radius,
        covariance_type,
    )
    terms = record_terms(z, resp, params.means, whitens, radius, covariance_type)
    scales = noise_scales(radius)
    np.testing.assert_allclose(terms.counts.sum(0), stats.counts, rtol=1e-12)
    np.testing.assert_allclose(
        terms.first.sum(0) * scales.first, stats.first.ravel(), rtol=1e-10
    )
    second = stats.second
    if covariance_type in ("full", "tied"):
        iu = np.triu_indices(d)
        second = second[..., iu[0], iu[1]]
    np.testing.assert_allclose(
        terms.second.sum(0) * scales.second, second.ravel(), rtol=1e-10
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize(("k", "d"), [(3, 4), (2, 20)])
def test_estep_blocks_feed_accumulate_exactly(monkeypatch, covariance_type, k, d):
    # Guards the path a fit takes (_exact_statistics): accumulate() given,
    # block by block, the E-step's squared distances (clip factors) and its
    # centred rows and squares instead of recomputing them. The sums must
    # equal the per-record terms computed one component at a time. Blocks of
    # 7 rows put block edges inside the data; (2, 20) takes the two-component
    # product layout. The box [-1, 1]^d leaves z as it is.
    monkeypatch.setattr(_gaussian, "TEMP_BYTES", 8)
    monkeypatch.setattr(_gaussian, "MIN_BLOCK_ROWS", 7)
    monkeypatch.setattr(_gaussian, "MIN_BLOCKS", 1)
    rng = np.random.default_rng(11)
    z = rng.uniform(-1, 1, size=(60, d))
    box = Box.from_bounds(-np.ones(d), np.ones(d), covariance_type)
    params = random_params(rng, k, d, covariance_type, np.ones(d))
    radius = clip_radius(d, noisy=True)
    stats, whitens = _exact_statistics(z, box, params, radius, covariance_type)
    prec = precision_cholesky(params.covariances, covariance_type)
    resp = []
    for block in estep_blocks(z, params.weights, params.means, prec, covariance_type):
        assert (block.expanded is None) == (covariance_type == "full")
        resp.append(block.resp)
    resp = np.concatenate(resp)
    terms = record_terms(z, resp, params.means, whitens, radius, covariance_type)
    scales = noise_scales(radius)
    np.testing.assert_allclose(stats.counts, terms.counts.sum(0), rtol=1e-12)
    np.testing.assert_allclose(
        stats.first.ravel(), terms.first.sum(0) * scales.first, rtol=1e-9
    )
    second = stats.second
    if covariance_type in ("full", "tied"):
        iu = np.triu_indices(d)
        second = second[..., iu[0], iu[1]]
    np.testing.assert_allclose(
        second.ravel(), terms.second.sum(0) * scales.second, rtol=1e-9, atol=1e-9
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_noise_has_the_stated_standard_deviation(covariance_type):
    # Guards the calibration of the Gaussian mechanism: the noise actually
    # added to each released coordinate has the std the accounting assumes,
    # and symmetric matrices stay symmetric. 4000 draws give a relative
    # standard error of the std of about 1.1%, so 5% is over 4 standard errors.
    rng = np.random.default_rng(11)
    d, k, n_draws = 3, 2, 4000
    stats = empty_statistics(covariance_type, k, d)
    stds = noise_stds([2.0, 3.0, 5.0], noise_scales(1.5))
    draws = [add_noise(stats, stds, covariance_type, rng) for _ in range(n_draws)]
    for group, expected in zip(
        GROUPS, (stds.counts, stds.first, stds.second), strict=True
    ):
        values = np.stack([getattr(s, group) for s in draws])
        if group == "second" and covariance_type in ("full", "tied"):
            np.testing.assert_array_equal(values, np.swapaxes(values, -1, -2))
            iu = np.triu_indices(d)
            values = values[..., iu[0], iu[1]]
        measured = values.reshape(n_draws, -1).std(axis=0)
        np.testing.assert_allclose(measured, expected, rtol=0.05)


def test_no_noise_means_no_clipping():
    # Guards the epsilon=inf path: without noise the radius is infinite, so
    # the statistics are exact and scikit-learn's EM is reproduced.
    assert clip_radius(3, noisy=False) == np.inf
    stds = noise_stds([0.0, 0.0, 0.0], noise_scales(np.inf))
    assert (stds.counts, stds.first, stds.second) == (0.0, 0.0, 0.0)
