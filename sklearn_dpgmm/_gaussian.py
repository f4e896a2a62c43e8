"""Gaussian densities for the four covariance types, computed in row blocks.

Shapes follow :class:`sklearn.mixture.GaussianMixture`:

========== ===================================
type       ``covariances`` / ``precisions_cholesky``
========== ===================================
full       (n_components, n_features, n_features)
tied       (n_features, n_features)
diag       (n_components, n_features)
spherical  (n_components,)
========== ===================================

The precision Cholesky factor ``L`` satisfies ``precision = L @ L.T`` (upper
triangular ``L`` for full and tied covariances, as in scikit-learn), so that
``(x - m) @ L`` is a whitened residual.
"""

import numpy as np
from scipy import linalg

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")

# Rows per block in the E-step. Temporaries are O(block * n_components *
# n_features) floats; 4096 rows keep them in a few MiB for typical sizes.
BLOCK_ROWS = 4096


def precision_cholesky(covariances, covariance_type):
    """Cholesky factor of the precision matrices, from covariances.

    Raises
    ------
    numpy.linalg.LinAlgError
        If a covariance is not positive definite.
    """
    if covariance_type == "full":
        out = np.empty_like(covariances)
        for k, cov in enumerate(covariances):
            out[k] = _inverse_cholesky(cov)
        return out
    if covariance_type == "tied":
        return _inverse_cholesky(covariances)
    if np.any(covariances <= 0):
        raise np.linalg.LinAlgError("a variance is not positive.")
    return 1.0 / np.sqrt(covariances)


def _inverse_cholesky(cov):
    chol = linalg.cholesky(cov, lower=True)
    eye = np.eye(cov.shape[0], dtype=cov.dtype)
    return linalg.solve_triangular(chol, eye, lower=True).T


def covariances_from_precision_cholesky(prec_chol, covariance_type):
    """Inverse of :func:`precision_cholesky`."""
    if covariance_type == "full":
        return np.stack([_cov_from_prec_chol(p) for p in prec_chol])
    if covariance_type == "tied":
        return _cov_from_prec_chol(prec_chol)
    return 1.0 / prec_chol**2


def _cov_from_prec_chol(prec_chol):
    inv = linalg.solve_triangular(
        prec_chol, np.eye(prec_chol.shape[0], dtype=prec_chol.dtype), lower=False
    )
    return inv.T @ inv


def precisions_from_cholesky(prec_chol, covariance_type):
    """Precision matrices (or vectors) from their Cholesky factors."""
    if covariance_type == "full":
        return np.einsum("kij,klj->kil", prec_chol, prec_chol)
    if covariance_type == "tied":
        return prec_chol @ prec_chol.T
    return prec_chol**2


def full_covariances(covariances, covariance_type, n_components, n_features):
    """Expand any covariance type to an array (n_components, d, d)."""
    if covariance_type == "full":
        return np.array(covariances, dtype=float)
    if covariance_type == "tied":
        return np.broadcast_to(
            covariances, (n_components, n_features, n_features)
        ).copy()
    if covariance_type == "diag":
        return np.stack([np.diag(c) for c in covariances])
    return np.stack([np.eye(n_features) * c for c in covariances])


def log_gaussian_prob(X, means, prec_chol, covariance_type):
    """Log density of every row of X under every component.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    means : ndarray of shape (n_components, n_features)
    prec_chol : ndarray
        Precision Cholesky factors, shaped by ``covariance_type``.
    covariance_type : {"full", "tied", "diag", "spherical"}

    Returns
    -------
    log_prob : ndarray of shape (n_samples, n_components)
    """
    n_components, n_features = means.shape
    log_det = _log_det_cholesky(prec_chol, covariance_type, n_features)
    sq = _squared_mahalanobis(X, means, prec_chol, covariance_type)
    return -0.5 * (n_features * np.log(2 * np.pi) + sq) + log_det


def _log_det_cholesky(prec_chol, covariance_type, n_features):
    """log det of the precision Cholesky factor, per component."""
    if covariance_type == "full":
        return np.log(np.diagonal(prec_chol, axis1=1, axis2=2)).sum(axis=1)
    if covariance_type == "tied":
        return np.log(np.diag(prec_chol)).sum()
    if covariance_type == "diag":
        return np.log(prec_chol).sum(axis=1)
    return n_features * np.log(prec_chol)


def _squared_mahalanobis(X, means, prec_chol, covariance_type):
    n_components, n_features = means.shape
    if covariance_type == "full":
        # One GEMM for all components: X @ [L_1 ... L_K] -> (n, K*d).
        stacked = prec_chol.transpose(1, 0, 2).reshape(n_features, -1)
        shift = np.einsum("kd,kde->ke", means, prec_chol).reshape(-1)
        y = X @ stacked
        y -= shift
        y *= y
        return y.reshape(X.shape[0], n_components, n_features).sum(axis=2)
    if covariance_type == "tied":
        y = X @ prec_chol
        mu = means @ prec_chol
        return _row_sq_dist(y, mu)
    if covariance_type == "diag":
        p2 = prec_chol**2
        return (X * X) @ p2.T - 2.0 * X @ (means * p2).T + np.sum(means**2 * p2, axis=1)
    p2 = prec_chol**2
    return p2 * _row_sq_dist(X, means)


def _row_sq_dist(A, B):
    """Squared Euclidean distances between rows of A and rows of B."""
    d = np.sum(A * A, axis=1)[:, None] - 2.0 * A @ B.T + np.sum(B * B, axis=1)
    np.maximum(d, 0.0, out=d)
    return d


def log_resp_blocks(X, weights, means, prec_chol, covariance_type, transform=None):
    """Yield ``(rows, weighted_log_prob, log_norm)`` block by block.

    ``weighted_log_prob[i, k] = log w_k + log N(x_i | m_k, S_k)`` and
    ``log_norm[i]`` is its log-sum-exp over components, so that the
    responsibilities are ``exp(weighted_log_prob - log_norm[:, None])``.

    ``transform``, if given, is applied to each block of rows before the
    densities are computed (for instance clipping into a box and rescaling);
    the transformed block is yielded as ``rows``.
    """
    log_w = np.log(weights)
    for start in range(0, X.shape[0], BLOCK_ROWS):
        rows = X[start : start + BLOCK_ROWS]
        rows = np.asarray(rows, dtype=float) if transform is None else transform(rows)
        wlp = log_gaussian_prob(rows, means, prec_chol, covariance_type)
        wlp += log_w
        top = wlp.max(axis=1)
        log_norm = top + np.log(np.exp(wlp - top[:, None]).sum(axis=1))
        yield rows, wlp, log_norm
