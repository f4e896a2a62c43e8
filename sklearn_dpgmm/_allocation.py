"""How the privacy budget of one fit is split across iterations and statistics.

The whole fit is ``mu``-GDP. Release ``t`` of statistic group ``g`` is a
Gaussian mechanism with GDP parameter ``mu_tg = Delta_g / sigma_tg``, and the
releases compose to ``sqrt(sum_tg mu_tg^2)``. A split is therefore a table of
non-negative *shares* ``rho_tg`` summing to one, with ``mu_tg = mu sqrt(rho_tg)``.
Every split below is chosen from public quantities only.
"""

import numpy as np

ALLOCATIONS = ("uniform",)


def split_budget(mu_total, n_iter, n_groups, allocation="uniform"):
    """GDP parameter of every (iteration, group) release.

    Parameters
    ----------
    mu_total : float
        GDP parameter of the whole fit (``np.inf`` for no noise).
    n_iter : int
        Number of private EM iterations.
    n_groups : int
        Number of statistic groups released per iteration.
    allocation : {"uniform"}
        ``"uniform"``: every release gets the same share ``1 / (n_iter n_groups)``.

    Returns
    -------
    mus : ndarray of shape (n_iter, n_groups)
        ``sqrt(sum(mus**2)) == mu_total``.
    """
    if allocation != "uniform":
        raise ValueError(
            f"unknown allocation {allocation!r}; expected one of {ALLOCATIONS}."
        )
    shares = np.full((n_iter, n_groups), 1.0 / (n_iter * n_groups))
    return mu_total * np.sqrt(shares)
