"""Tests for sklearn_dpgmm._gaussian: blocked Gaussian densities and E-step.

Reference values come from two independent implementations: scikit-learn's
``GaussianMixture`` (score_samples, predict_proba, precisions_cholesky_) and
``scipy.stats.multivariate_normal.logpdf``. Every routine here is exact in
exact arithmetic, so the tolerances only absorb float64 rounding; a wrong
formula (a missing factor, a transposed factor, a wrong block offset) moves
the results by O(1) and fails by many orders of magnitude.
"""

import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp
from sklearn.mixture import GaussianMixture

from sklearn_dpgmm import _gaussian
from sklearn_dpgmm._gaussian import (
    COVARIANCE_TYPES,
    block_rows,
    covariances_from_precision_cholesky,
    estep_blocks,
    full_covariances,
    log_gaussian_prob,
    log_resp_blocks,
    precision_cholesky,
    precisions_from_cholesky,
)

# Log densities here are O(1) to O(100) and come out of Cholesky factors of
# matrices with condition numbers below ~1e2; float64 rounding then leaves
# relative differences around 1e-13 between implementations. 1e-9 keeps a
# wide margin above that and is still 1e8 times below any formula error.
RTOL = 1e-9
ATOL = 1e-9


# Helpers --------------------------------------------------------------------


def random_covariances(rng, covariance_type, k, d):
    """Well-conditioned covariances (eigenvalues roughly in [0.3, 3])."""
    if covariance_type in ("full", "tied"):
        B = rng.normal(size=(k, d, d))
        full = B @ B.transpose(0, 2, 1) / d + 0.3 * np.eye(d)
        return full if covariance_type == "full" else full[0]
    if covariance_type == "diag":
        return rng.uniform(0.3, 3.0, size=(k, d))
    return rng.uniform(0.3, 3.0, size=k)


def random_model(rng, covariance_type, k, d, offset=0.0):
    weights = rng.dirichlet(np.full(k, 2.0))
    means = offset + rng.normal(scale=2.0, size=(k, d))
    cov = random_covariances(rng, covariance_type, k, d)
    return weights, means, cov, precision_cholesky(cov, covariance_type)


def scipy_log_prob(X, means, cov, covariance_type):
    """(n, k) log densities from scipy, one component at a time."""
    k, d = means.shape
    full = full_covariances(cov, covariance_type, k, d)
    return np.column_stack(
        [stats.multivariate_normal(means[j], full[j]).logpdf(X) for j in range(k)]
    )


def collect(blocks):
    """Concatenate what log_resp_blocks yields: rows, log probs, log norms."""
    rows, wlp, log_norm = zip(*blocks, strict=True)
    return np.concatenate(rows), np.concatenate(wlp), np.concatenate(log_norm)


@pytest.fixture
def small_blocks(monkeypatch):
    """Force blocks of 7 rows, so that block boundaries fall inside small data.

    With TEMP_BYTES of one float per row and column, block_rows returns
    MIN_BLOCK_ROWS = 7 for every shape; 7 divides none of the sizes below.
    """
    monkeypatch.setattr(_gaussian, "TEMP_BYTES", 8)
    monkeypatch.setattr(_gaussian, "MIN_BLOCK_ROWS", 7)
    monkeypatch.setattr(_gaussian, "MIN_BLOCKS", 1)
    return 7


@pytest.fixture(scope="module")
def fitted():
    """One fitted scikit-learn mixture per covariance type, with its data."""
    rng = np.random.default_rng(0)
    centres = np.array([[-3.0, 0.0, 1.0], [2.0, 2.0, -1.0], [0.0, -3.0, 0.5]])
    X = np.concatenate([c + rng.normal(size=(120, 3)) for c in centres])
    X = X[rng.permutation(len(X))]
    models = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for ct in COVARIANCE_TYPES:
            models[ct] = GaussianMixture(
                3, covariance_type=ct, max_iter=20, random_state=0
            ).fit(X)
    return X, models


