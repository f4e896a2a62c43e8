"""PrivacyBudget with real fits and scikit-learn's model selection tools.

``tests/test_budget.py`` tests the budget's own arithmetic with hand-made
charges; here the charges come from ``DPGaussianMixture.fit`` run by
``GridSearchCV`` and by plain loops, and the total is recomputed with Google's
``dp_accounting`` (nothing from ``sklearn_dpgmm.accounting`` in the
expectation).
"""

import warnings

import numpy as np
import pytest
from dp_accounting.pld.privacy_loss_mechanism import GaussianPrivacyLoss
from scipy.optimize import brentq
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import GridSearchCV

import sklearn_dpgmm._estimator as estimator_module
from sklearn_dpgmm import BudgetExceededError, DPGaussianMixture, PrivacyBudget
from sklearn_dpgmm.budget import active_budget

DELTA = 1e-5
BOUNDS = (-5.0, 5.0)
GRID = {"epsilon": [0.5, 1.0]}
CV = 2

# Both sides solve the same Gaussian privacy profile with independent code.
RTOL = 1e-6


@pytest.fixture(autouse=True)
def no_open_budget():
    # A budget left open by a failing test would charge every later fit.
    assert active_budget() is None
    yield
    assert active_budget() is None


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    return np.concatenate([rng.normal(-2, 0.7, (40, 2)), rng.normal(2, 0.7, (40, 2))])


@pytest.fixture
def record_fits(monkeypatch):
    """Log of fits: ("fit", epsilon) when fit starts, ("read", None) when it
    reads X, ("done", noise_multipliers_) when it returns."""
    log = []
    real_fit = DPGaussianMixture.fit
    real_validate = estimator_module.validate_data

    def fit(self, X, y=None):
        log.append(("fit", self.epsilon))
        out = real_fit(self, X, y)
        log.append(("done", self.noise_multipliers_.copy()))
        return out

    def validate_data(*args, **kwargs):
        if kwargs.get("reset", True):
            log.append(("read", None))
        return real_validate(*args, **kwargs)

    monkeypatch.setattr(DPGaussianMixture, "fit", fit)
    monkeypatch.setattr(estimator_module, "validate_data", validate_data)
    return log


def _events(log, kind):
    return [value for k, value in log if k == kind]


def _gaussian_epsilon(mu, delta):
    """Epsilon of a mu-GDP (Gaussian) mechanism at delta, via dp_accounting."""
    loss = GaussianPrivacyLoss(standard_deviation=1.0 / mu, sensitivity=1.0)
    return brentq(
        lambda e: loss.get_delta_for_epsilon(e) - delta,
        0.0,
        1000.0,
        xtol=1e-14,
        rtol=1e-14,
    )


def _gaussian_mu(epsilon, delta):
    """GDP parameter of the Gaussian mechanism that is exactly
    (epsilon, delta)-DP, via dp_accounting."""

    def excess(mu):
        loss = GaussianPrivacyLoss(standard_deviation=1.0 / mu, sensitivity=1.0)
        return loss.get_delta_for_epsilon(epsilon) - delta

    return brentq(excess, 1e-6, 50.0, xtol=1e-15, rtol=1e-14)


def _composed_epsilon(epsilons, delta):
    """Epsilon at delta of fits at the given epsilons, composed in GDP."""
    mu = np.sqrt(sum(_gaussian_mu(e, delta) ** 2 for e in epsilons))
    return _gaussian_epsilon(mu, delta)


def _search(error_score="raise"):
    return GridSearchCV(
        DPGaussianMixture(bounds=BOUNDS, compute_kl=False, max_iter=3),
        GRID,
        cv=CV,
        error_score=error_score,
    )


# Guards that a grid search is charged for every fit it makes: one per fold
# and candidate plus the refit, each for its own epsilon, and that the total
# is the GDP composition of all of them (checked against dp_accounting). Each
# charge also equals what that fit's noise multipliers compose to, so the
# budget is charged for the noise the fit really used.
def test_grid_search_charges_every_fit(X, record_fits):
    with PrivacyBudget(epsilon=10.0, delta=DELTA) as budget:
        search = _search().fit(X)

    fitted = _events(record_fits, "fit")
    n_fits = CV * len(GRID["epsilon"]) + 1
    assert budget.n_charges == len(fitted) == n_fits
    assert sorted(fitted[:-1]) == sorted(GRID["epsilon"] * CV)
    assert fitted[-1] == search.best_params_["epsilon"]

    for charge, epsilon, m in zip(
        budget.charges, fitted, _events(record_fits, "done"), strict=True
    ):
        assert f"epsilon={epsilon}" in charge.description
        assert charge.mu == pytest.approx(_gaussian_mu(epsilon, DELTA), rel=1e-8)
        assert charge.mu == pytest.approx(np.sqrt(np.sum(m**-2.0)), rel=1e-9)

    expected = _composed_epsilon(fitted, DELTA)
    assert budget.epsilon_spent == pytest.approx(expected, rel=RTOL)
    # Composition, not addition: less than the sum, more than the largest.
    assert max(fitted) < budget.epsilon_spent < sum(fitted)


def _capacity_for(epsilons):
    """A budget epsilon that fits exactly these fits (and nothing more)."""
    return _composed_epsilon(epsilons, DELTA) * (1.0 + 1e-7)


