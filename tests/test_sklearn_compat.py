"""scikit-learn API conformance of ``DPGaussianMixture``.

These tests look only at the public estimator API: the common estimator checks
of scikit-learn, cloning, pickling, meta-estimators, seeding and input dtypes.
"""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import check_is_fitted

from sklearn_dpgmm import DPGaussianMixture, PrivacyLeakWarning

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


# Constructor arguments for the common checks.
#
# Why explicit bounds and not the default ``bounds=None``: explicit public
# bounds are the only configuration under which the estimator is private, so
# it is the configuration whose API contract matters most, and it exercises the
# code path users are told to use. A scalar box broadcasts to any number of
# features, so it suits every data set the checks build (1 to many features);
# records outside it are clipped, which is ordinary behaviour, not an error.
# The default ``bounds=None`` path reads the box from the data; it is checked as
# well (one extra instance below) because users do reach for it while
# exploring, but its PrivacyLeakWarning is silenced there: that warning is
# asserted, message and all, in tests/test_estimator.py, and repeating it in
# every check would only bury real warnings.
#
# ``compute_kl=False`` keeps the checks fast (no reference fit, no Monte
# Carlo). ``max_iter=5`` is enough iterations for every code path to run while
# keeping the fits cheap. A finite epsilon keeps the noise on, so the checks
# see the private release and not the noiseless special case.
CHECK_KWARGS = dict(
    n_components=2, epsilon=1.0, max_iter=5, compute_kl=False, random_state=0
)
CHECKED_ESTIMATORS = [
    DPGaussianMixture(covariance_type=ct, bounds=(-10.0, 10.0), **CHECK_KWARGS)
    for ct in COVARIANCE_TYPES
] + [DPGaussianMixture(covariance_type="full", bounds=None, **CHECK_KWARGS)]

# A fixed box for the remaining tests; the data below lies well inside it.
BOUNDS = (-6.0, 6.0)


def _blobs(n=120, seed=0):
    """Two well separated 2-D blobs inside BOUNDS."""
    rng = np.random.default_rng(seed)
    half = n // 2
    return np.concatenate(
        [rng.normal(-2.0, 0.5, (half, 2)), rng.normal(2.0, 0.5, (n - half, 2))]
    )


def _fitted(seed=0, **kwargs):
    params = dict(n_components=2, bounds=BOUNDS, compute_kl=False, random_state=seed)
    params.update(kwargs)
    return DPGaussianMixture(**params).fit(_blobs())


def _assert_params_equal(a, b):
    """get_params() of two estimators are equal, comparing arrays by value."""
    pa, pb = a.get_params(), b.get_params()
    assert pa.keys() == pb.keys()
    for name in pa:
        va, vb = pa[name], pb[name]
        if name == "bounds" and va is not None:
            assert len(va) == len(vb) == 2
            for side_a, side_b in zip(va, vb, strict=True):
                assert_array_equal(side_a, side_b)
        elif isinstance(va, np.ndarray):
            assert_array_equal(va, vb)
        else:
            assert va == vb, name


# Guards the whole scikit-learn estimator contract (get/set_params, fit
# returning self, no mutation of the input or of the parameters, n_features_in_,
# dtypes, NaN/inf rejection, pickling, idempotent fits, ...). No check is
# expected to fail: nothing in the contract conflicts with privacy.
@parametrize_with_checks(CHECKED_ESTIMATORS)
def test_sklearn_common_checks(estimator, check):
    with warnings.catch_warnings():
        if estimator.bounds is None:
            warnings.simplefilter("ignore", PrivacyLeakWarning)
        check(estimator)


# Guards clone(): same parameters (arrays compared by value, so a copied box is
# equal but not the same object) and no fitted state carried over.
def test_clone_is_equal_and_unfitted():
    lower, upper = np.array([-6.0, -7.0]), np.array([6.0, 7.0])
    est = _fitted(bounds=(lower, upper), covariance_type="diag", epsilon=2.0)
    copy = clone(est)
    _assert_params_equal(est, copy)
    assert copy.get_params()["epsilon"] == 2.0
    with pytest.raises(NotFittedError, match="not fitted"):
        check_is_fitted(copy)
    assert not hasattr(copy, "weights_")


# Guards pickling of a fitted model: the unpickled model must give bit-for-bit
# the same densities (no state recomputed or lost on the way).
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_pickle_round_trip_gives_identical_scores(covariance_type):
    est = _fitted(covariance_type=covariance_type)
    restored = pickle.loads(pickle.dumps(est))
    X_new = np.random.default_rng(5).uniform(-6.0, 6.0, (40, 2))
    assert_array_equal(restored.score_samples(X_new), est.score_samples(X_new))
    assert_array_equal(restored.predict(X_new), est.predict(X_new))
    assert restored.epsilon_spent_ == est.epsilon_spent_


def _public_affine(X):
    """Fixed, data-independent map: km -> units of 100 m, centred on 500 km."""
    return (np.asarray(X) - 500.0) * 10.0


