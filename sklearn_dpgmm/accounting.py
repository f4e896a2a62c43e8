"""Privacy accounting in Gaussian differential privacy (GDP).

Every noisy release made by :class:`~sklearn_dpgmm.DPGaussianMixture` is a
Gaussian mechanism: a query with L2 sensitivity ``Delta`` perturbed by
``N(0, sigma^2)`` noise in every coordinate. Such a release is ``mu``-GDP with
``mu = Delta / sigma`` [DRS22]_. Gaussian DP composes exactly, also under
adaptive composition: releases with parameters ``mu_1, ..., mu_m`` are together
``mu``-GDP with ``mu = sqrt(mu_1^2 + ... + mu_m^2)``.

A ``mu``-GDP mechanism is ``(epsilon, delta(epsilon))``-DP for every
``epsilon >= 0`` with the analytic Gaussian relation [BW18]_::

    delta(epsilon) = Phi(-epsilon / mu + mu / 2)
                     - exp(epsilon) * Phi(-epsilon / mu - mu / 2)

where ``Phi`` is the standard normal CDF. The relation is tight: no smaller
``delta`` holds for that ``epsilon``. Both directions (``mu`` from a target
``(epsilon, delta)`` and ``epsilon`` from ``(mu, delta)``) are solved with
:func:`scipy.optimize.brentq`.

The relation is evaluated in double precision. For small ``mu`` its two terms
nearly cancel, and for ``epsilon`` below about 0.005 the delta of the ``mu``
returned by :func:`gdp_from_epsilon_delta` can exceed the target by about
``1e-11`` relatively. :class:`~sklearn_dpgmm.DPGaussianMixture` calibrates
with a relative margin of ``1e-10`` on ``mu``, which covers this.

References
----------
.. [DRS22] Dong, J., Roth, A. and Su, W. J. "Gaussian differential privacy".
   Journal of the Royal Statistical Society Series B, 84(1), 2022.
.. [BW18] Balle, B. and Wang, Y.-X. "Improving the Gaussian mechanism for
   differential privacy: analytical calibration and optimal denoising". ICML
   2018.
"""

import numpy as np
from scipy.optimize import brentq
from scipy.special import log_ndtr, ndtr

__all__ = [
    "compose_gdp",
    "delta_from_gdp",
    "epsilon_from_gdp",
    "gdp_from_epsilon_delta",
    "gdp_from_noise_multipliers",
]

# brentq brackets. A mu above _MU_MAX is (epsilon, delta)-DP only for epsilons
# far beyond anything meaningful; an epsilon above _EPS_MAX likewise.
_MU_MIN = 1e-12
_MU_MAX = 1e4
_EPS_MAX = 1e7


def delta_from_gdp(mu, epsilon):
    """Smallest delta for which a ``mu``-GDP mechanism is (epsilon, delta)-DP.

    Parameters
    ----------
    mu : float
        Gaussian-DP parameter, ``mu >= 0``.
    epsilon : float
        Privacy-loss bound, ``epsilon >= 0``.

    Returns
    -------
    delta : float
        ``Phi(-epsilon/mu + mu/2) - exp(epsilon) Phi(-epsilon/mu - mu/2)``.
    """
    mu = float(mu)
    epsilon = float(epsilon)
    if not mu >= 0.0:
        raise ValueError(f"mu must be >= 0; got {mu!r}.")
    if not epsilon >= 0.0:
        raise ValueError(f"epsilon must be >= 0; got {epsilon!r}.")
    if mu == 0.0:
        return 0.0
    if np.isinf(mu):
        return 1.0
    a = -epsilon / mu + mu / 2.0
    b = -epsilon / mu - mu / 2.0
    # exp(epsilon) * Phi(b) is computed in log space: for large epsilon both
    # factors overflow or underflow on their own.
    second = np.exp(epsilon + log_ndtr(b))
    return float(max(ndtr(a) - second, 0.0))


