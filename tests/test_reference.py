"""``DPGaussianMixture`` against scikit-learn's ``GaussianMixture`` as reference.

Two comparisons:

* at ``epsilon=np.inf`` (no noise) and with the same initialisation, private EM
  must be exactly scikit-learn's EM, iteration for iteration;
* for any fit, the methods of the estimator must agree with those of a
  ``GaussianMixture`` holding the same released parameters.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from sklearn_dpgmm import DPGaussianMixture

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


# Per-feature scales of the reference data: one feature in thousands, one in
# thousandths, so that a mix-up of units between features shows up at once.
FEATURE_SCALES = np.array([1.0, 1000.0, 1e-3])

# A public box that contains the reference data with room to spare (the data
# below is at most ~10 scale units from 0; asserted in _reference_data).
BOX_LOWER = -20.0 * FEATURE_SCALES
BOX_UPPER = 20.0 * FEATURE_SCALES


def _reference_data(n=240, seed=0):
    """Three overlapping 3-D blobs, features on very different scales."""
    rng = np.random.default_rng(seed)
    centres = np.array([[-3.0, 0.0, 2.0], [2.0, 3.0, -1.0], [0.5, -2.5, 0.0]])
    labels = np.arange(n) % 3
    X = centres[labels] + rng.normal(size=(n, 3)) * np.array([1.0, 1.5, 0.7])
    X = X * FEATURE_SCALES
    assert np.all(X > BOX_LOWER) and np.all(X < BOX_UPPER)
    return X


def _new_points(n=60, seed=1):
    """Points not used in any fit, partly outside the data's range."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-8.0, 8.0, (n, 3)) * FEATURE_SCALES


def _initialisation(covariance_type, k, X, seed):
    """A public initialisation (weights, means, precisions) for k components."""
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.full(k, 5.0))
    means = X[rng.choice(X.shape[0], k, replace=False)]
    # Starting precisions: diagonal, one over the per-feature variance of the
    # generating scale, perturbed per component so components start unequal.
    base = 1.0 / (2.0 * FEATURE_SCALES) ** 2
    factors = rng.uniform(0.5, 2.0, k)
    precisions = {
        "full": np.stack([np.diag(base * f) for f in factors]),
        "tied": np.diag(base),
        "diag": np.outer(factors, base),
        # Spherical precisions are one number per component and cannot follow
        # the features' scales. A spherical variance is dominated by the widest
        # feature, so its scale is used: starting narrower makes EM collapse
        # components onto single records, where both fits only compare
        # rounding errors.
        "spherical": factors / (2.0 * FEATURE_SCALES.max()) ** 2,
    }[covariance_type]
    return weights, means, precisions


def _in_feature_units(name, value, covariance_type):
    """Express a fitted attribute in units where every feature has scale 1.

    Comparing in these units makes a single tolerance mean the same thing on
    every feature: a covariance entry (i, j) is divided by s_i s_j, a mean by
    s_j, and row i of a precision Cholesky factor is multiplied by s_i (if
    cov = D C0 D with D = diag(s), the factor is D^-1 L0). A spherical
    variance mixes features and is dominated by the widest one, so spherical
    variances and factors are expressed in units of the widest scale.
    """
    s = FEATURE_SCALES
    if name == "weights_":
        return value
    if covariance_type == "spherical" and name != "means_":
        widest = s.max()
        return value / widest**2 if name == "covariances_" else value * widest
    if name == "means_":
        return value / s
    if name == "covariances_":
        if covariance_type in ("full", "tied"):
            return value / np.outer(s, s)
        return value / s**2
    if name == "precisions_cholesky_":
        if covariance_type in ("full", "tied"):
            return value * s[:, None]
        return value * s
    raise AssertionError(name)


RELEASED = ("weights_", "means_", "covariances_", "precisions_cholesky_")

# Tolerance of the epsilon=inf comparison. Both estimators run the same EM
# algebra in float64; the differences observed are ~1e-12 after 20 iterations.
# 1e-6 (in feature units, i.e. relative to each feature's scale) leaves a wide
# margin for rounding amplified by EM, and is still far below what one missing
# or extra EM step, a unit mix-up between features, or a non-zero noise would
# change (checked by the "one more iteration differs" assertion below).
REF_TOL = 1e-6


def _sklearn_fit(X, covariance_type, k, max_iter, init):
    weights, means, precisions = init
    reference = GaussianMixture(
        n_components=k,
        covariance_type=covariance_type,
        max_iter=max_iter,
        tol=0.0,
        reg_covar=1e-6,
        weights_init=weights,
        means_init=means,
        precisions_init=precisions,
        random_state=0,
    )
    with warnings.catch_warnings():
        # tol=0 never converges, by design: exactly max_iter steps are run.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return reference.fit(X)


