"""Tests for sklearn_dpgmm.kl: Gaussian and Gaussian-mixture KL divergences."""

import dataclasses
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.mixture import GaussianMixture

from sklearn_dpgmm._gaussian import COVARIANCE_TYPES, full_covariances
from sklearn_dpgmm.kl import (
    KLEstimate,
    kl_gaussian,
    kl_mixture_mc,
    kl_mixture_upper_bound,
    kl_to_reference,
    mixture_log_density,
    reference_gaussian,
    sample_mixture,
)

# A correct Monte Carlo estimate lies within 4 standard errors of its target
# with probability about 1 - 6e-5 (normal approximation, which holds well for
# the thousands of draws used here); seeds are fixed, so a pass is stable.
N_SE = 4.0


# Helpers --------------------------------------------------------------------


def random_cov(rng, d):
    """A well-conditioned random SPD matrix (eigenvalues roughly in [0.5, 4])."""
    B = rng.normal(size=(d, d))
    return B @ B.T / d + 0.5 * np.eye(d)


def random_mixture(rng, covariance_type, n_components, n_features):
    """A random mixture as a plain object, with strictly positive weights."""
    k, d = n_components, n_features
    if covariance_type == "full":
        covs = np.stack([random_cov(rng, d) for _ in range(k)])
    elif covariance_type == "tied":
        covs = random_cov(rng, d)
    elif covariance_type == "diag":
        covs = rng.uniform(0.3, 2.0, size=(k, d))
    else:
        covs = rng.uniform(0.3, 2.0, size=k)
    return SimpleNamespace(
        weights_=rng.dirichlet(np.full(k, 2.0)),
        means_=rng.normal(scale=1.5, size=(k, d)),
        covariances_=covs,
        covariance_type=covariance_type,
    )


def gaussian(mean, cov):
    """A single Gaussian as a one-component full mixture."""
    return SimpleNamespace(
        weights_=np.ones(1),
        means_=np.asarray(mean, dtype=float)[np.newaxis],
        covariances_=np.asarray(cov, dtype=float)[np.newaxis],
        covariance_type="full",
    )


def affine_image(mixture, A, b):
    """The mixture of the variables A x + b, with full covariances."""
    k, d = np.shape(mixture.means_)
    covs = full_covariances(mixture.covariances_, mixture.covariance_type, k, d)
    return SimpleNamespace(
        weights_=np.array(mixture.weights_, dtype=float),
        means_=mixture.means_ @ A.T + b,
        covariances_=np.einsum("ij,kjl,ml->kim", A, covs, A),
        covariance_type="full",
    )


def mixture_moments(mixture):
    """Exact mean and covariance of a mixture (law of total covariance)."""
    w, m = mixture.weights_, mixture.means_
    k, d = m.shape
    covs = full_covariances(mixture.covariances_, mixture.covariance_type, k, d)
    mean = w @ m
    centred = m - mean
    cov = np.einsum("k,kij->ij", w, covs) + (centred.T * w) @ centred
    return mean, cov


# Closed-form Gaussian KL ----------------------------------------------------


@pytest.mark.parametrize("d", [1, 3, 5])
def test_kl_gaussian_matches_monte_carlo(d):
    # Guards the closed form (trace, Mahalanobis and log-det terms) against an
    # independent route: sampling plus log densities from _gaussian.
    rng = np.random.default_rng(100 + d)
    mean_p, mean_q = rng.normal(size=d), rng.normal(size=d)
    cov_p, cov_q = random_cov(rng, d), random_cov(rng, d)
    exact = kl_gaussian(mean_p, cov_p, mean_q, cov_q)
    mc = kl_mixture_mc(gaussian(mean_p, cov_p), gaussian(mean_q, cov_q), 20_000, 1)
    assert exact > 0.1  # a non-trivial divergence, so the comparison bites
    assert abs(mc.kl - exact) <= N_SE * mc.stderr


@pytest.mark.parametrize(
    ("m1", "s1", "m2", "s2"),
    [(0.0, 1.0, 0.0, 1.0), (0.0, 1.0, 1.0, 1.0), (-1.0, 0.5, 2.0, 3.0), (3, 4, 0, 1)],
)
def test_kl_gaussian_one_dimensional_hand_formula(m1, s1, m2, s2):
    # Guards the 1-D case against the textbook formula
    # log(s2 / s1) + (s1^2 + (m1 - m2)^2) / (2 s2^2) - 1/2. Both sides are a
    # handful of floating-point operations, so they agree to ~1e-15; 1e-12
    # (absolute, since the first case is exactly 0) leaves room for log/sqrt.
    hand = np.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5
    got = kl_gaussian([m1], [[s1**2]], [m2], [[s2**2]])
    assert got == pytest.approx(hand, rel=1e-12, abs=1e-12)