def gdp_from_epsilon_delta(epsilon, delta):
    """Largest ``mu`` such that ``mu``-GDP implies (epsilon, delta)-DP.

    Parameters
    ----------
    epsilon : float
        Target epsilon, ``epsilon > 0``; ``np.inf`` gives ``mu = inf``.
    delta : float
        Target delta in (0, 1).

    Returns
    -------
    mu : float
        The GDP parameter whose delta at ``epsilon`` equals ``delta``.
    """
    epsilon = float(epsilon)
    delta = float(delta)
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must be in (0, 1); got {delta!r}.")
    if not epsilon > 0.0:
        raise ValueError(f"epsilon must be > 0; got {epsilon!r}.")
    if np.isinf(epsilon):
        return np.inf

    def excess(mu):
        return delta_from_gdp(mu, epsilon) - delta

    # delta_from_gdp is increasing in mu, from 0 at mu=0 towards 1.
    if excess(_MU_MAX) < 0:
        return _MU_MAX
    mu = brentq(excess, _MU_MIN, _MU_MAX, xtol=1e-15, rtol=1e-15, maxiter=500)
    # Never hand back a mu whose delta exceeds the target by rounding.
    while excess(mu) > 0:
        mu = np.nextafter(mu, 0.0)
    return float(mu)


def epsilon_from_gdp(mu, delta):
    """Smallest epsilon for which a ``mu``-GDP mechanism is (epsilon, delta)-DP.

    Parameters
    ----------
    mu : float
        Gaussian-DP parameter, ``mu >= 0``; ``np.inf`` gives ``epsilon = inf``.
    delta : float
        Target delta in (0, 1).

    Returns
    -------
    epsilon : float
        The epsilon at which ``delta_from_gdp(mu, epsilon) == delta`` (0 when the
        mechanism is already (0, delta)-DP).
    """
    mu = float(mu)
    delta = float(delta)
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must be in (0, 1); got {delta!r}.")
    if not mu >= 0:
        raise ValueError(f"mu must be >= 0; got {mu!r}.")
    if np.isinf(mu):
        return np.inf

    def excess(eps):
        return delta_from_gdp(mu, eps) - delta

    # delta_from_gdp is decreasing in epsilon.
    if excess(0.0) <= 0:
        return 0.0
    if excess(_EPS_MAX) > 0:
        return np.inf
    eps = brentq(excess, 0.0, _EPS_MAX, xtol=1e-15, rtol=1e-15, maxiter=500)
    # Round up, never down: the reported epsilon must hold.
    while excess(eps) > 0:
        eps = np.nextafter(eps, np.inf)
    return float(eps)


def compose_gdp(mus):
    """Compose Gaussian-DP releases: ``sqrt(sum(mu_i^2))``.

    Parameters
    ----------
    mus : array-like of float
        GDP parameters of the individual releases (adaptively chosen is fine).

    Returns
    -------
    mu : float
    """
    mus = np.asarray(mus, dtype=float)
    if not np.all(mus >= 0):
        raise ValueError(f"every mu must be >= 0 and not NaN; got {mus!r}.")
    return float(np.sqrt(np.sum(mus**2)))


def gdp_from_noise_multipliers(noise_multipliers):
    """Total GDP parameter of releases described by their noise multipliers.

    Parameters
    ----------
    noise_multipliers : array-like of float
        Each entry is ``sigma / Delta`` for one Gaussian release (noise standard
        deviation over L2 sensitivity). ``np.inf`` marks a release that did not
        happen (no privacy cost); ``0`` marks a release without noise, which
        makes the total infinite.

    Returns
    -------
    mu : float
        ``sqrt(sum(1 / m^2))``.
    """
    m = np.asarray(noise_multipliers, dtype=float)
    if np.any(m < 0) or np.any(np.isnan(m)):
        raise ValueError("noise multipliers must be >= 0 and not NaN.")
    if np.any(m == 0):
        return np.inf
    return float(np.sqrt(np.sum(1.0 / m**2)))
