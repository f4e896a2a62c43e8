"""M-step from noisy centred statistics, with post-processing to a valid model.

Everything here reads only noisy statistics, their noise scales and public
values (the box, the previous released means), so it is post-processing and
costs no privacy budget.

In normalised coordinates records satisfy ``|z_j| <= a_j`` (``a`` =
``half_widths``); the statistics of component ``k`` are centred on its previous
released mean ``m_k`` (see ``_statistics``).

1. **Pseudo-records.** Each component receives ``nu`` pseudo-records from the
   *broad reference*: mean 0 (the box centre) and the covariance of the uniform
   distribution over the box, ``diag(a^2 / 3)``. ``nu`` is proportional to the
   noise level in record equivalents (:func:`pseudo_count`) and is zero without
   noise, so the non-private M-step is reproduced exactly. Under heavy noise a
   component drifts towards the broad reference instead of collapsing.
2. **Weights** proportional to ``n_k = max(N_k, 0) + nu``: on the simplex.
3. **Means** ``m_k + (F_k - nu m_k) / n_k``, clipped into the box (the mean of
   any distribution on the box lies in it).
4. **Covariances**: second moment about ``m_k`` divided by ``n_k``, minus the
   outer product of the mean shift, symmetrised, with eigenvalues clipped to
   ``[floor_k, ceiling]``. The ceiling is what the box justifies: the variance
   along any unit direction ``u`` of a distribution on the box is at most
   ``(max |u.z|)^2 <= |a|^2`` (``a_j^2`` per coordinate for diagonal, the mean
   of ``a_j^2`` for spherical). The floor is the typical size of the noise on
   the second moment divided by ``n_k`` (zero without noise). ``reg`` is then
   added, as scikit-learn adds ``reg_covar``.
"""

from dataclasses import dataclass

import numpy as np

# Count added to every component, as scikit-learn does, so that a component
# with no responsibility keeps a finite log weight.
_TINY_COUNT = 10 * np.finfo(float).eps


@dataclass
class MixtureParams:
    """Weights, means and covariances of a mixture (any covariance type)."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray


def pseudo_count(multipliers, prior_strength):
    """Pseudo-records granted to each component.

    Each group is rescaled so that one record moves it by at most 1, so its
    noise multiplier reads directly as a number of records; the pseudo-count is
    ``prior_strength`` times the largest of them (0 without noise).
    """
    return prior_strength * float(np.max(multipliers))


def m_step(stats, centres, covariance_type, half_widths, noise_stds, nu, reg):
    """Turn (noisy) centred statistics into a valid mixture, normalised units.

    Parameters
    ----------
    stats : Statistics
        Noisy (or exact) statistics centred on ``centres``.
    centres : ndarray of shape (n_components, n_features)
        Public centres ``m_k`` the statistics were computed about.
    covariance_type : str
    half_widths : ndarray of shape (n_features,)
    noise_stds : NoiseScales
        Noise standard deviation of every group and component.
    nu : float
        Pseudo-records from the broad reference per component.
    reg : ndarray of shape (n_features,)
        ``reg_covar`` in normalised units.

    Returns
    -------
    MixtureParams
    """
    a2 = np.asarray(half_widths, dtype=float) ** 2
    counts = np.maximum(stats.counts, 0.0) + nu + _TINY_COUNT
    shift = (stats.first - nu * centres) / counts[:, None]

    weights = counts / counts.sum()
    means = np.clip(centres + shift, -np.sqrt(a2), np.sqrt(a2))
    covariances = _covariances(
        stats.second, covariance_type, counts, centres, shift, a2, nu, noise_stds
    )
    if covariance_type in ("full", "tied"):
        reg = np.diag(reg)
    elif covariance_type == "spherical":
        reg = reg.mean()
    return MixtureParams(weights, means, covariances + reg)


def _covariances(second, covariance_type, counts, centres, shift, a2, nu, noise):
    d = a2.size
    ref = a2 / 3.0
    if covariance_type in ("full", "tied"):
        # Pseudo-records: second moment about m_k of the reference.
        prior = nu * (np.diag(ref)[None] + centres[:, :, None] * centres[:, None, :])
        outer = shift[:, :, None] * shift[:, None, :]
        if covariance_type == "full":
            cov = (second + prior) / counts[:, None, None] - outer
            # Spectral norm of a symmetric Gaussian noise matrix ~ 2 sqrt(d) std.
            floor = 2.0 * np.sqrt(d) * noise.second / counts
            return _clip_spectrum(cov, floor, a2.sum())
        total = counts.sum()
        cov = (second + prior.sum(0) - np.einsum("k,kij->ij", counts, outer)) / total
        floor = 2.0 * np.sqrt(d) * noise.second / total
        return _clip_spectrum(cov[None], floor, a2.sum())[0]
    if covariance_type == "diag":
        prior = nu * (ref + centres**2)
        var = (second + prior) / counts[:, None] - shift**2
        floor = (noise.second / counts)[:, None]
        return np.clip(var, floor, a2)
    prior = nu * (ref.sum() + np.sum(centres**2, axis=1))
    var = ((second + prior) / counts - np.sum(shift**2, axis=1)) / d
    floor = noise.second / (counts * d)
    return np.clip(var, floor, a2.mean())


def _clip_spectrum(cov, floor, ceiling):
    """Symmetrise and clip eigenvalues of each matrix to ``[floor_k, ceiling]``."""
    cov = 0.5 * (cov + np.swapaxes(cov, -1, -2))
    eigval, eigvec = np.linalg.eigh(cov)
    eigval = np.clip(eigval, np.asarray(floor)[:, None], ceiling)
    return np.einsum("kij,kj,klj->kil", eigvec, eigval, eigvec)