# Against scikit-learn -------------------------------------------------------


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_precision_cholesky_matches_sklearn(fitted, covariance_type):
    # Guards precision_cholesky (and its upper-triangular convention, which
    # every density below relies on) against scikit-learn's own factor of the
    # same covariances. Entries are O(1); 1e-10 absorbs the triangular solve.
    _, models = fitted
    gm = models[covariance_type]
    got = precision_cholesky(gm.covariances_, covariance_type)
    np.testing.assert_allclose(got, gm.precisions_cholesky_, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_precision_conversions_round_trip(fitted, covariance_type):
    # Guards precisions_from_cholesky (against scikit-learn's precisions_) and
    # covariances_from_precision_cholesky (inverse of precision_cholesky).
    # Both are a product or a triangular inverse of O(1) well-conditioned
    # factors, so 1e-10 covers rounding.
    _, models = fitted
    gm = models[covariance_type]
    chol = gm.precisions_cholesky_
    np.testing.assert_allclose(
        precisions_from_cholesky(chol, covariance_type),
        gm.precisions_,
        rtol=1e-10,
        atol=1e-10,
    )
    np.testing.assert_allclose(
        covariances_from_precision_cholesky(chol, covariance_type),
        gm.covariances_,
        rtol=1e-10,
        atol=1e-10,
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_blocks_match_sklearn_scores_and_posteriors(
    fitted, small_blocks, covariance_type
):
    # Guards log_resp_blocks and estep_blocks end to end on 360 rows cut into
    # blocks of 7 (51 full blocks and a last one of 3): the log-sum-exp must
    # equal GaussianMixture.score_samples and the responsibilities
    # predict_proba, row for row, so a block that is skipped, repeated or
    # shifted fails. Responsibilities are in [0, 1]; 1e-9 absolute covers the
    # exponentials of log densities that agree to ~1e-13.
    X, models = fitted
    gm = models[covariance_type]
    params = (gm.weights_, gm.means_, gm.precisions_cholesky_, covariance_type)
    rows, wlp, log_norm = collect(log_resp_blocks(X, *params))
    np.testing.assert_array_equal(rows, X)
    np.testing.assert_allclose(log_norm, gm.score_samples(X), rtol=RTOL, atol=ATOL)
    resp = np.exp(wlp - log_norm[:, None])
    np.testing.assert_allclose(resp, gm.predict_proba(X), rtol=0, atol=1e-9)

    blocks = list(estep_blocks(X, *params))
    assert [len(b.rows) for b in blocks] == [7] * 51 + [3]
    np.testing.assert_allclose(
        np.concatenate([b.resp for b in blocks]), gm.predict_proba(X), atol=1e-9
    )
    np.testing.assert_allclose(
        np.concatenate([b.log_norm for b in blocks]), log_norm, rtol=RTOL, atol=ATOL
    )


# Against scipy --------------------------------------------------------------


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("n_samples", [1, 5, 7, 50])
def test_log_gaussian_prob_matches_scipy(small_blocks, covariance_type, n_samples):
    # Guards every covariance branch of log_gaussian_prob and of the blocked
    # E-step against scipy's logpdf: one row, fewer rows than a block (5),
    # exactly one block (7) and several blocks with a remainder (50 = 7*7+1).
    # The log-sum-exp is checked against scipy's logsumexp of the same
    # weighted densities. See RTOL for the tolerance.
    rng = np.random.default_rng(n_samples)
    k, d = 4, 3
    weights, means, cov, chol = random_model(rng, covariance_type, k, d)
    X = rng.normal(scale=3.0, size=(n_samples, d))
    expected = scipy_log_prob(X, means, cov, covariance_type)

    got = log_gaussian_prob(X, means, chol, covariance_type)
    assert got.shape == (n_samples, k)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)

    _, wlp, log_norm = collect(
        log_resp_blocks(X, weights, means, chol, covariance_type)
    )
    np.testing.assert_allclose(wlp, expected + np.log(weights), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(
        log_norm,
        logsumexp(expected + np.log(weights), axis=1),
        rtol=RTOL,
        atol=ATOL,
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_squared_mahalanobis_of_estep_blocks(small_blocks, covariance_type):
    # Guards the sq_mahalanobis field of estep_blocks, which callers use as the
    # squared norm of the whitened deviations (x - m_k) @ L_k: it must equal
    # that norm computed directly from the factor, over block boundaries. The
    # distances are O(10); 1e-9 relative covers rounding.
    rng = np.random.default_rng(1)
    k, d, n = 3, 4, 30
    weights, means, cov, chol = random_model(rng, covariance_type, k, d)
    X = rng.normal(scale=2.0, size=(n, d))
    full_chol = precision_cholesky(full_covariances(cov, covariance_type, k, d), "full")
    expected = np.column_stack(
        [np.sum(((X - means[j]) @ full_chol[j]) ** 2, axis=1) for j in range(k)]
    )
    blocks = list(estep_blocks(X, weights, means, chol, covariance_type))
    got = np.concatenate([b.sq_mahalanobis for b in blocks])
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)
    resp = np.concatenate([b.resp for b in blocks])
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_far_from_origin_keeps_precision(covariance_type):
    # Guards the centring of the expanded (tied, diag, spherical) distances:
    # data and means around 1e6 with O(1) spread. Expanding |x|^2 - 2 x.m +
    # |m|^2 without centring would lose about eps * 1e12 ~ 1e-4 to
    # cancellation; with centring the error stays at rounding of O(1)
    # numbers. scipy works on x - m directly. 1e-7 absolute separates the two.
    rng = np.random.default_rng(2)
    k, d = 3, 4
    weights, means, cov, chol = random_model(rng, covariance_type, k, d, offset=1e6)
    X = means[rng.integers(k, size=40)] + rng.normal(size=(40, d))
    expected = scipy_log_prob(X, means, cov, covariance_type)
    got = log_gaussian_prob(X, means, chol, covariance_type)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-7)


# Blocks, groups and inputs --------------------------------------------------


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_blocked_equals_unblocked(monkeypatch, covariance_type):
    # Guards the block and component-group loops: results with blocks of 7
    # rows and full-covariance products of one component at a time must be
    # identical (to rounding) to one block holding all 100 rows and all
    # components. Same arithmetic in a different grouping: 1e-12 relative.
    rng = np.random.default_rng(3)
    k, d, n = 5, 3, 100
    weights, means, _, chol = random_model(rng, covariance_type, k, d)
    X = rng.normal(scale=2.0, size=(n, d))
    args = (X, weights, means, chol, covariance_type)
    monkeypatch.setattr(_gaussian, "MIN_BLOCKS", 1)
    monkeypatch.setattr(_gaussian, "TEMP_BYTES", 2**30)
    _, wlp_one, ln_one = collect(log_resp_blocks(*args))
    monkeypatch.setattr(_gaussian, "TEMP_BYTES", 8)
    monkeypatch.setattr(_gaussian, "MIN_BLOCK_ROWS", 7)
    _, wlp_many, ln_many = collect(log_resp_blocks(*args))
    np.testing.assert_allclose(wlp_many, wlp_one, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ln_many, ln_one, rtol=1e-12, atol=1e-12)


def test_transform_is_applied_per_block(small_blocks):
    # Guards the transform hook used by the fit (clipping into the box and
    # rescaling): each block is transformed before its densities are computed
    # and the transformed rows are what is yielded. Exact comparison: the same
    # float operations on the same values.
    rng = np.random.default_rng(4)
    weights, means, _, chol = random_model(rng, "full", 2, 3)
    X = rng.normal(scale=4.0, size=(20, 3))
    seen = []

    def transform(rows):
        seen.append(len(rows))
        return np.clip(rows, -1.0, 1.0) * 2.0

    rows, wlp, _ = collect(log_resp_blocks(X, weights, means, chol, "full", transform))
    assert seen == [7, 7, 6]
    Z = np.clip(X, -1.0, 1.0) * 2.0
    np.testing.assert_array_equal(rows, Z)
    direct = log_gaussian_prob(Z, means, chol, "full") + np.log(weights)
    np.testing.assert_allclose(wlp, direct, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_input_is_computed_in_float64(covariance_type):
    # Guards float32 inputs: rows are cast to float64 before any arithmetic,
    # so the result equals the float64 computation on the same (float32)
    # values and is float64, not a float32 computation that would lose ~1e-7
    # relative. 1e-12 allows only rounding differences.
    rng = np.random.default_rng(5)
    weights, means, _, chol = random_model(rng, covariance_type, 3, 4)
    X32 = rng.normal(scale=2.0, size=(30, 4)).astype(np.float32)
    got = log_gaussian_prob(X32, means, chol, covariance_type)
    want = log_gaussian_prob(X32.astype(np.float64), means, chol, covariance_type)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    rows, _, log_norm = collect(
        log_resp_blocks(X32, weights, means, chol, covariance_type)
    )
    assert rows.dtype == np.float64 and log_norm.dtype == np.float64


def test_zero_weight_component_gets_no_responsibility():
    # Guards components of weight zero (possible in mixtures passed to the KL
    # helpers): they get responsibility exactly 0, the log-sum-exp stays
    # finite and equals that of the remaining components, and no
    # divide-by-zero warning escapes.
    rng = np.random.default_rng(6)
    _, means, _, chol = random_model(rng, "diag", 3, 2)
    weights = np.array([0.5, 0.0, 0.5])
    X = rng.normal(size=(10, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        block = next(estep_blocks(X, weights, means, chol, "diag"))
    assert np.all(block.resp[:, 1] == 0.0)
    keep = [0, 2]
    ref = logsumexp(
        log_gaussian_prob(X, means[keep], chol[keep], "diag") + np.log(0.5), axis=1
    )
    np.testing.assert_allclose(block.log_norm, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("n_samples", [1, 100, 10_000, 10**6, 10**8])
@pytest.mark.parametrize("k, d", [(1, 1), (2, 2), (8, 10), (32, 50), (200, 300)])
def test_block_rows_respects_the_budget(covariance_type, n_samples, k, d):
    # Guards the memory bound of the E-step: a block is never empty nor
    # larger than the data, never larger than a quarter of the data beyond
    # the minimum block, and its largest temporary (rows x width floats) stays
    # within TEMP_BYTES unless the minimum block size forces more. Pure
    # integer arithmetic: exact.
    rows = block_rows(n_samples, k, d, covariance_type)
    width = k * d if covariance_type == "full" else k + d
    width = max(width, k + d)
    assert 1 <= rows <= n_samples
    assert rows <= max(-(-n_samples // _gaussian.MIN_BLOCKS), _gaussian.MIN_BLOCK_ROWS)
    assert rows <= _gaussian.MAX_BLOCK_ROWS
    if rows > _gaussian.MIN_BLOCK_ROWS:
        assert rows * width * 8 <= _gaussian.TEMP_BYTES


def test_full_covariance_groups_stay_within_budget(monkeypatch):
    # Guards the component grouping of full covariances: with a block of 256
    # rows, 50 features and 32 components the stacked residuals of all
    # components would take 3.3 MB; each matrix product must cover only as
    # many components as fit TEMP_BYTES (and at least one). Exact integers.
    comps = _gaussian._Components(
        np.zeros((32, 50)), np.stack([np.eye(50)] * 32), "full"
    )
    group = comps.group_size(256)
    assert 1 <= group < 32
    assert group * 256 * 50 * 8 <= _gaussian.TEMP_BYTES
    monkeypatch.setattr(_gaussian, "TEMP_BYTES", 1)
    assert comps.group_size(256) == 1


@pytest.mark.parametrize(
    ("k", "d"), [(1, 3), (2, 5), (2, 16), (2, 50), (3, 20), (8, 50)]
)
def test_rows_times_is_the_component_major_product(k, d):
    # Guards both layouts of _rows_times (two components with d >= 16 take a
    # different one): the result is (rows @ coef).T, C-ordered, so that the
    # E-step's reductions over components run along the outer axis.
    rng = np.random.default_rng(d * 10 + k)
    rows = rng.normal(size=(37, d))
    coef = np.ascontiguousarray(rng.normal(size=(d, k)))
    got = _gaussian._rows_times(rows, coef)
    assert got.shape == (k, 37) and got.flags.c_contiguous
    np.testing.assert_allclose(got, np.einsum("nd,dk->kn", rows, coef), rtol=1e-12)