def test_kl_gaussian_equal_covariances_is_half_mahalanobis():
    # Guards the quadratic term: with equal covariances the trace and
    # log-det terms cancel and KL = 0.5 * (mq - mp)' S^-1 (mq - mp). The
    # reference uses a dense solve instead of Cholesky; for this condition
    # number the two agree to ~1e-14, so 1e-10 relative is generous.
    rng = np.random.default_rng(7)
    cov = random_cov(rng, 4)
    mean_p, mean_q = rng.normal(size=4), rng.normal(size=4)
    delta = mean_q - mean_p
    hand = 0.5 * delta @ np.linalg.solve(cov, delta)
    assert kl_gaussian(mean_p, cov, mean_q, cov) == pytest.approx(hand, rel=1e-10)


def test_kl_gaussian_diagonal_is_sum_of_one_dimensional():
    # Guards the trace and log-det terms on independent coordinates: KL of a
    # product of 1-D Gaussians is the sum of the 1-D divergences. Tolerance
    # as for the 1-D formula, scaled for summing three terms.
    mp, vp = np.array([0.0, 1.0, -2.0]), np.array([1.0, 0.25, 4.0])
    mq, vq = np.array([0.5, -1.0, 0.0]), np.array([2.0, 1.0, 0.5])
    hand = np.sum(0.5 * np.log(vq / vp) + (vp + (mp - mq) ** 2) / (2 * vq) - 0.5)
    got = kl_gaussian(mp, np.diag(vp), mq, np.diag(vq))
    assert got == pytest.approx(hand, rel=1e-12)


def test_kl_gaussian_of_identical_gaussians_is_zero():
    # Guards against a sign or constant error (e.g. a missing "- d"): the
    # divergence of a distribution from itself vanishes. Rounding in the
    # triangular solves is ~1e-16 per entry, hence the 1e-12 absolute bound.
    rng = np.random.default_rng(3)
    mean, cov = rng.normal(size=5), random_cov(rng, 5)
    assert kl_gaussian(mean, cov, mean, cov) == pytest.approx(0.0, abs=1e-12)


# Mixture densities and sampling ---------------------------------------------


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_mixture_log_density_matches_sklearn(covariance_type):
    # Guards mixture_log_density (and its use of the _gaussian helpers) on
    # fitted GaussianMixture objects of every covariance type. scikit-learn
    # computes the same quantity from the same covariances, so the two differ
    # only by rounding (~1e-14 on values of size ~10); 1e-10 is the spec.
    rng = np.random.default_rng(11)
    X = np.concatenate(
        [rng.normal(loc=c, size=(150, 3)) for c in ([0, 0, 0], [4, 1, -2], [-3, 3, 1])]
    )
    gm = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    points = rng.normal(scale=3.0, size=(500, 3))
    np.testing.assert_allclose(
        mixture_log_density(gm, points), gm.score_samples(points), rtol=0, atol=1e-10
    )


@pytest.mark.filterwarnings("error")
def test_mixture_log_density_ignores_zero_weight_components():
    # Guards the log(0) path: a component of weight zero must neither change
    # the density nor emit a divide-by-zero warning (warnings are errors
    # here). The two computations differ only by a -inf term inside a
    # log-sum-exp, so they agree to rounding; 1e-12 absolute.
    rng = np.random.default_rng(5)
    full = random_mixture(rng, "diag", 3, 2)
    full.weights_ = np.array([0.4, 0.0, 0.6])
    kept = SimpleNamespace(
        weights_=full.weights_[[0, 2]],
        means_=full.means_[[0, 2]],
        covariances_=full.covariances_[[0, 2]],
        covariance_type="diag",
    )
    X = rng.normal(size=(50, 2))
    np.testing.assert_allclose(
        mixture_log_density(full, X), mixture_log_density(kept, X), atol=1e-12
    )


