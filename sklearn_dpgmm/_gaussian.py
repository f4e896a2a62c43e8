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

Layout and memory
-----------------
Densities are computed component-major: an array of shape
``(n_components, n_rows)`` whose transpose is returned. Reductions over the
components (the log-sum-exp of the E-step) then run along the outer axis,
which numpy vectorises well even for two or three components, whereas a
reduction along a short inner axis costs tens of nanoseconds per row.

The E-step walks through ``X`` in blocks of rows sized by :func:`block_rows`
so that the largest temporary of one block (``n_rows * n_components *
n_features`` floats for full covariances, ``n_rows * (n_components +
n_features)`` otherwise) stays near ``TEMP_BYTES`` whatever ``n_samples``:
memory is O(block), not O(n_samples). Full covariances are additionally
processed a group of components at a time when the whitened residuals of all
components would exceed that budget.
"""

from typing import NamedTuple

import numpy as np
from scipy import linalg

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")

# Rows per block for callers that walk through X themselves (kl.py). The
# E-step sizes its own blocks with block_rows(); log_gaussian_prob bounds its
# temporaries by grouping components, so any block size is memory-safe.
BLOCK_ROWS = 4096

# Byte budget of the largest temporary of one E-step block. On the benchmark
# machine (2 MiB of L2 per core) budgets of 0.25 to 4 MiB ran a fit equally
# fast and 16 MiB up to 2x slower, as the block then falls out of cache; 2 MiB
# keeps half the BLAS calls of 1 MiB, which matters with threaded BLAS.
TEMP_BYTES = 2 * 2**20

# Bounds on the rows of one E-step block: below MIN_BLOCK_ROWS the per-call
# overhead of numpy dominates; above MAX_BLOCK_ROWS nothing is gained.
MIN_BLOCK_ROWS = 256
MAX_BLOCK_ROWS = 65536

# Data of at least MIN_BLOCKS * MIN_BLOCK_ROWS rows is cut into at least
# MIN_BLOCKS blocks, so that on small data the temporaries stay a fraction of
# what an unblocked E-step (such as scikit-learn's) allocates.
MIN_BLOCKS = 4

_LOG_2PI = float(np.log(2.0 * np.pi))
_FLOAT_BYTES = 8


def block_rows(n_samples, n_components, n_features, covariance_type):
    """Rows per E-step block, so that one block's temporaries fit TEMP_BYTES.

    The per-row width of the largest temporary is ``n_components *
    n_features`` floats for full covariances (all whitened residuals of a
    row) and ``n_components + n_features`` otherwise. The rows are clamped to
    ``[MIN_BLOCK_ROWS, MAX_BLOCK_ROWS]``, then capped at
    ``ceil(n_samples / MIN_BLOCKS)`` (but not below ``MIN_BLOCK_ROWS``) and
    at ``n_samples``; the result is at least 1.
    """
    width = n_components + n_features
    if covariance_type == "full":
        width = max(width, n_components * n_features)
    rows = TEMP_BYTES // (_FLOAT_BYTES * width)
    rows = min(max(rows, MIN_BLOCK_ROWS), MAX_BLOCK_ROWS)
    rows = min(rows, max(-(-n_samples // MIN_BLOCKS), MIN_BLOCK_ROWS))
    return int(max(1, min(rows, n_samples)))


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
        A transposed view of a component-major array (Fortran order).
    """
    return _Components(means, prec_chol, covariance_type).log_prob_t(X).T


def _log_det_cholesky(prec_chol, covariance_type, n_features):
    """log det of the precision Cholesky factor, per component."""
    if covariance_type == "full":
        return np.log(np.diagonal(prec_chol, axis1=1, axis2=2)).sum(axis=1)
    if covariance_type == "tied":
        return np.log(np.diag(prec_chol)).sum()
    if covariance_type == "diag":
        return np.log(prec_chol).sum(axis=1)
    return n_features * np.log(prec_chol)