# Guards refusal inside a grid search: with a budget that holds only the
# first three fits of the grid (GridSearchCV runs candidate by candidate, fold
# by fold), the fourth fit raises BudgetExceededError out of search.fit
# (error_score="raise"), after it started but before it read the data; the
# three accepted charges stand and nothing else is charged.
def test_grid_search_refused_before_reading_data(X, record_fits):
    first_three = [0.5, 0.5, 1.0]
    with PrivacyBudget(epsilon=_capacity_for(first_three), delta=DELTA) as budget:
        with pytest.raises(BudgetExceededError, match="epsilon=1.0"):
            _search().fit(X)

    assert _events(record_fits, "fit") == first_three + [1.0]
    assert len(_events(record_fits, "read")) == 3
    assert len(_events(record_fits, "done")) == 3
    assert budget.n_charges == 3
    assert budget.epsilon_spent == pytest.approx(
        _composed_epsilon(first_three, DELTA), rel=RTOL
    )


# Documents the pitfall doc/privacy.md warns about: with the default
# error_score (NaN) the refusal is swallowed. The refused fold gets a NaN
# score, scikit-learn only warns, and the search "succeeds" by picking among
# the candidates it could afford. The budget is still respected.
def test_grid_search_swallows_refusal_without_error_score_raise(X, record_fits):
    affordable = [0.5, 0.5, 1.0, 0.5]  # three fold fits and a refit at 0.5
    with PrivacyBudget(epsilon=_capacity_for(affordable), delta=DELTA) as budget:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            search = _search(error_score=np.nan).fit(X)

    assert any(issubclass(w.category, FitFailedWarning) for w in caught)
    scores = search.cv_results_["split1_test_score"]
    assert np.isnan(scores[1]) and np.isfinite(scores[0])
    assert search.best_params_ == {"epsilon": 0.5}
    assert budget.n_charges == 4
    assert len(_events(record_fits, "read")) == 4


# Guards that a non-private fit (epsilon=inf) cannot run inside a budget, and
# is refused before it reads the data.
def test_infinite_epsilon_refused_inside_budget(X, record_fits):
    with PrivacyBudget(epsilon=1.0, delta=DELTA) as budget:
        DPGaussianMixture(bounds=BOUNDS, epsilon=0.3, compute_kl=False).fit(X)
        with pytest.raises(BudgetExceededError, match="not differentially private"):
            DPGaussianMixture(bounds=BOUNDS, epsilon=np.inf, compute_kl=False).fit(X)
    assert budget.n_charges == 1
    assert len(_events(record_fits, "read")) == 1
    # Outside the block the same fit runs (and is not private).
    gm = DPGaussianMixture(bounds=BOUNDS, epsilon=np.inf, compute_kl=False).fit(X)
    assert gm.epsilon_spent_ == np.inf


# Guards a hand-written model selection loop over n_components: every fit is
# charged and the total is the GDP composition of all of them, whatever the
# covariance structure or size of each model. Choosing the best of them by BIC
# on the training data is NOT covered (doc/privacy.md); only the fits are.
def test_model_selection_loop_spends_the_composition(X, record_fits):
    epsilons = [0.4, 0.4, 0.6, 0.8]
    with PrivacyBudget(epsilon=5.0, delta=DELTA) as budget:
        for k, epsilon in enumerate(epsilons, start=1):
            DPGaussianMixture(
                n_components=k,
                covariance_type="diag",
                epsilon=epsilon,
                bounds=BOUNDS,
                compute_kl=False,
                max_iter=4,
            ).fit(X)
    assert budget.n_charges == len(epsilons)
    expected = _composed_epsilon(epsilons, DELTA)
    assert budget.epsilon_spent == pytest.approx(expected, rel=RTOL)
    assert budget.mu_spent == pytest.approx(
        np.sqrt(sum(_gaussian_mu(e, DELTA) ** 2 for e in epsilons)), rel=1e-8
    )
    assert max(epsilons) < budget.epsilon_spent < sum(epsilons)


# Guards the order of checks in fit: a fit rejected for invalid input (NaN in
# X, bounds of the wrong length, a bad init array) is refused before anything
# is recorded, so it costs nothing; a valid fit afterwards is charged once.
@pytest.mark.parametrize(
    "kwargs, X",
    [
        (dict(bounds=BOUNDS), np.array([[0.0, np.nan], [1.0, 2.0]])),
        (dict(bounds=([-5.0, -5.0, -5.0], [5.0, 5.0, 5.0])), np.zeros((4, 2))),
        (dict(bounds=BOUNDS, means_init=np.zeros((3, 2))), np.zeros((4, 2))),
    ],
)
def test_fit_rejected_for_bad_input_is_not_charged(kwargs, X):
    with PrivacyBudget(epsilon=2.0, delta=DELTA) as budget:
        with pytest.raises(ValueError, match=r"NaN|length|shape"):
            DPGaussianMixture(2, compute_kl=False, **kwargs).fit(X)
        assert budget.n_charges == 0
        DPGaussianMixture(2, bounds=BOUNDS, compute_kl=False).fit(np.zeros((4, 2)))
        assert budget.n_charges == 1
