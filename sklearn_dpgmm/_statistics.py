"""Per-component sufficient statistics of one EM iteration and their sensitivity.

All statistics are computed on *normalised* records ``z`` that lie in the box
``|z_j| <= a_j`` (the clipping box, centred and rescaled; see
``doc/mechanism.md``). With responsibilities ``r_ik >= 0``, ``sum_k r_ik = 1``,
computed from public (already private) parameters, the statistics are sums over
records:

=========  ==============================  =========================
group      statistic                       shape
=========  ==============================  =========================
counts     ``N_k = sum_i r_ik``            (k,)
first      ``S_k = sum_i r_ik z_i``        (k, d)
second     full: ``sum_i r_ik z_i z_i^T``  (k, d, d)
           tied: ``sum_i z_i z_i^T``       (d, d)
           diag: ``sum_i r_ik z_i**2``     (k, d)
           spherical: ``sum_i r_ik |z_i|^2`` (k,)
=========  ==============================  =========================

Adding or removing one record ``z`` changes each group by that record's own
term, so the L2 sensitivity of a group is the largest norm of one record's term
over the box and over responsibility vectors on the simplex. Symmetric matrices
are released through their upper triangle (diagonal included), so their
sensitivity is measured on that triangle, not on the full matrix.
"""

from dataclasses import dataclass

import numpy as np

GROUPS = ("counts", "first", "second")


@dataclass(frozen=True)
class Sensitivities:
    """L2 sensitivity of each statistic group under add/remove-one-record."""

    counts: float
    first: float
    second: float

    def as_array(self):
        return np.array([self.counts, self.first, self.second])


def sensitivities(covariance_type, half_widths):
    """L2 sensitivity of each group for records in the box ``|z_j| <= a_j``.

    Derivation (``a`` is ``half_widths``, ``r`` a responsibility vector):

    * counts: one record adds ``r``, and ``|r|_2 <= |r|_1 = 1``.
    * first: the stacked term is ``r_k z``; its norm is
      ``|r|_2 |z|_2 <= |a|_2``.
    * second, full: ``sum_k r_k^2 sum_{j<=l} z_j^2 z_l^2 <= T(a)`` with
      ``T(a) = ((sum_j a_j^2)^2 + sum_j a_j^4) / 2`` (the upper triangle
      counts each off-diagonal product once); sensitivity ``sqrt(T(a))``.
    * second, tied: one matrix ``z z^T`` with no responsibility; same bound.
    * second, diag: ``|r|_2 |z**2|_2 <= sqrt(sum_j a_j^4)``.
    * second, spherical: ``|r|_2 |z|_2^2 <= sum_j a_j^2``.

    Every bound is attained by a record at a corner of the box whose
    responsibility is one-hot, so none of them is loose.
    """
    a2 = np.asarray(half_widths, dtype=float) ** 2
    if covariance_type in ("full", "tied"):
        second = np.sqrt((a2.sum() ** 2 + np.sum(a2**2)) / 2.0)
    elif covariance_type == "diag":
        second = np.sqrt(np.sum(a2**2))
    else:
        second = a2.sum()
    return Sensitivities(counts=1.0, first=float(np.sqrt(a2.sum())), second=second)


@dataclass
class Statistics:
    """Sufficient statistics of one iteration (noisy or exact)."""

    counts: np.ndarray
    first: np.ndarray
    second: np.ndarray


def empty_statistics(covariance_type, n_components, n_features):
    k, d = n_components, n_features
    second_shape = {
        "full": (k, d, d),
        "tied": (d, d),
        "diag": (k, d),
        "spherical": (k,),
    }[covariance_type]
    return Statistics(np.zeros(k), np.zeros((k, d)), np.zeros(second_shape))


def accumulate(stats, z, resp, covariance_type):
    """Add the terms of the records ``z`` (n, d) with responsibilities ``resp``."""
    stats.counts += resp.sum(axis=0)
    stats.first += resp.T @ z
    if covariance_type == "full":
        for k in range(resp.shape[1]):
            stats.second[k] += (z * resp[:, k : k + 1]).T @ z
    elif covariance_type == "tied":
        stats.second += z.T @ z
    elif covariance_type == "diag":
        stats.second += resp.T @ (z * z)
    else:
        stats.second += resp.T @ np.einsum("ij,ij->i", z, z)
    return stats


def record_terms(z, resp, covariance_type):
    """The released vector of each group for single records, as flat arrays.

    Returns one ``Statistics`` whose arrays have a leading axis over records and
    whose symmetric matrices are reduced to their upper triangle: exactly the
    coordinates that receive noise. Used to check sensitivities.
    """
    n, d = z.shape
    counts = resp
    first = (resp[:, :, None] * z[:, None, :]).reshape(n, -1)
    iu = np.triu_indices(d)
    outer = (z[:, :, None] * z[:, None, :])[:, iu[0], iu[1]]
    if covariance_type == "full":
        second = (resp[:, :, None] * outer[:, None, :]).reshape(n, -1)
    elif covariance_type == "tied":
        second = outer
    elif covariance_type == "diag":
        second = (resp[:, :, None] * (z * z)[:, None, :]).reshape(n, -1)
    else:
        second = resp * np.einsum("ij,ij->i", z, z)[:, None]
    return Statistics(counts, first, second)


def add_noise(stats, stds, covariance_type, rng):
    """Gaussian mechanism: independent noise of std ``stds.<group>`` per coordinate.

    Symmetric matrices get noise on the upper triangle, mirrored below, so the
    noisy matrix stays symmetric and each released coordinate is perturbed once.
    Returns a new ``Statistics``; ``stats`` is left unchanged.
    """
    counts = stats.counts + stds.counts * rng.standard_normal(stats.counts.shape)
    first = stats.first + stds.first * rng.standard_normal(stats.first.shape)
    if covariance_type in ("full", "tied"):
        second = stats.second + stds.second * _symmetric_noise(stats.second.shape, rng)
    else:
        second = stats.second + stds.second * rng.standard_normal(stats.second.shape)
    return Statistics(counts, first, second)


def _symmetric_noise(shape, rng):
    d = shape[-1]
    iu = np.triu_indices(d)
    upper = np.zeros(shape)
    upper[..., iu[0], iu[1]] = rng.standard_normal(shape[:-2] + (iu[0].size,))
    diag = np.diagonal(upper, axis1=-2, axis2=-1)
    return upper + np.swapaxes(upper, -1, -2) - _embed_diagonal(diag)


def _embed_diagonal(diag):
    out = np.zeros(diag.shape + (diag.shape[-1],))
    idx = np.arange(diag.shape[-1])
    out[..., idx, idx] = diag
    return out