def _max_deviation(a, b, covariance_type):
    """Largest mixed absolute/relative deviation in feature units."""
    worst = 0.0
    for name in RELEASED:
        va = _in_feature_units(name, getattr(a, name), covariance_type)
        vb = _in_feature_units(name, getattr(b, name), covariance_type)
        worst = max(worst, float(np.max(np.abs(va - vb) / (1.0 + np.abs(vb)))))
    return worst


# Guards the core of the estimator: without noise, private EM is scikit-learn's
# EM (same E-step, same M-step, same reg_covar, same number of steps), for
# every covariance type and on features of very different scales.
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("k, max_iter", [(1, 1), (2, 3), (3, 5), (3, 20)])
def test_noiseless_fit_reproduces_sklearn(covariance_type, k, max_iter):
    X = _reference_data()
    init = _initialisation(covariance_type, k, X, seed=10 * k + max_iter)
    reference = _sklearn_fit(X, covariance_type, k, max_iter, init)
    assert reference.n_iter_ == max_iter
    weights, means, precisions = init
    ours = DPGaussianMixture(
        k,
        covariance_type=covariance_type,
        epsilon=np.inf,
        bounds=(BOX_LOWER, BOX_UPPER),
        max_iter=max_iter,
        reg_covar=1e-6,
        weights_init=weights,
        means_init=means,
        precisions_init=precisions,
        compute_kl=False,
        random_state=0,
    ).fit(X)

    for name in RELEASED:
        assert_allclose(
            _in_feature_units(name, getattr(ours, name), covariance_type),
            _in_feature_units(name, getattr(reference, name), covariance_type),
            rtol=REF_TOL,
            atol=REF_TOL,
            err_msg=name,
        )
    X_new = _new_points()
    # Log densities are in nats, with magnitudes ~5..55 here; the same 1e-6
    # applies relative and absolute.
    assert_allclose(
        ours.score_samples(X_new),
        reference.score_samples(X_new),
        rtol=REF_TOL,
        atol=REF_TOL,
    )
    assert ours.n_iter_ == max_iter

    # The comparison can fail: with k > 1 and few steps EM is still moving, so
    # scikit-learn's fit with one more step must be outside the tolerance. (With
    # one component EM converges in one step and there is nothing to detect.)
    if k > 1 and max_iter < 20:
        one_more = _sklearn_fit(X, covariance_type, k, max_iter + 1, init)
        assert _max_deviation(one_more, reference, covariance_type) > 100 * REF_TOL


# Guards the bookkeeping of a noiseless fit: no noise anywhere, and an infinite
# privacy loss reported (never a finite epsilon for an unprotected release).
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_noiseless_fit_reports_no_noise_and_infinite_epsilon(covariance_type):
    est = DPGaussianMixture(
        2,
        covariance_type=covariance_type,
        epsilon=np.inf,
        bounds=(BOX_LOWER, BOX_UPPER),
        max_iter=4,
        compute_kl=False,
        random_state=0,
    ).fit(_reference_data())
    assert est.noise_multipliers_.shape == (4, 3)
    assert np.all(est.noise_multipliers_ == 0.0)
    assert est.epsilon_spent_ == np.inf


# ---------------------------------------------------------------------------
# Methods versus a GaussianMixture holding the same released parameters.


def _two_blobs(n=300, seed=2):
    rng = np.random.default_rng(seed)
    half = n // 2
    return np.concatenate(
        [rng.normal(-2.0, 0.6, (half, 2)), rng.normal(2.0, 0.9, (n - half, 2))]
    )


def _private_fit(covariance_type, k=3, seed=0):
    return DPGaussianMixture(
        k,
        covariance_type=covariance_type,
        epsilon=2.0,
        bounds=(-6.0, 6.0),
        max_iter=8,
        compute_kl=False,
        random_state=seed,
    ).fit(_two_blobs())


def _sklearn_twin(est):
    """A GaussianMixture carrying exactly the released parameters of est."""
    twin = GaussianMixture(
        n_components=est.n_components, covariance_type=est.covariance_type
    )
    twin.weights_ = est.weights_.copy()
    twin.means_ = est.means_.copy()
    twin.covariances_ = est.covariances_.copy()
    twin.precisions_cholesky_ = est.precisions_cholesky_.copy()
    twin.n_features_in_ = est.n_features_in_
    return twin


