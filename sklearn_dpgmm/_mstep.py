"""M-step from noisy whitened statistics, with post-processing to a valid model.

Everything here reads only noisy statistics, their noise levels and public
values (the box, the previous released parameters), so it is post-processing
and costs no privacy budget.

In normalised coordinates records satisfy ``|z_j| <= a_j`` (``a`` =
``half_widths``). The statistics of component ``k`` are deviations from its
previous released mean ``m_k``, whitened by ``W_k`` (see ``_statistics``); the
M-step is carried out in those whitened units and mapped back.

1. **Pseudo-records.** Each component receives ``nu`` pseudo-records drawn
   from its own previous released Gaussian (in whitened units: no shift and
   identity covariance). ``nu`` is the noise level in record equivalents
   (:func:`pseudo_count`) and is zero without noise, so the non-private
   M-step is reproduced exactly. Where the noise swamps a component's data,
   the component therefore stays where it was instead of being thrown
   about by the noise; where the data dominate, it moves as EM would. A fit
   starts from broad components, so under heavy noise the release stays
   broad.
2. **Weights** proportional to ``n_k = max(N_k, 0) + nu``: on the simplex.
3. **Means** ``m_k + (mean whitened shift) W_k^-1``, clipped into the box (the
   mean of any distribution on the box lies in it).
4. **Covariances.** In whitened units: second moment over ``n_k`` minus the
   outer product of the shift, symmetrised, with eigenvalues clipped to
   ``[f, 1 / f]``. ``f`` is the larger of the typical size of the noise on
   that second moment over ``n_k`` and the pseudo-record share ``nu / n_k``,
   capped at 1 (no clipping without noise). In one iteration a component's
   covariance therefore changes by at most the factor the noise allows:
   freely when the data dominate, not at all when the noise does. Noise
   pushes small eigenvalues down and large ones up, so unclipped noisy
   iterations drift to degenerate covariances, and a clip looser than the
   pseudo-record share lets them wander in a multiplicative random walk. Mapped back
   with ``W_k^-1``, the eigenvalues are
   clipped to at most what the box justifies: the variance along any unit
   direction ``u`` of a distribution on the box is at most
   ``(max |u.z|)^2 <= |a|^2`` (``a_j^2`` per coordinate for diagonal, the mean
   of ``a_j^2`` for spherical). ``reg`` is then added, as scikit-learn adds
   ``reg_covar``.
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


def pseudo_count(stds, prior_strength):
    """Pseudo-records granted to each component.

    In whitened units a typical record contributes about 1 to every
    coordinate of each statistic, so a noise standard deviation reads as a
    number of records; the pseudo-count is ``prior_strength`` times the
    largest of them (0 without noise).
    """
    return prior_strength * float(max(stds.counts, stds.first, stds.second))


def m_step(stats, centres, whitens, covariance_type, half_widths, stds, nu, reg):
    """Turn (noisy) whitened statistics into a valid mixture, normalised units.

    Parameters
    ----------
    stats : Statistics
        Noisy (or exact) whitened statistics about ``centres``.
    centres : ndarray of shape (n_components, n_features)
        Public centres ``m_k``.
    whitens : ndarray of shape (n_components, n_features[, n_features])
        Public whitening maps ``W_k`` (matrices, or per-feature scales).
    covariance_type : str
    half_widths : ndarray of shape (n_features,)
    stds : NoiseScales
        Noise standard deviation of each group.
    nu : float
        Pseudo-records from each component's previous Gaussian.
    reg : ndarray of shape (n_features,)
        ``reg_covar`` in normalised units.

    Returns
    -------
    MixtureParams
    """
    a = np.asarray(half_widths, dtype=float)
    counts = np.maximum(stats.counts, 0.0) + nu + _TINY_COUNT
    shift_u = stats.first / counts[:, None]
    shift = np.stack([_unwhiten(s, w) for s, w in zip(shift_u, whitens, strict=True)])

    weights = counts / counts.sum()
    means = np.clip(centres + shift, -a, a)
    d = a.size
    if covariance_type in ("full", "tied"):
        cov = _matrix_covariances(
            stats.second, covariance_type, counts, whitens, shift_u, a, nu, stds.second
        )
        return MixtureParams(weights, means, cov + np.diag(reg))
    if covariance_type == "diag":
        var_u = (stats.second + nu) / counts[:, None] - shift_u**2
        var_u = _clip_whitened(var_u, (np.maximum(stds.second, nu) / counts)[:, None])
        var = np.minimum(var_u / whitens**2, a**2)
        return MixtureParams(weights, means, var + reg)
    var_u = ((stats.second + nu * d) / counts - np.sum(shift_u**2, axis=1)) / d
    var_u = _clip_whitened(var_u, np.maximum(stds.second / d, nu) / counts)
    var = np.minimum(var_u / whitens[:, 0] ** 2, np.mean(a**2))
    return MixtureParams(weights, means, var + reg.mean())


def _clip_whitened(var_u, noise_level):
    """Clip whitened variances to ``[f, 1 / f]`` with ``f = min(noise, 1)``."""
    f = np.minimum(noise_level, 1.0)
    with np.errstate(divide="ignore"):
        return np.clip(var_u, f, 1.0 / f)


def _unwhiten(u, w):
    # u = v W with W upper triangular (a precision Cholesky factor).
    return np.linalg.solve(w.T, u) if w.ndim == 2 else u / w


def _matrix_covariances(second, covariance_type, counts, whitens, shift_u, a, nu, std):
    """Full or tied covariances from whitened second moments."""
    d = a.size
    outer = shift_u[:, :, None] * shift_u[:, None, :]
    prior = nu * np.eye(d)
    # Spectral norm of a symmetric Gaussian noise matrix is about 2 sqrt(d) std.
    spread = 2.0 * np.sqrt(d) * std
    if covariance_type == "full":
        cov_u = (second + prior) / counts[:, None, None] - outer
        cov_u = _clip_spectrum(cov_u, np.maximum(spread, nu) / counts)
    else:
        total = counts.sum()
        pooled = second + len(counts) * prior - np.einsum("k,kij->ij", counts, outer)
        cov_u = _clip_spectrum(
            pooled[None] / total, np.array([max(spread, nu * len(counts)) / total])
        )
        whitens = whitens[:1]
    inv = np.linalg.inv(whitens)
    cov = np.swapaxes(inv, 1, 2) @ cov_u @ inv
    cov = _clip_eigenvalues(cov, 0.0, np.sum(a**2))
    return cov if covariance_type == "full" else cov[0]


def _clip_spectrum(cov_u, noise_level):
    """Clip each whitened matrix's eigenvalues to ``[f_k, 1 / f_k]``."""
    f = np.minimum(noise_level, 1.0)[:, None]
    with np.errstate(divide="ignore"):
        return _clip_eigenvalues(cov_u, f, 1.0 / f)


def _clip_eigenvalues(cov, low, high):
    """Symmetrise matrices and clip their eigenvalues to ``[low, high]``."""
    cov = 0.5 * (cov + np.swapaxes(cov, -1, -2))
    eigval, eigvec = np.linalg.eigh(cov)
    eigval = np.clip(eigval, low, high)
    return (eigvec * eigval[:, None, :]) @ np.swapaxes(eigvec, -1, -2)