def test_sample_mixture_is_reproducible_and_accepts_generators():
    # Guards the random_state contract: an int seed reproduces, a Generator is
    # used in place (two calls advance it), None gives valid fresh draws, and
    # the object's own sample method is never called.
    rng = np.random.default_rng(2)
    mix = random_mixture(rng, "full", 2, 3)
    mix.sample = lambda *args, **kwargs: pytest.fail("object's sample was used")
    a = sample_mixture(mix, 100, 42)
    np.testing.assert_array_equal(a, sample_mixture(mix, 100, 42))
    gen = np.random.default_rng(42)
    np.testing.assert_array_equal(a, sample_mixture(mix, 100, gen))
    assert not np.array_equal(a, sample_mixture(mix, 100, gen))
    assert sample_mixture(mix, 7, None).shape == (7, 3)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_sample_mixture_moments(covariance_type):
    # Guards the sampler (component choice and covariance square roots) by
    # comparing sample mean and covariance with the exact mixture moments.
    # Each entry's standard error is estimated from the draws themselves, and
    # a correct sampler is within 4 of them (see N_SE).
    rng = np.random.default_rng(21)
    mix = random_mixture(rng, covariance_type, 3, 3)
    mean, cov = mixture_moments(mix)
    n = 50_000
    X = sample_mixture(mix, n, 0)
    assert np.all(np.abs(X.mean(axis=0) - mean) <= N_SE * X.std(axis=0) / np.sqrt(n))
    prods = (X - mean)[:, :, None] * (X - mean)[:, None, :]
    se = prods.std(axis=0) / np.sqrt(n)
    assert np.all(np.abs(prods.mean(axis=0) - cov) <= N_SE * se)


# Monte Carlo KL and the paired upper bound ----------------------------------


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_kl_of_mixture_with_itself_is_zero(covariance_type):
    # Guards that p and q are evaluated at the same draws with the same code
    # path: the log ratios are then exactly 0, and so are estimate and stderr.
    # The bound is a sum of closed-form KLs of identical Gaussians, each zero
    # up to rounding in triangular solves (~1e-16), hence 1e-12 absolute.
    p = random_mixture(np.random.default_rng(8), covariance_type, 3, 4)
    assert kl_mixture_mc(p, p) == KLEstimate(0.0, 0.0, 10_000)
    assert kl_mixture_upper_bound(p, p) == pytest.approx(0.0, abs=1e-12)


def test_kl_mixture_mc_with_fitted_sklearn_models():
    # Guards that fitted GaussianMixture objects work as p and q (including
    # different covariance types and component counts), that the default seed
    # makes the estimate reproducible, and that the estimate is positive for
    # genuinely different models.
    rng = np.random.default_rng(4)
    X = np.concatenate([rng.normal(size=(200, 2)), rng.normal(5, 1, (200, 2))])
    p = GaussianMixture(2, random_state=0).fit(X)
    q = GaussianMixture(1, covariance_type="diag", random_state=0).fit(X)
    est = kl_mixture_mc(p, q, n_samples=5_000)
    assert est == kl_mixture_mc(p, q, n_samples=5_000)
    assert est.n_samples == 5_000
    assert est.kl > N_SE * est.stderr > 0


def test_upper_bound_weight_term_is_categorical_kl():
    # Guards the weight term and its direction KL(w || v), not KL(v || w):
    # with identical component Gaussians only the weight term remains. Both
    # sides are two logs and a sum; 1e-12 relative covers rounding.
    rng = np.random.default_rng(9)
    p = random_mixture(rng, "full", 2, 2)
    q = SimpleNamespace(**vars(p))
    q.weights_ = np.array([0.9, 0.1])
    w, v = p.weights_, q.weights_
    hand = np.sum(w * np.log(w / v))
    assert hand != pytest.approx(np.sum(v * np.log(v / w)), rel=1e-3)
    assert kl_mixture_upper_bound(p, q) == pytest.approx(hand, rel=1e-12)