# Guards use inside a Pipeline behind a public affine transform: the pipeline
# fits, and its scores are exactly those of the mixture on transformed data
# (the composition adds nothing and loses nothing).
def test_pipeline_with_public_affine_map():
    X = 500.0 + _blobs() / 10.0  # the blobs, in the raw units of _public_affine
    pipe = Pipeline(
        [
            ("scale", FunctionTransformer(_public_affine)),
            ("gmm", DPGaussianMixture(2, bounds=BOUNDS, compute_kl=False)),
        ]
    )
    pipe.set_params(gmm__random_state=3).fit(X)
    gmm = pipe.named_steps["gmm"]
    X_new = 500.0 + np.random.default_rng(1).uniform(-0.6, 0.6, (30, 2))
    scores = pipe.score_samples(X_new)
    assert scores.shape == (30,)
    assert np.all(np.isfinite(scores))
    assert_array_equal(scores, gmm.score_samples(_public_affine(X_new)))
    assert pipe.score(X_new) == pytest.approx(scores.mean(), rel=1e-12)


# Guards GridSearchCV over epsilon: cloning, set_params and score() must work
# together, and the winner must be one of the candidates.
def test_grid_search_over_epsilon():
    search = GridSearchCV(
        DPGaussianMixture(2, bounds=BOUNDS, compute_kl=False, random_state=0),
        param_grid={"epsilon": [0.5, 1.0, 2.0]},
        cv=3,
    )
    search.fit(_blobs())
    assert search.best_params_["epsilon"] in (0.5, 1.0, 2.0)
    assert search.best_estimator_.epsilon == search.best_params_["epsilon"]
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    # The refitted winner really spent the budget it was given.
    assert search.best_estimator_.epsilon_spent_ <= search.best_params_["epsilon"]


# Guards fit_predict against drifting from fit().predict(): same seed, same
# data, so the same release and the same labels.
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_fit_predict_equals_fit_then_predict(covariance_type):
    X = _blobs()
    kwargs = dict(bounds=BOUNDS, compute_kl=False, covariance_type=covariance_type)
    labels = DPGaussianMixture(2, random_state=11, **kwargs).fit_predict(X)
    expected = DPGaussianMixture(2, random_state=11, **kwargs).fit(X).predict(X)
    assert_array_equal(labels, expected)


RELEASED = ("weights_", "means_", "covariances_", "precisions_cholesky_")


# Guards reproducibility: a fixed random_state (int, or a fresh RandomState /
# Generator built from the same int) fixes the noise, hence the release.
@pytest.mark.parametrize(
    "make_state",
    [lambda: 7, lambda: np.random.RandomState(7), lambda: np.random.default_rng(7)],
    ids=["int", "RandomState", "Generator"],
)
def test_fixed_random_state_reproduces_the_fit(make_state):
    a = _fitted(seed=make_state())
    b = _fitted(seed=make_state())
    for name in RELEASED:
        assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


# Guards that the seed actually reaches the noise: two seeds must give two
# different releases (a constant noise stream would be a privacy failure).
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_different_seeds_give_different_releases(covariance_type):
    a = _fitted(seed=0, covariance_type=covariance_type)
    b = _fitted(seed=1, covariance_type=covariance_type)
    for name in ("means_", "covariances_"):
        assert not np.array_equal(getattr(a, name), getattr(b, name)), name


def _exercise(est, X):
    """Call every data-consuming public method on X; return the fitted model."""
    labels = est.fit_predict(X)
    est.fit(X)
    assert labels.shape == (X.shape[0],)
    assert np.all(np.isfinite(est.score_samples(X)))
    proba = est.predict_proba(X)
    assert proba.shape == (X.shape[0], est.n_components)
    assert est.predict(X).shape == (X.shape[0],)
    assert np.isfinite(est.score(X))
    assert np.isfinite(est.bic(X))
    assert np.isfinite(est.aic(X))
    return est


# Guards that no method writes into the caller's array, for float64 and float32
# input, writable or read-only (a write into a read-only array would raise).
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("read_only", [False, True], ids=["writable", "read-only"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_input_is_not_modified(dtype, read_only, covariance_type):
    # Records partly outside the box, so that clipping has work to do: an
    # in-place clip would show up as a modified X.
    X = (_blobs() * 2.0).astype(dtype)
    assert np.any(np.abs(X) > BOUNDS[1])
    X_copy = X.copy()
    if read_only:
        X.setflags(write=False)
    est = DPGaussianMixture(
        2,
        covariance_type=covariance_type,
        bounds=BOUNDS,
        compute_kl=False,
        random_state=0,
    )
    _exercise(est, X)
    assert X.dtype == dtype
    assert_array_equal(X, X_copy)


# Guards float32 support: a float32 fit must release (nearly) the model a
# float64 fit of the same numbers releases. float32 -> float64 is exact, so any
# difference comes from arithmetic done in float32; rtol=1e-4 allows float32
# rounding (~6e-8 relative) to be amplified ~1000x over 120 records and 10 EM
# iterations, and atol=1e-5 does the same for entries near zero (off-diagonal
# covariances) given entries of size up to ~10 here. Both still catch a wrong
# conversion (precision lost to float16, data silently rescaled or truncated).
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_fit_matches_float64_fit(covariance_type):
    X32 = _blobs().astype(np.float32)
    kwargs = dict(covariance_type=covariance_type)
    est32 = DPGaussianMixture(
        2, bounds=BOUNDS, compute_kl=False, random_state=4, **kwargs
    ).fit(X32)
    est64 = DPGaussianMixture(
        2, bounds=BOUNDS, compute_kl=False, random_state=4, **kwargs
    ).fit(X32.astype(np.float64))
    for name in RELEASED:
        np.testing.assert_allclose(
            getattr(est32, name),
            getattr(est64, name),
            rtol=1e-4,
            atol=1e-5,
            err_msg=name,
        )
