"""M-step from noisy sufficient statistics, with post-processing to a valid model.

Everything here reads only noisy statistics, their noise scales and public
constants (the box), so it is post-processing and costs no privacy budget.

Post-processing, in normalised coordinates where records satisfy
``|z_j| <= a_j`` (``a`` = ``half_widths``):

1. **Pseudo-counts.** Each component receives ``nu`` pseudo-records drawn from
   the *broad reference*: mean 0 (the box centre) and the covariance of the
   uniform distribution over the box, ``diag(a^2 / 3)``. ``nu`` is proportional
   to the noise level in record equivalents (see :func:`pseudo_count`) and is
   exactly zero without noise, so the non-private M-step is reproduced. Under
   heavy noise the component drifts towards the broad reference instead of
   collapsing.
2. **Weights** ``w_k`` proportional to ``max(N_k, 0) + nu``: on the simplex.
3. **Means** ``S_k / (max(N_k, 0) + nu)``, clipped into the box (the mean of
   any distribution on the box lies in the box).
4. **Covariances** ``second / count - mean mean^T``, symmetrised, with
   eigenvalues clipped to ``[floor, ceiling]``. The ceiling is what the box
   justifies: the variance of a record along any unit direction ``u`` is at most
   ``(max |u.z|)^2 <= |a|^2`` (per coordinate ``a_j^2`` for diagonal, and the
   mean of ``a_j^2`` for spherical). The floor is the typical size of the noise
   on ``second / count`` (zero without noise). ``reg_covar`` (in normalised
   units) is added afterwards, as scikit-learn does.
"""

from dataclasses import dataclass

import numpy as np

# Small count added to every component (as scikit-learn does) so that a
# component with no responsibility keeps a finite log weight.
_TINY_COUNT = 10 * np.finfo(float).eps


@dataclass
class MixtureParams:
    """Weights, means and covariances of a mixture (any covariance type)."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray


def pseudo_count(noise_stds, prior_strength):
    """Pseudo-records granted to each component: ``prior_strength * max(std)``.

    The noise stds are in normalised units where one record contributes at
    most about one unit per coordinate to every statistic (up to the box's
    half-widths), so each std reads as a number of records.
    """
    return prior_strength * float(
        max(noise_stds.counts, noise_stds.first, noise_stds.second)
    )


def m_step(stats, covariance_type, half_widths, noise_stds, reg, prior_strength):
    """Turn (noisy) statistics into a valid mixture in normalised units.

    Parameters
    ----------
    stats : Statistics
        Noisy (or exact) sufficient statistics.
    covariance_type : str
    half_widths : ndarray of shape (n_features,)
        ``a``: records satisfy ``|z_j| <= a_j``.
    noise_stds : Sensitivities-like
        Noise standard deviation of each group (zeros without noise).
    reg : ndarray of shape (n_features,)
        ``reg_covar`` in normalised units, added to every variance.
    prior_strength : float
        Multiplier of the noise level giving the pseudo-count.

    Returns
    -------
    MixtureParams
    """
    a2 = np.asarray(half_widths, dtype=float) ** 2
    nu = pseudo_count(noise_stds, prior_strength)
    counts = np.maximum(stats.counts, 0.0) + nu + _TINY_COUNT

    weights = counts / counts.sum()
    means = np.clip(stats.first / counts[:, None], -np.sqrt(a2), np.sqrt(a2))
    covariances = _covariances(
        stats, covariance_type, counts, means, a2, nu, noise_stds.second, reg
    )
    return MixtureParams(weights, means, covariances)


def _covariances(stats, covariance_type, counts, means, a2, nu, second_std, reg):
    d = a2.size
    if covariance_type == "full":
        second = stats.second + nu * np.diag(a2 / 3.0)
        cov = second / counts[:, None, None] - means[:, :, None] * means[:, None, :]
        # Spectral norm of a symmetric Gaussian noise matrix ~ 2 sqrt(d) std.
        floor = 2.0 * np.sqrt(d) * second_std / counts
        return _clip_spectrum(cov, floor, a2.sum()) + np.diag(reg)
    if covariance_type == "tied":
        k = counts.size
        second = stats.second + k * nu * np.diag(a2 / 3.0)
        cov = (second - (counts[:, None] * means).T @ means) / counts.sum()
        floor = 2.0 * np.sqrt(d) * second_std / counts.sum()
        return _clip_spectrum(cov[None], np.atleast_1d(floor), a2.sum())[0] + np.diag(
            reg
        )
    if covariance_type == "diag":
        second = stats.second + nu * a2 / 3.0
        var = second / counts[:, None] - means**2
        floor = (second_std / counts)[:, None]
        return np.clip(var, floor, a2) + reg
    second = stats.second + nu * a2.sum() / 3.0
    var = (second / counts - np.sum(means**2, axis=1)) / d
    floor = second_std / (counts * d)
    return np.clip(var, floor, a2.mean()) + reg.mean()


def _clip_spectrum(cov, floor, ceiling):
    """Symmetrise and clip eigenvalues of each matrix to ``[floor_k, ceiling]``."""
    cov = 0.5 * (cov + np.swapaxes(cov, -1, -2))
    eigval, eigvec = np.linalg.eigh(cov)
    eigval = np.clip(eigval, floor[:, None], ceiling)
    return np.einsum("kij,kj,klj->kil", eigvec, eigval, eigvec)