def test_upper_bound_skips_zero_weight_components_of_p():
    # Guards that a component of weight zero in p adds nothing, however far
    # its partner in q, and that a positive-weight component of p paired with
    # a zero-weight one in q makes the bound infinite. Tolerance as above.
    p = SimpleNamespace(
        weights_=np.array([1.0, 0.0]),
        means_=np.array([[0.0], [0.0]]),
        covariances_=np.array([1.0, 1.0]),
        covariance_type="spherical",
    )
    q = SimpleNamespace(
        weights_=np.array([0.5, 0.5]),
        means_=np.array([[1.0], [1e6]]),
        covariances_=np.array([2.0, 1e-6]),
        covariance_type="spherical",
    )
    hand = np.log(1.0 / 0.5) + kl_gaussian([0.0], [[1.0]], [1.0], [[2.0]])
    assert kl_mixture_upper_bound(p, q) == pytest.approx(hand, rel=1e-12)
    assert kl_mixture_upper_bound(q, p) == np.inf


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**32 - 1),
    type_p=st.sampled_from(COVARIANCE_TYPES),
    type_q=st.sampled_from(COVARIANCE_TYPES),
    n_components=st.integers(1, 3),
    n_features=st.integers(1, 3),
)
def test_upper_bound_is_not_below_monte_carlo(
    seed, type_p, type_q, n_components, n_features
):
    # Guards the bound's validity, KL(p || q) <= bound, for random mixtures
    # mixing all covariance types. The MC estimate may exceed the true KL by
    # chance, so it is allowed 4 standard errors of slack (see N_SE).
    rng = np.random.default_rng(seed)
    p = random_mixture(rng, type_p, n_components, n_features)
    q = random_mixture(rng, type_q, n_components, n_features)
    mc = kl_mixture_mc(p, q, n_samples=2_000, random_state=seed)
    assert kl_mixture_upper_bound(p, q) >= mc.kl - N_SE * mc.stderr


# Invariance under invertible affine maps ------------------------------------


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_kl_mc_invariant_under_triangular_affine_map(covariance_type):
    # Guards affine invariance of the MC estimate with identical underlying
    # standard normal draws: for lower-triangular A with positive diagonal,
    # chol(A S A') = A chol(S), so the sampler maps every draw x of p to
    # A x + b for the transformed p and the log ratios coincide. They differ
    # only through rounding in two Cholesky factorisations and the density
    # evaluations (~1e-13 on values of size ~1); 1e-9 relative is ample.
    rng = np.random.default_rng(31)
    p = random_mixture(rng, covariance_type, 3, 3)
    q = random_mixture(rng, covariance_type, 3, 3)
    A = np.tril(rng.normal(size=(3, 3)), -1) + np.diag(rng.uniform(0.5, 2.0, 3))
    b = rng.normal(size=3)
    before = kl_mixture_mc(p, q, n_samples=5_000, random_state=6)
    after = kl_mixture_mc(affine_image(p, A, b), affine_image(q, A, b), 5_000, 6)
    assert after.kl == pytest.approx(before.kl, rel=1e-9)
    assert after.stderr == pytest.approx(before.stderr, rel=1e-9)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_kl_invariant_under_general_affine_map(covariance_type):
    # Guards affine invariance for a dense A (with negative determinant).
    # (1) Pointwise: log densities shift by -log|det A| under x -> A x + b,
    # so the log ratio is unchanged; both sides are sums of terms of size
    # ~10 computed to ~1e-14, so 1e-9 absolute is safe. (2) The MC estimates,
    # drawn with the same seed but no longer from identical normals, agree
    # within 4 combined standard errors (see N_SE). (3) The upper bound is a
    # sum of invariant closed forms; 1e-10 relative as for kl_gaussian.
    rng = np.random.default_rng(41)
    p = random_mixture(rng, covariance_type, 2, 3)
    q = random_mixture(rng, covariance_type, 2, 3)
    A = rng.normal(size=(3, 3)) + np.eye(3)
    A[[0, 1]] = A[[1, 0]]
    b = rng.normal(size=3)
    log_abs_det = np.linalg.slogdet(A)[1]
    p2, q2 = affine_image(p, A, b), affine_image(q, A, b)

    X = sample_mixture(p, 1_000, 0)
    Y = X @ A.T + b
    np.testing.assert_allclose(
        mixture_log_density(p2, Y), mixture_log_density(p, X) - log_abs_det, atol=1e-9
    )
    ratio = mixture_log_density(p, X) - mixture_log_density(q, X)
    ratio2 = mixture_log_density(p2, Y) - mixture_log_density(q2, Y)
    np.testing.assert_allclose(ratio2, ratio, atol=1e-9)

    before, after = kl_mixture_mc(p, q), kl_mixture_mc(p2, q2)
    assert abs(after.kl - before.kl) <= N_SE * np.hypot(before.stderr, after.stderr)
    bound = kl_mixture_upper_bound(p, q)
    assert kl_mixture_upper_bound(p2, q2) == pytest.approx(bound, rel=1e-10)


