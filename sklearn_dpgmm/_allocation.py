"""How the privacy budget of one fit is split across iterations and statistics.

The whole fit is ``mu``-GDP. Release ``(t, g)`` (iteration ``t``, statistic
group ``g``) is a Gaussian mechanism with GDP parameter ``mu_tg``, and the
releases compose to ``sqrt(sum_tg mu_tg^2)``. Iteration ``t = 1..T`` gets a
share of ``mu^2`` proportional to ``t`` (later iterations, which refine a
model that is already close, get less noise), fixed before any data is read.
Measured against equal shares and decreasing shares on three data sets, the
increasing schedule had 10-40% lower KL at epsilon <= 1 and decreasing shares
were worst (``doc/benchmarks.md``). Within an
iteration the share of each group is either equal (``"uniform"``) or chosen to
minimise the expected KL divergence that the noise causes (``"kl"``); the
latter reads only the previous released parameters, so it is post-processing.

Expected KL of one iteration (``"kl"``)
---------------------------------------
Work in the whitened units of ``_statistics``: the noise-free update of
component ``k`` has count ``n_k = w_k n``, whitened mean shift ``s_k`` and
whitened covariance close to the identity. Adding noise ``e_N``, ``e_F``,
``e_C`` (standard deviations ``sigma_N``, ``sigma_F``, ``sigma_C`` per
coordinate) to the count, first and second moment moves, to first order,

* the weights by ``(e_N,k - w_k sum_j e_N,j) / n``;
* the mean by ``(e_F - s_k e_N,k) / n_k`` (the count is a denominator);
* the covariance by ``(e_C - (I + s_k s_k^T) e_N,k) / n_k`` minus the outer
  products of the mean's move with ``s_k``.

The tractable bound ``KL(w || w') + sum_k w_k KL(N_k || N'_k)`` expands to
second order as ``1/2 sum_k dw_k^2 / w_k`` plus, per component,
``1/2 |dm|^2 + 1/4 tr(dS^2)`` in whitened units. Taking expectations over the
noise gives ``E[KL] = sum_g sigma_g^2 B_g / n^2`` with, for ``H = sum_k 1/w_k``,

* ``B_N = (H - k) / 2 + sum_k (|s_k|^2 / 2) / w_k + d H' / 4``
* ``B_F = d H / 2``
* ``B_C = c H / 4``

where ``H' = H`` except for tied covariances, whose one pooled matrix divides by
``n`` and sees the ``k`` count noises summed (``H' = k``), and
``c`` the squared Frobenius norm of a unit-noise second moment as the M-step
sees it: ``d^2`` for full, ``d`` for diag, ``1 / d`` for spherical, and for
tied ``d^2 / H`` (one pooled matrix over ``n``). With
``sigma_g = scale_g / mu_g`` (``scale_g`` = 1, ``rho``, ``rho^2``) and the
constraint ``sum_g mu_g^2 = mu_t^2``, the minimiser is the closed form
``mu_g^2 = mu_t^2 sqrt(b_g) / sum_j sqrt(b_j)`` with
``b_g = B_g scale_g^2``.
"""

import numpy as np

ALLOCATIONS = ("uniform", "kl")


def iteration_budgets(mu_total, n_iter):
    """GDP parameter of every iteration: ``mu_t^2`` proportional to ``t``.

    Returns
    -------
    mus : ndarray of shape (n_iter,)
        ``sqrt(sum(mus**2)) == mu_total``.
    """
    weights = np.arange(1, n_iter + 1, dtype=float)
    return mu_total * np.sqrt(weights / weights.sum())


def kl_coefficients(weights, shifts_sq, n_features, covariance_type):
    """``B_g`` of the expected-KL expansion for counts, first, second moments.

    Parameters
    ----------
    weights : ndarray of shape (n_components,)
        Released weights the responsibilities are computed from.
    shifts_sq : ndarray of shape (n_components,)
        Squared whitened mean shift expected in this iteration (0 at a fixed
        point).
    n_features : int
    covariance_type : str

    Returns
    -------
    ndarray of shape (3,)
    """
    w = np.asarray(weights, dtype=float)
    d, k = n_features, w.size
    inv = 1.0 / np.maximum(w, 1e-12)
    harmonic = inv.sum()
    frob = {"full": d**2, "diag": d, "spherical": 1.0 / d, "tied": d**2 / harmonic}[
        covariance_type
    ]
    count_noise_in_cov = k if covariance_type == "tied" else harmonic
    b_counts = (
        (harmonic - k) / 2.0
        + np.sum(shifts_sq / 2.0 * inv)
        + d * count_noise_in_cov / 4.0
    )
    return np.array([b_counts, d * harmonic / 2.0, frob * harmonic / 4.0])


def expected_kl(coefficients, stds, n_total):
    """Second-order expected KL of one noisy iteration: ``sum sigma^2 B / n^2``."""
    return float(np.dot(np.asarray(stds) ** 2, coefficients) / n_total**2)


def split_iteration(mu_t, coefficients, scales, allocation):
    """GDP parameter of each group in one iteration.

    Parameters
    ----------
    mu_t : float
        GDP parameter of the iteration (``np.inf`` for no noise).
    coefficients : ndarray of shape (3,)
        ``B_g`` from :func:`kl_coefficients` (ignored for ``"uniform"``).
    scales : ndarray of shape (3,)
        Sensitivity of each group (noise std is ``scale / mu_g``).
    allocation : {"uniform", "kl"}

    Returns
    -------
    mus : ndarray of shape (3,)
        ``sqrt(sum(mus**2)) == mu_t``.
    """
    n_groups = len(scales)
    if allocation == "uniform" or not np.isfinite(mu_t):
        return np.full(n_groups, mu_t / np.sqrt(n_groups))
    root = np.sqrt(np.asarray(coefficients) * np.asarray(scales) ** 2)
    return mu_t * np.sqrt(root / root.sum())
