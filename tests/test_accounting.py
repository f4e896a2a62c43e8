"""Tests of the Gaussian-DP accounting in ``sklearn_dpgmm.accounting``."""

import itertools

import dp_accounting
import numpy as np
import pytest
from dp_accounting.pld import privacy_loss_mechanism
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from sklearn_dpgmm.accounting import (
    compose_gdp,
    delta_from_gdp,
    epsilon_from_gdp,
    gdp_from_epsilon_delta,
    gdp_from_noise_multipliers,
)

# Grids of the brief: epsilon in 1e-3..50, delta in 1e-10..0.1 (log spaced).
EPSILONS = np.geomspace(1e-3, 50.0, 11)
DELTAS = np.geomspace(1e-10, 0.1, 10)
MUS = np.geomspace(1e-2, 30.0, 11)

# The solvers in accounting.py run brentq to ~1e-15 relative; 1e-9 leaves room
# for the conditioning of delta(mu, epsilon) at the edges of the grid while
# still catching a wrong formula or a loose solver tolerance.
ROUND_TRIP_RTOL = 1e-9


# Guards the inverse pair epsilon -> mu -> epsilon: gdp_from_epsilon_delta and
# epsilon_from_gdp must invert each other over the whole grid.
def test_round_trip_epsilon_mu_epsilon():
    for epsilon, delta in itertools.product(EPSILONS, DELTAS):
        mu = gdp_from_epsilon_delta(epsilon, delta)
        assert epsilon_from_gdp(mu, delta) == pytest.approx(
            epsilon, rel=ROUND_TRIP_RTOL
        ), (epsilon, delta)


# Guards the inverse pair mu -> epsilon -> mu. Pairs where the mechanism is
# already (0, delta)-DP are skipped: epsilon_from_gdp returns 0 there and the
# way back is undefined (epsilon must be > 0); they are counted so that the
# test cannot silently skip everything.
def test_round_trip_mu_epsilon_mu():
    n_checked = 0
    for mu, delta in itertools.product(MUS, DELTAS):
        epsilon = epsilon_from_gdp(mu, delta)
        if epsilon == 0.0:
            assert delta_from_gdp(mu, 0.0) <= delta
            continue
        n_checked += 1
        assert gdp_from_epsilon_delta(epsilon, delta) == pytest.approx(
            mu, rel=ROUND_TRIP_RTOL
        ), (mu, delta)
    assert n_checked >= 0.9 * len(MUS) * len(DELTAS)


# Guards the rounding direction, the safety-relevant part of the solvers: the
# mu handed out for a target (epsilon, delta) must not exceed delta at that
# epsilon, nor come back as a larger epsilon beyond the last bits of a float
# (1e-12 relative). Below epsilon = 0.01 the bound is 1e-10: there mu is tiny,
# delta_from_gdp is the difference of two nearly equal terms and carries a
# relative error of ~1e-11, so the root found by epsilon_from_gdp can sit a
# few 1e-12 above epsilon (see the xfail below).
def test_calibrated_mu_never_overspends():
    for epsilon, delta in itertools.product(EPSILONS, DELTAS):
        mu = gdp_from_epsilon_delta(epsilon, delta)
        assert delta_from_gdp(mu, epsilon) <= delta
        rtol = 1e-12 if epsilon >= 0.01 else 1e-10
        assert epsilon_from_gdp(mu, delta) <= epsilon * (1 + rtol), (epsilon, delta)


# Guards the same 1e-12 bound where it currently fails, so that the case is
# tracked: at this grid point the round trip overshoots by 1.15e-12 relative
# because of the cancellation described above. strict=True makes a fix in
# accounting.py show up as XPASS, so the xfail can then be dropped.
@pytest.mark.xfail(
    strict=True,
    reason="delta_from_gdp cancellation at small mu: round trip off by 1.15e-12",
)
def test_calibrated_mu_never_overspends_small_epsilon():
    epsilon, delta = 0.00295050938533692, 1e-8
    mu = gdp_from_epsilon_delta(epsilon, delta)
    assert epsilon_from_gdp(mu, delta) <= epsilon * (1 + 1e-12)


# Guards the reported epsilon direction: epsilon_from_gdp must return an epsilon
# at which delta_from_gdp is at most the requested delta (it rounds up).
def test_reported_epsilon_holds():
    for mu, delta in itertools.product(MUS, DELTAS):
        epsilon = epsilon_from_gdp(mu, delta)
        assert delta_from_gdp(mu, epsilon) <= delta