def test_kl_gaussian_invariant_under_affine_map():
    # Guards the closed form against any dependence on the coordinate system:
    # KL(N(A m + b, A S A') || N(A m' + b, A S' A')) = KL(N(m, S) || N(m', S')).
    # A is well conditioned, so rounding stays ~1e-14; 1e-10 relative is the
    # spec.
    rng = np.random.default_rng(51)
    d = 4
    mean_p, mean_q = rng.normal(size=d), rng.normal(size=d)
    cov_p, cov_q = random_cov(rng, d), random_cov(rng, d)
    A = rng.normal(size=(d, d)) + 2 * np.eye(d)
    b = rng.normal(size=d)
    before = kl_gaussian(mean_p, cov_p, mean_q, cov_q)
    after = kl_gaussian(
        A @ mean_p + b, A @ cov_p @ A.T, A @ mean_q + b, A @ cov_q @ A.T
    )
    assert after == pytest.approx(before, rel=1e-10)


# Reference Gaussian ---------------------------------------------------------


def test_reference_gaussian_has_uniform_moments():
    # Guards the reference's parameters against scipy's uniform distribution
    # (an independent formula for mean and variance); both are exact up to
    # one rounding, hence 1e-12 relative. Also checks scalar broadcasting.
    lower, upper = np.array([-1.0, 0.0, 2.0]), np.array([1.0, 5.0, 2.5])
    mean, cov = reference_gaussian(lower, upper)
    uniform = stats.uniform(loc=lower, scale=upper - lower)
    np.testing.assert_allclose(mean, uniform.mean(), rtol=1e-12)
    np.testing.assert_allclose(cov, np.diag(uniform.var()), rtol=1e-12)
    mean0, cov0 = reference_gaussian(0.0, [1.0, 2.0])
    np.testing.assert_allclose(mean0, [0.5, 1.0], rtol=1e-12)
    np.testing.assert_allclose(cov0, np.diag([1 / 12, 4 / 12]), rtol=1e-12)


def test_kl_to_reference():
    # Guards kl_to_reference: it vanishes for p equal to the reference (given
    # as a diag mixture, densities follow the same code path: exactly 0), it
    # matches the closed form for a single Gaussian p within 4 standard errors
    # (see N_SE), and scalar bounds mean the same box in every feature
    # (identical estimate).
    lower, upper = np.array([-2.0, -1.0]), np.array([2.0, 3.0])
    mean, cov = reference_gaussian(lower, upper)
    same = SimpleNamespace(
        weights_=np.ones(1),
        means_=mean[np.newaxis],
        covariances_=np.diag(cov)[np.newaxis],
        covariance_type="diag",
    )
    assert kl_to_reference(same, lower, upper).kl == 0.0
    # Through the full-covariance code path the log ratios are rounding noise.
    assert kl_to_reference(gaussian(mean, cov), lower, upper).kl < 1e-12

    rng = np.random.default_rng(61)
    m, S = rng.normal(size=2), random_cov(rng, 2)
    est = kl_to_reference(gaussian(m, S), lower, upper, n_samples=20_000)
    exact = kl_gaussian(m, S, mean, cov)
    assert abs(est.kl - exact) <= N_SE * est.stderr

    p = random_mixture(rng, "tied", 2, 2)
    assert kl_to_reference(p, -3.0, 3.0) == kl_to_reference(p, [-3, -3], [3, 3])


# API contract: frozen result, inputs untouched, errors ----------------------


