"""Independent cross-check of the privacy accounting of fitted estimators.

``epsilon_spent_`` is recomputed from a fitted estimator's
``noise_multipliers_`` with Google's ``dp_accounting`` only: nothing from
``sklearn_dpgmm.accounting`` enters the recomputation. The multipliers
themselves are tied to the noise the fit really adds by capturing the standard
deviations handed to ``add_noise``, so the chain "noise actually drawn ->
reported multipliers -> reported epsilon" is checked end to end. What is taken
on trust here is the sensitivity of each statistic group (1, rho, rho^2),
which ``tests/test_statistics.py`` and the empirical audit in
``tests/test_audit.py`` check.
"""

import itertools
import re
from pathlib import Path

import dp_accounting
import numpy as np
import pytest
from dp_accounting.pld.privacy_loss_mechanism import GaussianPrivacyLoss
from scipy.optimize import brentq

import sklearn_dpgmm._estimator as estimator_module
from sklearn_dpgmm import DPGaussianMixture

ROOT = Path(__file__).resolve().parent.parent
PRIVACY_DOC = ROOT / "doc" / "privacy.md"

EPSILONS = (0.1, 1.0, 5.0)
DELTAS = (1e-7, 1e-5)
COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
MAX_ITERS = (1, 4, 12)
ALLOCATIONS = ("uniform", "kl")
INITS = ("random", "split")

BOUNDS = (-4.0, 4.0)

# Both epsilons are solutions of the same tight Gaussian privacy profile,
# evaluated by two independent pieces of code and each solved by brentq to
# ~1e-14; 1e-6 relative leaves room for the conditioning of the profile at
# epsilon = 0.1 and delta = 1e-7 while still catching any wrong formula,
# missing release or mis-scaled multiplier.
RTOL = 1e-6

# The PLD accountant rounds every release's privacy loss up to a grid of this
# width (pessimistic), so its epsilon for m releases is above the exact one by
# at most m * PLD_INTERVAL. Coarse, to keep the test fast.
PLD_INTERVAL = 1e-3


def _data(seed=0):
    """Tiny two-cluster data set inside BOUNDS: n=60, d=2."""
    rng = np.random.default_rng(seed)
    return np.concatenate(
        [rng.normal(-1.5, 0.6, (30, 2)), rng.normal(1.5, 0.6, (30, 2))]
    )


def _fit_capturing_noise(monkeypatch, **params):
    """Fit, recording the noise std of every group of every add_noise call."""
    calls = []
    real_add_noise = estimator_module.add_noise

    def recording_add_noise(stats, stds, covariance_type, rng):
        calls.append((stds.counts, stds.first, stds.second))
        return real_add_noise(stats, stds, covariance_type, rng)

    with monkeypatch.context() as patch:
        patch.setattr(estimator_module, "add_noise", recording_add_noise)
        gm = DPGaussianMixture(
            n_components=2, bounds=BOUNDS, compute_kl=False, random_state=0, **params
        ).fit(_data())
    return gm, np.array(calls)


def _independent_epsilon(noise_multipliers, delta):
    """Epsilon at ``delta`` of the releases, with dp_accounting only.

    Each release (t, g) adds Gaussian noise of std ``m_tg`` to a query of L2
    sensitivity 1, so it is (1 / m_tg)-GDP; Gaussian mechanisms compose to a
    Gaussian mechanism of GDP parameter ``sqrt(sum 1 / m_tg^2)``, whose exact
    privacy profile is dp_accounting's GaussianPrivacyLoss with standard
    deviation ``1 / mu`` and sensitivity 1. Solve it for epsilon at ``delta``.
    """
    mu = float(np.sqrt(np.sum(np.asarray(noise_multipliers, dtype=float) ** -2.0)))
    loss = GaussianPrivacyLoss(standard_deviation=1.0 / mu, sensitivity=1.0)
    return brentq(
        lambda eps: loss.get_delta_for_epsilon(eps) - delta,
        0.0,
        1000.0,
        xtol=1e-14,
        rtol=1e-14,
        maxiter=500,
    )


def _pld_epsilon(noise_multipliers, delta):
    """Epsilon of every release composed one by one in dp_accounting's PLD."""
    accountant = dp_accounting.pld.PLDAccountant(
        value_discretization_interval=PLD_INTERVAL
    )
    events = [
        dp_accounting.GaussianDpEvent(noise_multiplier=float(m))
        for m in np.ravel(noise_multipliers)
    ]
    accountant.compose(dp_accounting.ComposedDpEvent(events))
    return accountant.get_epsilon(delta)