# Guards the shape of the privacy profile that both solvers rely on: delta is
# increasing in mu at fixed epsilon and decreasing in epsilon at fixed mu.
# The comparison is strict away from underflow and saturation.
def test_delta_monotone():
    mus = np.geomspace(1e-2, 20.0, 40)
    epsilons = np.concatenate([[0.0], np.geomspace(1e-3, 50.0, 40)])
    table = np.array([[delta_from_gdp(mu, eps) for eps in epsilons] for mu in mus])
    assert np.all((table >= 0) & (table <= 1))
    assert np.all(np.diff(table, axis=0) >= 0)
    assert np.all(np.diff(table, axis=1) <= 0)
    # Strictly, wherever delta is neither underflowing nor saturating at 1.
    visible = (table > 1e-12) & (table < 0.99)
    assert np.all(np.diff(table, axis=0)[visible[1:, :]] > 0)
    assert np.all(np.diff(table, axis=1)[visible[:, :-1]] < 0)


# Guards epsilon_from_gdp and gdp_from_epsilon_delta as monotone maps: more
# noise (smaller mu) never costs more epsilon, and a larger target epsilon
# never gets less mu.
def test_solvers_monotone():
    for delta in DELTAS:
        eps = [epsilon_from_gdp(mu, delta) for mu in MUS]
        assert np.all(np.diff(eps) >= 0)
        mus = [gdp_from_epsilon_delta(e, delta) for e in EPSILONS]
        assert np.all(np.diff(mus) > 0)


# Guards the documented edge cases: no release (mu=0) has delta 0 and epsilon
# 0; an infinite epsilon target allows infinite mu; an infinite mu (no noise)
# has infinite epsilon and delta 1.
def test_edge_cases():
    assert delta_from_gdp(0.0, 0.0) == 0.0
    assert delta_from_gdp(0.0, 1.0) == 0.0
    assert epsilon_from_gdp(0.0, 1e-5) == 0.0
    assert gdp_from_epsilon_delta(np.inf, 1e-5) == np.inf
    assert epsilon_from_gdp(np.inf, 1e-5) == np.inf
    assert delta_from_gdp(np.inf, 10.0) == 1.0
    assert compose_gdp([]) == 0.0
    assert gdp_from_noise_multipliers([np.inf, np.inf]) == 0.0
    assert gdp_from_noise_multipliers([1.0, 0.0]) == np.inf


def _delta_by_integration(mu, epsilon):
    """delta(epsilon) of N(0, 1) vs N(mu, 1) from the privacy-loss variable.

    With x ~ N(mu, 1) and privacy loss L(x) = mu x - mu^2 / 2, delta is
    E[max(0, 1 - exp(epsilon - L(x)))]. Substituting z = x - mu, the integrand
    is positive for z > z0 = epsilon / mu - mu / 2.
    """
    z0 = epsilon / mu - mu / 2.0

    def integrand(z):
        loss = mu * (z + mu) - mu**2 / 2.0
        return -np.expm1(epsilon - loss) * stats.norm.pdf(z)

    # Split at the mode of the density so quad sees both sides of the bump.
    value = 0.0
    if z0 < 0.0:
        value += integrate.quad(integrand, z0, 0.0, epsabs=1e-14, epsrel=1e-12)[0]
        z0 = 0.0
    value += integrate.quad(integrand, z0, np.inf, epsabs=1e-14, epsrel=1e-12)[0]
    return value


# Guards the closed form of delta_from_gdp against an independent derivation:
# numerical integration of the privacy-loss random variable of the Gaussian
# pair. quad is asked for ~1e-14 absolute accuracy, so 1e-9 absolute is a loose
# bound that still catches any error in the formula (a wrong sign or a missing
# exp(epsilon) factor changes delta by far more than 1e-9 on this grid).
@pytest.mark.parametrize("mu", [0.05, 0.3, 1.0, 2.0, 4.0, 8.0])
def test_delta_matches_privacy_loss_integral(mu):
    for epsilon in [0.0, 0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0]:
        expected = _delta_by_integration(mu, epsilon)
        assert delta_from_gdp(mu, epsilon) == pytest.approx(expected, abs=1e-9), (
            mu,
            epsilon,
        )


# Guards delta_from_gdp against Google's dp_accounting, which evaluates the
# same tight Gaussian privacy profile in its own code. Both are closed forms
# evaluated in double precision, hence 1e-9 absolute is generous.
@pytest.mark.parametrize("mu", [0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0])
def test_delta_matches_dp_accounting(mu):
    loss = privacy_loss_mechanism.GaussianPrivacyLoss(
        standard_deviation=1.0 / mu, sensitivity=1.0
    )
    epsilons = [0.0, 1e-3, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0]
    theirs = loss.get_delta_for_epsilon(epsilons)
    ours = [delta_from_gdp(mu, eps) for eps in epsilons]
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)