def test_klestimate_is_frozen():
    # Guards immutability of the result type.
    est = KLEstimate(1.0, 0.1, 10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        est.kl = 2.0


def test_inputs_are_not_modified():
    # Guards against in-place edits of the caller's arrays by any public
    # function (compared bit for bit with copies taken beforehand).
    rng = np.random.default_rng(71)
    p = random_mixture(rng, "full", 2, 2)
    q = random_mixture(rng, "diag", 2, 2)
    mean, cov = np.zeros(2), np.eye(2)
    lower, upper = np.array([-1.0, -1.0]), np.array([1.0, 1.0])
    X = rng.normal(size=(5, 2))
    saved = [np.copy(a) for a in (*vars(p).values(), *vars(q).values())]
    saved += [a.copy() for a in (mean, cov, lower, upper, X)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mixture_log_density(p, X)
        sample_mixture(p, 5, 0)
        kl_mixture_mc(p, q, n_samples=100)
        kl_mixture_upper_bound(p, q)
        kl_gaussian(mean, cov, mean, cov)
        reference_gaussian(lower, upper)
        kl_to_reference(p, lower, upper, n_samples=100)
    current = [*vars(p).values(), *vars(q).values(), mean, cov, lower, upper, X]
    for before, after in zip(saved, current, strict=True):
        np.testing.assert_array_equal(before, after)


def _mix(**changes):
    """A valid two-component, two-feature diag mixture, with changes."""
    base = dict(
        weights_=np.array([0.5, 0.5]),
        means_=np.zeros((2, 2)),
        covariances_=np.ones((2, 2)),
        covariance_type="diag",
    )
    return SimpleNamespace(**{**base, **changes})


_ONE_FEATURE = SimpleNamespace(
    weights_=np.ones(1),
    means_=np.zeros((1, 3)),
    covariances_=np.ones(1),
    covariance_type="spherical",
)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: kl_gaussian([0, 0], np.eye(2), [0, 0, 0], np.eye(3)),
            r"mean_q must have shape \(2,\); got shape \(3,\)",
        ),
        (
            lambda: kl_gaussian([0, 0], np.eye(2), [0, 0], np.eye(3)),
            r"cov_q must have shape \(2, 2\); got shape \(3, 3\)",
        ),
        (
            lambda: kl_gaussian([0, 0], [[1, 0], [0.5, 1]], [0, 0], np.eye(2)),
            r"cov_p must be symmetric",
        ),
        (
            lambda: kl_gaussian([0, 0], np.eye(2), [0, 0], -np.eye(2)),
            r"cov_q must be positive definite",
        ),
        (
            lambda: kl_mixture_mc(_mix(), _ONE_FEATURE),
            r"p and q must have the same n_features; got 2 and 3",
        ),
        (
            lambda: kl_mixture_mc(_mix(), _mix(), n_samples=1),
            r"n_samples must be an integer >= 2; got 1",
        ),
        (
            lambda: kl_mixture_mc(_mix(), _mix(), n_samples=2.5),
            r"n_samples must be an integer >= 2; got 2\.5",
        ),
        (
            lambda: sample_mixture(_mix(), 0, 0),
            r"n_samples must be an integer >= 1; got 0",
        ),
        (
            lambda: kl_mixture_mc(_mix(covariance_type="banana"), _mix()),
            r"p\.covariance_type must be one of .*got 'banana'",
        ),
        (
            lambda: kl_mixture_upper_bound(
                _mix(),
                _mix(
                    weights_=np.ones(3) / 3,
                    means_=np.zeros((3, 2)),
                    covariances_=np.ones((3, 2)),
                ),
            ),
            r"p with 2 and q with 3",
        ),
        (
            lambda: mixture_log_density(_mix(weights_=np.array([0.5, 0.6])), [[0, 0]]),
            r"mixture\.weights_ must sum to 1; got sum 1\.1",
        ),
        (
            lambda: mixture_log_density(_mix(weights_=np.array([1.5, -0.5])), [[0, 0]]),
            r"mixture\.weights_ must be finite and non-negative",
        ),
        (
            lambda: mixture_log_density(_mix(covariances_=np.ones(2)), [[0, 0]]),
            r"mixture\.covariances_ must have shape \(2, 2\) for "
            r"covariance_type='diag'; got shape \(2,\)",
        ),
        (
            lambda: kl_mixture_mc(_mix(), _mix(covariances_=np.zeros((2, 2)))),
            r"q\.covariances_ must be positive definite",
        ),
        (
            lambda: mixture_log_density(_mix(), np.zeros((4, 3))),
            r"X must have shape \(n_samples, 2\).*got shape \(4, 3\)",
        ),
        (
            lambda: mixture_log_density(GaussianMixture(2), np.zeros((4, 2))),
            r"GaussianMixture object lacks weights_, means_, covariances_",
        ),
        (
            lambda: reference_gaussian([0.0, 1.0], [1.0, 1.0]),
            r"upper must exceed lower in every feature",
        ),
        (
            lambda: kl_to_reference(_mix(), [0, 0, 0], [1, 1, 1]),
            r"lower and upper must broadcast .* got shapes \(3,\) and \(3,\) "
            r"for n_features=2",
        ),
    ],
)
def test_errors(call, match):
    # Guards that invalid input fails early with a ValueError naming the
    # argument and echoing the offending value or shape.
    with pytest.raises(ValueError, match=match):
        call()