# Tolerance of the method comparison: both sides evaluate the same closed-form
# densities from the same float64 parameters, differing only in the order of
# operations (~1e-15 relative); 1e-10 leaves room for cancellation in
# log-sum-exp while catching any formula difference.
METHOD_TOL = 1e-10


# Guards that every method interprets the released parameters exactly as
# scikit-learn does (log density, posteriors, labels, information criteria).
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_methods_agree_with_sklearn_on_released_parameters(covariance_type):
    est = _private_fit(covariance_type)
    twin = _sklearn_twin(est)
    X_train = _two_blobs()
    X_new = np.random.default_rng(9).uniform(-9.0, 9.0, (80, 2))
    for X in (X_train, X_new):
        assert_allclose(est.score_samples(X), twin.score_samples(X), rtol=METHOD_TOL)
        assert_allclose(
            est.predict_proba(X), twin.predict_proba(X), rtol=0, atol=METHOD_TOL
        )
        assert_array_equal(est.predict(X), twin.predict(X))
        assert est.score(X) == pytest.approx(twin.score(X), rel=METHOD_TOL)
        assert est.bic(X) == pytest.approx(twin.bic(X), rel=METHOD_TOL)
        assert est.aic(X) == pytest.approx(twin.aic(X), rel=METHOD_TOL)


def _dense_covariances(est):
    """Covariances as an array (k, d, d), whatever the covariance type."""
    k, d = est.means_.shape
    cov = est.covariances_
    return {
        "full": lambda: cov,
        "tied": lambda: np.broadcast_to(cov, (k, d, d)),
        "diag": lambda: np.stack([np.diag(c) for c in cov]),
        "spherical": lambda: np.stack([np.eye(d) * c for c in cov]),
    }[est.covariance_type]()


# Guards the derived attributes against the covariances they come from, using
# numpy's inverse and Cholesky as independent references: the twin comparison
# above would not notice a precisions_cholesky_ inconsistent with covariances_,
# since both sides read the same factor.
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_precisions_are_inverse_covariances(covariance_type):
    est = _private_fit(covariance_type, seed=4)
    prec_chol = est.precisions_cholesky_
    precisions = est.precisions_
    if covariance_type in ("diag", "spherical"):
        # Vectors and scalars: elementwise inverse and square root.
        assert_allclose(precisions, 1.0 / est.covariances_, rtol=METHOD_TOL)
        assert_allclose(prec_chol, est.covariances_**-0.5, rtol=METHOD_TOL)
        return
    covariances = est.covariances_
    if covariance_type == "tied":
        prec_chol, precisions, covariances = (
            prec_chol[None],
            precisions[None],
            covariances[None],
        )
    for L, P, C in zip(prec_chol, precisions, covariances, strict=True):
        # Conditioning of these matrices is < 1e3, so inversion costs at most
        # ~1e-13 relative; METHOD_TOL still applies.
        assert_allclose(P, np.linalg.inv(C), rtol=METHOD_TOL, atol=METHOD_TOL)
        assert_allclose(L @ L.T, P, rtol=METHOD_TOL, atol=METHOD_TOL)
        # scikit-learn's convention: the factor is upper triangular.
        assert_array_equal(L, np.triu(L))


# Guards sample(): shapes, labels grouped by component, label frequencies
# matching weights_, and per-component means matching means_.
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_sample_matches_released_model(covariance_type):
    est = _private_fit(covariance_type, k=2, seed=1)
    n = 20_000
    X, y = est.sample(n)
    assert X.shape == (n, 2)
    assert y.shape == (n,)
    assert np.all(np.diff(y) >= 0), "samples are documented grouped by component"
    assert set(np.unique(y)) <= {0, 1}
    covariances = _dense_covariances(est)
    for k in range(est.n_components):
        n_k = int(np.sum(y == k))
        # Count of label k is Binomial(n, w_k): 5 standard errors leave a
        # false-alarm rate below 1e-6 per component.
        se_count = np.sqrt(n * est.weights_[k] * (1.0 - est.weights_[k]))
        assert abs(n_k - n * est.weights_[k]) <= 5.0 * se_count + 1.0
        if n_k < 30:
            continue
        # The mean of n_k draws from N(m_k, S_k) has standard error
        # sqrt(diag(S_k) / n_k) per feature; 5 of them, same reasoning.
        se_mean = np.sqrt(np.diag(covariances[k]) / n_k)
        deviation = np.abs(X[y == k].mean(axis=0) - est.means_[k])
        assert np.all(deviation <= 5.0 * se_mean), (k, deviation, se_mean)