class _Components:
    """Per-component constants of the log densities, prepared once.

    The E-step evaluates the same parameters on many blocks of rows; the
    stacked factors, shifts and normalising constants below do not depend on
    the rows and are computed here once.

    For full covariances the squared Mahalanobis distance is the squared norm
    of ``L_k^T x - L_k^T m_k``, evaluated exactly (no expansion), as
    scikit-learn does. For the other types it is expanded into
    ``|x|^2``-like, cross and constant terms so that one matrix product
    serves all components; the rows and the means are first centred on the
    mean of the means, which keeps the cancellation in that expansion to the
    spread of the components rather than their distance from the origin.
    """

    def __init__(self, means, prec_chol, covariance_type):
        means = np.asarray(means, dtype=float)
        prec_chol = np.asarray(prec_chol, dtype=float)
        k, d = means.shape
        self.covariance_type = covariance_type
        self.n_components, self.n_features = k, d
        log_det = _log_det_cholesky(prec_chol, covariance_type, d)
        self.constant = np.broadcast_to(log_det - 0.5 * d * _LOG_2PI, (k,))[:, None]
        if covariance_type == "full":
            # Row j * d + e of `stacked` is column e of L_j, so that
            # stacked @ x stacks the whitened vectors L_j^T x of all j.
            self.stacked = np.ascontiguousarray(
                prec_chol.transpose(0, 2, 1).reshape(k * d, d)
            )
            self.shift = np.einsum("kd,kde->ke", means, prec_chol).reshape(k * d, 1)
            return
        self.centre = means.mean(axis=0)
        centred = means - self.centre
        # Coefficients multiply the rows from the right, (d, k) and
        # C-ordered: see _rows_times.
        if covariance_type == "tied":
            self.whiten = prec_chol
            white_means = centred @ prec_chol
            self.cross = np.ascontiguousarray(-2.0 * white_means.T)
            self.offset = np.sum(white_means**2, axis=1)[:, None]
        elif covariance_type == "diag":
            p2 = prec_chol**2
            self.quad = np.ascontiguousarray(p2.T)
            self.cross = np.ascontiguousarray((-2.0 * centred * p2).T)
            self.offset = np.sum(centred**2 * p2, axis=1)[:, None]
        else:
            self.scale = (prec_chol**2)[:, None]
            self.cross = np.ascontiguousarray(-2.0 * centred.T)
            self.offset = np.sum(centred**2, axis=1)[:, None]

    def group_size(self, n_rows):
        """Components per matrix product for full covariances (memory bound)."""
        per_component = _FLOAT_BYTES * max(n_rows, 1) * self.n_features
        return int(min(max(TEMP_BYTES // per_component, 1), self.n_components))

    def log_prob_t(self, X):
        """Log densities as a C-ordered array of shape (n_components, n_rows)."""
        out = self.sq_mahalanobis_t(X)
        out *= -0.5
        out += self.constant
        return out

    def expand(self, X):
        """The :class:`Expanded` rows the squared distances are computed from
        (None for full covariances, which use the rows as they are).

        Callers that also need them (the sufficient statistics of a fit)
        reuse them instead of recomputing them.
        """
        if self.covariance_type == "full":
            return None
        return expand_rows(X, self.centre, self.covariance_type)

    def sq_mahalanobis_t(self, X, expanded=None):
        """Squared Mahalanobis distances, shape (n_components, n_rows).

        ``expanded``, if given, is ``self.expand(X)`` computed beforehand.
        """
        ct = self.covariance_type
        if ct == "full":
            return self._full_sq_mahalanobis_t(np.asarray(X, dtype=float))
        if expanded is None:
            expanded = self.expand(X)
        xc = expanded.centred
        if ct == "tied":
            y = xc @ self.whiten  # (n, d) whitened rows
            out = _rows_times(y, self.cross)
            out += np.einsum("nd,nd->n", y, y)
        elif ct == "diag":
            out = _rows_times(expanded.squares, self.quad)
            out += _rows_times(xc, self.cross)
        else:
            out = _rows_times(xc, self.cross)
            out += np.einsum("nd,nd->n", xc, xc)
        out += self.offset
        # The expansion can undershoot zero by rounding; a squared distance
        # cannot be negative.
        np.maximum(out, 0.0, out=out)
        if ct == "spherical":
            out *= self.scale
        return out

    def _full_sq_mahalanobis_t(self, X):
        n, d = X.shape
        k = self.n_components
        out = np.empty((k, n))
        group = self.group_size(n)
        for first in range(0, k, group):
            last = min(first + group, k)
            y = self.stacked[first * d : last * d] @ X.T
            y -= self.shift[first * d : last * d]
            y *= y
            np.add.reduce(y.reshape(last - first, d, n), axis=1, out=out[first:last])
        return out


class Expanded(NamedTuple):
    """Rows of one block centred on ``centre``, and their squares (diag only)."""

    centre: np.ndarray
    centred: np.ndarray
    squares: np.ndarray | None


def expand_rows(X, centre, covariance_type):
    """:class:`Expanded` rows: ``X - centre`` as float64, and its elementwise
    squares for diagonal covariances."""
    centred = np.subtract(X, centre, dtype=float)
    squares = centred * centred if covariance_type == "diag" else None
    return Expanded(centre, centred, squares)


def _rows_times(rows, coef):
    """``(rows @ coef).T`` as a C-ordered array of shape (k, n_rows).

    ``rows`` is (n, d) and ``coef`` a C-ordered (d, k) matrix. On the
    benchmark machine's OpenBLAS (measured with one thread over d = 2-100 and
    k = 1-16), writing the product through the transposed view of the
    component-major output was never slower than multiplying the transposed
    rows from the left, and up to twice as fast for few components; for
    exactly two components and d >= 16, a row-major product transposed
    afterwards was faster again, by a factor 1.5-2.
    """
    d, k = coef.shape
    if k == 2 and d >= 16:
        return np.ascontiguousarray((rows @ coef).T)
    out = np.empty((k, rows.shape[0]))
    np.matmul(rows, coef, out=out.T)
    return out


def _weighted_log_prob_t(components, rows, log_w, keep_sq, expanded=None):
    """Component-major ``log w_k + log N(x_i | m_k, S_k)``.

    Returns it with the squared Mahalanobis distances it came from (a
    separate array when ``keep_sq``, else None and computed in place).
    """
    sq = components.sq_mahalanobis_t(rows, expanded)
    wlp = sq * -0.5 if keep_sq else np.multiply(sq, -0.5, out=sq)
    wlp += components.constant + log_w
    return wlp, (sq if keep_sq else None)


def _normalise_t(wlp):
    """Exponentials shifted by the row maximum, their sums and the log-sum-exp
    of every column of a component-major array."""
    top = wlp.max(axis=0)
    shifted = wlp - top
    np.exp(shifted, out=shifted)
    total = shifted.sum(axis=0)
    log_norm = np.log(total)
    log_norm += top
    return shifted, total, log_norm


def _blocks(X, transform, n_rows):
    for start in range(0, X.shape[0], n_rows):
        rows = X[start : start + n_rows]
        if transform is None:
            yield np.asarray(rows, dtype=float)
        else:
            yield transform(rows)


def _prepare(X, weights, means, prec_chol, covariance_type):
    components = _Components(means, prec_chol, covariance_type)
    # A component of weight zero gets log weight -inf and responsibility 0.
    with np.errstate(divide="ignore"):
        log_w = np.log(np.asarray(weights, dtype=float))[:, None]
    n_rows = block_rows(
        X.shape[0], components.n_components, X.shape[1], covariance_type
    )
    return components, log_w, n_rows


def log_resp_blocks(X, weights, means, prec_chol, covariance_type, transform=None):
    """Yield ``(rows, weighted_log_prob, log_norm)`` block by block.

    ``weighted_log_prob[i, k] = log w_k + log N(x_i | m_k, S_k)`` and
    ``log_norm[i]`` is its log-sum-exp over components, so that the
    responsibilities are ``exp(weighted_log_prob - log_norm[:, None])``.

    ``transform``, if given, is applied to each block of rows before the
    densities are computed (for instance clipping into a box and rescaling);
    the transformed block is yielded as ``rows``. Blocks hold
    :func:`block_rows` rows; ``weighted_log_prob`` is a Fortran-ordered
    ``(n_rows, n_components)`` view.
    """
    components, log_w, n_rows = _prepare(X, weights, means, prec_chol, covariance_type)
    for rows in _blocks(X, transform, n_rows):
        wlp, _ = _weighted_log_prob_t(components, rows, log_w, keep_sq=False)
        _, _, log_norm = _normalise_t(wlp)
        yield rows, wlp.T, log_norm


class EStepBlock(NamedTuple):
    """One block of the E-step, as yielded by :func:`estep_blocks`.

    ``resp`` and ``sq_mahalanobis`` are Fortran-ordered ``(n_rows,
    n_components)`` views, so that each component's column is contiguous.
    ``expanded`` is the :class:`Expanded` form of ``rows`` the densities were
    computed from (None for full covariances).
    """

    rows: np.ndarray
    resp: np.ndarray
    log_norm: np.ndarray
    sq_mahalanobis: np.ndarray
    expanded: Expanded | None


def estep_blocks(X, weights, means, prec_chol, covariance_type, transform=None):
    """Yield :class:`EStepBlock` ``(rows, resp, log_norm, sq_mahalanobis,
    expanded)``.

    Same blocks and arguments as :func:`log_resp_blocks`, but with what a
    fit needs directly: the responsibilities
    ``resp[i, k] = w_k N(x_i | m_k, S_k) / sum_j w_j N(x_i | m_j, S_j)``,
    obtained from the exponentials of the log-sum-exp (one exponential per
    entry instead of two), the squared Mahalanobis distances
    ``(x_i - m_k)^T S_k^{-1} (x_i - m_k)`` the densities came from, which
    are the squared norms of the whitened deviations ``(x_i - m_k) @ L_k``,
    and, except for full covariances, the rows centred on the mean of the
    means (and their squares for diagonal covariances), which the
    sufficient statistics reuse.
    """
    components, log_w, n_rows = _prepare(X, weights, means, prec_chol, covariance_type)
    for rows in _blocks(X, transform, n_rows):
        expanded = components.expand(rows)
        wlp, sq = _weighted_log_prob_t(
            components, rows, log_w, keep_sq=True, expanded=expanded
        )
        resp, total, log_norm = _normalise_t(wlp)
        resp /= total
        yield EStepBlock(rows, resp.T, log_norm, sq.T, expanded)
        # Drop this block before the next one is allocated, so that no more
        # than one block's arrays are alive (if the caller lets go of it too).
        del rows, expanded, wlp, sq, resp, total, log_norm