# Guards the whole accounting of a fit against an independent accountant, on
# a grid: for every covariance type, allocation, initialisation,
# number of iterations, epsilon and delta,
# * the fit adds noise exactly max_iter times, and the std of each group is its
#   reported multiplier times its sensitivity (1, rho, rho^2 with
#   rho = clip_radius_), so noise_multipliers_ describes the noise really drawn;
# * epsilon recomputed from noise_multipliers_ with dp_accounting agrees with
#   epsilon_spent_ to RTOL and does not exceed the requested epsilon (up to
#   RTOL), i.e. the promise holds according to someone else's code.
@pytest.mark.parametrize(
    "covariance_type, allocation, init_params",
    list(itertools.product(COVARIANCE_TYPES, ALLOCATIONS, INITS)),
)
def test_epsilon_spent_matches_dp_accounting(
    monkeypatch, covariance_type, allocation, init_params
):
    for max_iter, epsilon, delta in itertools.product(MAX_ITERS, EPSILONS, DELTAS):
        case = (max_iter, epsilon, delta)
        gm, stds = _fit_capturing_noise(
            monkeypatch,
            covariance_type=covariance_type,
            allocation=allocation,
            init_params=init_params,
            max_iter=max_iter,
            epsilon=epsilon,
            delta=delta,
        )
        m = gm.noise_multipliers_
        assert m.shape == (max_iter, 3), case
        assert np.all(np.isfinite(m)) and np.all(m > 0), case

        rho = gm.clip_radius_
        sensitivities = np.array([1.0, rho, rho**2])
        assert stds.shape == (max_iter, 3), case
        np.testing.assert_allclose(stds, m * sensitivities, rtol=1e-12, err_msg=case)

        theirs = _independent_epsilon(m, delta)
        assert theirs == pytest.approx(gm.epsilon_spent_, rel=RTOL), case
        assert theirs <= epsilon * (1.0 + RTOL), case


# Guards the composition step itself: the per-group releases are composed as
# separate Gaussian events in dp_accounting's privacy-loss-distribution
# accountant, which knows nothing about GDP. Its epsilon is an upper bound
# (pessimistic discretisation), so ours must not be above it (beyond solver
# rounding, 1e-9), and it must be close: above ours by at most the
# discretisation bound of m releases. The "kl" allocation gives every release
# its own multiplier, so this also checks unequal multipliers.
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize(
    "epsilon, delta, max_iter, allocation, init_params",
    [
        (1.0, 1e-5, 12, "kl", "split"),
        (5.0, 1e-7, 4, "kl", "random"),
        (0.1, 1e-5, 4, "uniform", "split"),
    ],
)
def test_per_release_composition_matches_pld(
    monkeypatch, covariance_type, epsilon, delta, max_iter, allocation, init_params
):
    gm, _ = _fit_capturing_noise(
        monkeypatch,
        covariance_type=covariance_type,
        allocation=allocation,
        init_params=init_params,
        max_iter=max_iter,
        epsilon=epsilon,
        delta=delta,
    )
    m = gm.noise_multipliers_
    pld = _pld_epsilon(m, delta)
    ours = gm.epsilon_spent_
    assert pld >= ours - 1e-9
    assert pld - ours <= m.size * PLD_INTERVAL
    if allocation == "kl" and max_iter > 1:
        # The releases really do have different multipliers.
        assert np.ptp(m) > 0


def _doc_recompute_block():
    """The Python block of doc/privacy.md between the recompute markers."""
    text = PRIVACY_DOC.read_text(encoding="utf-8")
    section = re.search(
        r"<!-- recompute:start -->(.*?)<!-- recompute:end -->", text, re.S
    )
    assert section, "doc/privacy.md lost its recompute markers"
    block = re.search(r"```python\n(.*?)```", section.group(1), re.S)
    assert block, "no ```python block between the recompute markers"
    return block.group(1)


# Guards the recipe that doc/privacy.md gives users for checking a model's
# guarantee with an independent accountant: the exact code of the page is run,
# and what it computes must agree with the fitted model it builds.
def test_privacy_doc_recipe_runs_and_agrees(capsys):
    namespace = {}
    exec(compile(_doc_recompute_block(), str(PRIVACY_DOC), "exec"), namespace)
    gm = namespace["gm"]
    assert namespace["epsilon"] == pytest.approx(gm.epsilon_spent_, rel=RTOL)
    assert namespace["epsilon"] <= gm.epsilon * (1.0 + RTOL)
    pld = namespace["epsilon_pld"]
    assert gm.epsilon_spent_ - 1e-9 <= pld <= gm.epsilon_spent_ + 0.01
    assert capsys.readouterr().out.strip()