# Releases with different noise multipliers (np.inf: a release that did not
# happen and is left out of the dp_accounting event).
COMPOSITIONS = [
    [1.0],
    [2.0, 3.5, 5.0, 10.0, np.inf],
    [0.8, 0.8, 1.6, 25.0],
    [4.0] * 6 + [9.0] * 3,
]
PLD_INTERVAL = 1e-4


# Guards composition (gdp_from_noise_multipliers + epsilon_from_gdp) against
# dp_accounting's privacy-loss-distribution accountant on the same Gaussian
# releases. The PLD accountant is pessimistic: each mechanism's privacy loss is
# rounded up to the grid of width PLD_INTERVAL, so the composed loss of k
# releases is over-estimated by at most k * PLD_INTERVAL, and its epsilon by at
# most that much (the truncated tail mass, exp(-50) per release, moves delta by
# a negligible amount). Ours is exact, so it must lie in
# [theirs - 1e-9, theirs], up to that discretisation bound (the 1e-9 covers
# solver and FFT rounding).
@pytest.mark.parametrize("multipliers", COMPOSITIONS)
def test_composition_matches_dp_accounting_pld(multipliers):
    finite = [m for m in multipliers if np.isfinite(m)]
    accountant = dp_accounting.pld.PLDAccountant(
        value_discretization_interval=PLD_INTERVAL
    )
    accountant.compose(
        dp_accounting.ComposedDpEvent(
            [dp_accounting.GaussianDpEvent(noise_multiplier=m) for m in finite]
        )
    )
    mu = gdp_from_noise_multipliers(multipliers)
    slack = len(finite) * PLD_INTERVAL
    for delta in [1e-2, 1e-5, 1e-8]:
        ours = epsilon_from_gdp(mu, delta)
        theirs = accountant.get_epsilon(delta)
        assert ours <= theirs + 1e-9, (multipliers, delta)
        assert theirs - ours <= slack, (multipliers, delta)


# Guards input validation of the solvers: a delta outside (0, 1), a
# non-positive epsilon or a negative mu must be rejected with a message naming
# the parameter, never turned into a number.
@pytest.mark.parametrize("delta", [0.0, 1.0, -1e-5, 1.5, np.nan])
def test_invalid_delta(delta):
    with pytest.raises(ValueError, match=r"delta must be in \(0, 1\)"):
        gdp_from_epsilon_delta(1.0, delta)
    with pytest.raises(ValueError, match=r"delta must be in \(0, 1\)"):
        epsilon_from_gdp(1.0, delta)


@pytest.mark.parametrize("epsilon", [0.0, -1.0, -np.inf, np.nan])
def test_invalid_epsilon(epsilon):
    with pytest.raises(ValueError, match="epsilon must be > 0"):
        gdp_from_epsilon_delta(epsilon, 1e-5)


def test_invalid_mu():
    with pytest.raises(ValueError, match="mu must be >= 0"):
        epsilon_from_gdp(-0.5, 1e-5)
    with pytest.raises(ValueError, match="every mu must be >= 0"):
        compose_gdp([1.0, -0.1])
    with pytest.raises(ValueError, match="noise multipliers must be >= 0"):
        gdp_from_noise_multipliers([1.0, -2.0])
    with pytest.raises(ValueError, match="noise multipliers must be >= 0"):
        gdp_from_noise_multipliers([1.0, np.nan])


# Noise multipliers as the estimator would produce them: positive and finite,
# or np.inf for a release that did not happen.
noise_multipliers = st.lists(
    st.one_of(
        st.floats(min_value=1e-3, max_value=1e6),
        st.just(np.inf),
    ),
    min_size=0,
    max_size=12,
)


# Guards that gdp_from_noise_multipliers is GDP composition of per-release
# mu = 1/m. The two compute 1/m^2 and (1/m)^2, which differ by a few rounding
# errors per term, hence 1e-12 relative.
@settings(max_examples=200, deadline=None, derandomize=True)
@given(noise_multipliers)
def test_noise_multipliers_compose_like_mus(multipliers):
    expected = compose_gdp(1.0 / np.asarray(multipliers, dtype=float))
    assert gdp_from_noise_multipliers(multipliers) == pytest.approx(
        expected, rel=1e-12, abs=0.0
    )


# Guards compose_gdp as exact composition: splitting a release into parts whose
# squares add up, or composing in two stages, gives the same total.
@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.lists(st.floats(min_value=0.0, max_value=1e3), min_size=1, max_size=10),
    st.lists(st.floats(min_value=0.0, max_value=1e3), min_size=0, max_size=10),
)
def test_compose_gdp_is_associative(first, second):
    staged = compose_gdp([compose_gdp(first), compose_gdp(second)])
    assert staged == pytest.approx(compose_gdp(first + second), rel=1e-12, abs=0)
