"""Kullback-Leibler divergences for judging the utility of a private mixture.

The utility of a differentially private Gaussian mixture is measured by how
far it is from the non-private fit, as ``KL(P_nonprivate || P_private)``. The
divergence between two Gaussians has a closed form; between two mixtures it
does not, and this module offers two substitutes:

* :func:`kl_mixture_mc`, an unbiased Monte Carlo estimate with its standard
  error, and
* :func:`kl_mixture_upper_bound`, a deterministic upper bound for mixtures
  whose components are paired by index [Do03]_.

:func:`kl_to_reference` compares a mixture with a data-independent baseline:
one Gaussian with the mean and per-feature variance of the uniform
distribution over the clipping box. A private release that is not closer to
the data than this baseline has learnt nothing useful.

A mixture here is any object with the attributes ``weights_``, ``means_``,
``covariances_`` and ``covariance_type``, shaped as in
:class:`sklearn.mixture.GaussianMixture`; a fitted ``GaussianMixture``, a
``DPGaussianMixture`` or a :class:`types.SimpleNamespace` all qualify.

References
----------
.. [Do03] Do, M. N. "Fast approximation of Kullback-Leibler distance for
   dependence trees and hidden Markov models". IEEE Signal Processing
   Letters, 10(4), 2003.
.. [HO07] Hershey, J. R. and Olsen, P. A. "Approximating the Kullback Leibler
   divergence between Gaussian mixture models". ICASSP 2007.
"""

import numbers
from dataclasses import dataclass

import numpy as np
from scipy import linalg
from scipy.special import logsumexp

from ._gaussian import (
    BLOCK_ROWS,
    COVARIANCE_TYPES,
    full_covariances,
    log_gaussian_prob,
    precision_cholesky,
)

__all__ = [
    "KLEstimate",
    "kl_gaussian",
    "kl_mixture_mc",
    "kl_mixture_upper_bound",
    "kl_to_reference",
    "mixture_log_density",
    "reference_gaussian",
    "sample_mixture",
]

# Largest tolerated deviation of sum(weights_) from one. Weights that went
# through a noisy release and a renormalisation may be off by rounding only.
_WEIGHT_SUM_ATOL = 1e-6

# Relative asymmetry tolerated in a covariance matrix: products such as
# A @ S @ A.T are symmetric only up to a few ulps of their largest entry.
_SYMMETRY_RTOL = 1e-10

_MIXTURE_ATTRIBUTES = ("weights_", "means_", "covariances_", "covariance_type")


@dataclass(frozen=True)
class KLEstimate:
    """A Monte Carlo estimate of a Kullback-Leibler divergence.

    Attributes
    ----------
    kl : float
        The estimate, in nats. Being an average of log-density ratios it can
        come out slightly negative when the true divergence is near zero.
    stderr : float
        Its standard error: the sample standard deviation of the log-density
        ratios divided by ``sqrt(n_samples)``.
    n_samples : int
        Number of draws the estimate is based on.
    """

    kl: float
    stderr: float
    n_samples: int


@dataclass(frozen=True)
class _Mixture:
    """Validated float arrays of a mixture, plus the name used in errors."""

    weights_: np.ndarray
    means_: np.ndarray
    covariances_: np.ndarray
    covariance_type: str
    name: str

    @property
    def n_components(self):
        return self.means_.shape[0]

    @property
    def n_features(self):
        return self.means_.shape[1]


def kl_gaussian(mean_p, cov_p, mean_q, cov_q):
    """Kullback-Leibler divergence between two multivariate Gaussians.

    Computes, in closed form [HO07]_,
    ``KL(N(mean_p, cov_p) || N(mean_q, cov_q)) = 0.5 * (tr(cov_q^-1 cov_p)
    + (mean_q - mean_p)' cov_q^-1 (mean_q - mean_p) - d
    + log det cov_q - log det cov_p)``.
    Traces, quadratic forms and determinants are all read off Cholesky
    factors; no matrix is inverted explicitly.

    Parameters
    ----------
    mean_p : array-like of shape (n_features,)
        Mean of the first Gaussian, ``P``.
    cov_p : array-like of shape (n_features, n_features)
        Covariance of ``P``; must be symmetric positive definite.
    mean_q : array-like of shape (n_features,)
        Mean of the second Gaussian, ``Q``.
    cov_q : array-like of shape (n_features, n_features)
        Covariance of ``Q``; must be symmetric positive definite.

    Returns
    -------
    kl : float
        ``KL(P || Q)`` in nats, non-negative.

    Raises
    ------
    ValueError
        If the shapes disagree or a covariance is not positive definite.

    References
    ----------
    .. [HO07] Hershey, J. R. and Olsen, P. A. "Approximating the Kullback
       Leibler divergence between Gaussian mixture models". ICASSP 2007.
    """
    mean_p = _as_vector(mean_p, "mean_p")
    d = mean_p.shape[0]
    mean_q = _as_vector(mean_q, "mean_q", d)
    chol_p = _cholesky(cov_p, "cov_p", d)
    chol_q = _cholesky(cov_q, "cov_q", d)
    return _kl_gaussian_cholesky(mean_p, chol_p, mean_q, chol_q)


def _kl_gaussian_cholesky(mean_p, chol_p, mean_q, chol_q):
    """Gaussian KL from lower Cholesky factors of the covariances."""
    # With cov = L L', tr(cov_q^-1 cov_p) = ||L_q^-1 L_p||_F^2 and the
    # quadratic form is ||L_q^-1 (mean_q - mean_p)||^2.
    ratio = linalg.solve_triangular(chol_q, chol_p, lower=True)
    shift = linalg.solve_triangular(chol_q, mean_q - mean_p, lower=True)
    log_det_ratio = 2.0 * np.sum(np.log(np.diag(chol_q)) - np.log(np.diag(chol_p)))
    kl = 0.5 * (np.sum(ratio**2) + shift @ shift - mean_p.shape[0] + log_det_ratio)
    # Rounding can push a divergence of (nearly) zero below zero.
    return max(float(kl), 0.0)


def mixture_log_density(mixture, X):
    """Log probability density of each row of ``X`` under a mixture.

    Parameters
    ----------
    mixture : object
        Any object with the attributes ``weights_`` of shape (n_components,),
        ``means_`` of shape (n_components, n_features), ``covariances_``
        shaped by ``covariance_type`` and ``covariance_type`` in
        ``{"full", "tied", "diag", "spherical"}``, for instance a fitted
        :class:`sklearn.mixture.GaussianMixture`. It is not modified.
    X : array-like of shape (n_samples, n_features)
        Points at which to evaluate the density.

    Returns
    -------
    log_density : ndarray of shape (n_samples,)
        ``log sum_k w_k N(x | m_k, S_k)`` for every row ``x`` of ``X``.
        Components of weight zero are ignored.
    """
    mix = _check_mixture(mixture, "mixture")
    X = _check_points(X, mix.n_features)
    prec_chol = _precision_cholesky(mix)
    with np.errstate(divide="ignore"):
        log_w = np.log(mix.weights_)
    out = np.empty(X.shape[0])
    # Blocks bound the (n_samples, n_components * n_features) temporaries.
    for start in range(0, X.shape[0], BLOCK_ROWS):
        stop = start + BLOCK_ROWS
        log_prob = log_gaussian_prob(
            X[start:stop], mix.means_, prec_chol, mix.covariance_type
        )
        out[start:stop] = logsumexp(log_prob + log_w, axis=1)
    return out


def sample_mixture(mixture, n_samples, random_state=None):
    """Draw independent samples from a Gaussian mixture.

    Component labels are drawn first, then one standard normal vector per
    sample, which is mapped through the Cholesky factor of its component's
    covariance. The object's own ``sample`` method, if any, is not used.

    Parameters
    ----------
    mixture : object
        A mixture as described in :func:`mixture_log_density`.
    n_samples : int
        Number of samples, at least 1.
    random_state : int, numpy.random.Generator or None, default=None
        Seed or generator passed to :func:`numpy.random.default_rng`. A
        generator is used (and advanced) in place; ``None`` draws fresh
        entropy from the operating system.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The samples, in the order drawn (not grouped by component).
    """
    mix = _check_mixture(mixture, "mixture")
    _check_n_samples(n_samples, minimum=1)
    rng = np.random.default_rng(random_state)
    k, d = mix.n_components, mix.n_features
    labels = rng.choice(k, size=n_samples, p=mix.weights_ / mix.weights_.sum())
    noise = rng.standard_normal((n_samples, d))
    covs = full_covariances(mix.covariances_, mix.covariance_type, k, d)
    X = np.empty((n_samples, d))
    for j in np.unique(labels):
        rows = labels == j
        chol = _cholesky(covs[j], f"{mix.name}.covariances_[{j}]", d)
        X[rows] = mix.means_[j] + noise[rows] @ chol.T
    return X


def kl_mixture_mc(p, q, n_samples=10_000, random_state=0):
    """Monte Carlo estimate of ``KL(p || q)`` between two Gaussian mixtures.

    Draws ``x_1, ..., x_n`` from ``p`` and averages
    ``log p(x_i) - log q(x_i)`` [HO07]_. The estimate is unbiased and, with
    the default fixed seed, reproducible. ``kl_mixture_mc(p, p)`` is exactly
    zero.

    Parameters
    ----------
    p : object
        The mixture the expectation is taken under (the non-private fit, when
        measuring utility). See :func:`mixture_log_density` for the required
        attributes.
    q : object
        The second mixture (the private release), with the same number of
        features as ``p``; the number of components may differ.
    n_samples : int, default=10_000
        Number of draws from ``p``, at least 2. The standard error shrinks as
        ``1 / sqrt(n_samples)``; check the returned ``stderr`` against
        the precision you need.
    random_state : int, numpy.random.Generator or None, default=0
        Seed or generator for the draws (see :func:`sample_mixture`). The
        default seed ``0`` makes repeated calls return the same estimate.

    Returns
    -------
    estimate : KLEstimate
        The estimate in nats, its standard error and ``n_samples``.

    References
    ----------
    .. [HO07] Hershey, J. R. and Olsen, P. A. "Approximating the Kullback
       Leibler divergence between Gaussian mixture models". ICASSP 2007.
    """
    p_mix = _check_mixture(p, "p")
    q_mix = _check_mixture(q, "q")
    _check_same_features(p_mix, q_mix)
    _check_n_samples(n_samples, minimum=2)
    X = sample_mixture(p_mix, n_samples, random_state)
    log_ratio = mixture_log_density(p_mix, X) - mixture_log_density(q_mix, X)
    stderr = np.std(log_ratio, ddof=1) / np.sqrt(n_samples)
    return KLEstimate(float(np.mean(log_ratio)), float(stderr), int(n_samples))


def kl_mixture_upper_bound(p, q):
    """Upper bound on ``KL(p || q)`` for mixtures paired component by component.

    For mixtures ``p = sum_k w_k N_k`` and ``q = sum_k v_k M_k`` with the same
    number of components, the divergence is at most [Do03]_

    ``KL(w || v) + sum_k w_k KL(N_k || M_k)``,

    where ``KL(w || v)`` treats the weight vectors as categorical
    distributions. Components with zero weight in ``p`` contribute nothing.
    The bound depends on how components are paired (here: by index) and is
    tight when ``p`` and ``q`` coincide.

    Parameters
    ----------
    p : object
        The first mixture. See :func:`mixture_log_density` for the required
        attributes.
    q : object
        The second mixture, with as many components and features as ``p``.

    Returns
    -------
    bound : float
        The bound in nats; ``inf`` if some component has positive weight in
        ``p`` and zero weight in ``q``.

    Raises
    ------
    ValueError
        If the numbers of components or of features differ.

    References
    ----------
    .. [Do03] Do, M. N. "Fast approximation of Kullback-Leibler distance for
       dependence trees and hidden Markov models". IEEE Signal Processing
       Letters, 10(4), 2003.
    """
    p_mix = _check_mixture(p, "p")
    q_mix = _check_mixture(q, "q")
    _check_same_features(p_mix, q_mix)
    _check_same_components(p_mix, q_mix)
    w, v = p_mix.weights_, q_mix.weights_
    active = np.flatnonzero(w > 0)
    if np.any(v[active] == 0):
        return float("inf")
    bound = float(np.sum(w[active] * np.log(w[active] / v[active])))
    k, d = p_mix.n_components, p_mix.n_features
    covs_p = full_covariances(p_mix.covariances_, p_mix.covariance_type, k, d)
    covs_q = full_covariances(q_mix.covariances_, q_mix.covariance_type, k, d)
    for j in active:
        chol_p = _cholesky(covs_p[j], f"p.covariances_[{j}]", d)
        chol_q = _cholesky(covs_q[j], f"q.covariances_[{j}]", d)
        kl = _kl_gaussian_cholesky(p_mix.means_[j], chol_p, q_mix.means_[j], chol_q)
        bound += w[j] * kl
    return max(bound, 0.0)


def reference_gaussian(lower, upper):
    """Data-independent reference Gaussian for the box ``[lower, upper]``.

    The Gaussian has the mean and the per-feature variance of the uniform
    distribution over the box: mean ``(lower + upper) / 2`` and diagonal
    covariance ``(upper - lower)**2 / 12``.

    Parameters
    ----------
    lower : array-like of shape (n_features,)
        Lower corner of the box. A scalar is broadcast against ``upper``.
    upper : array-like of shape (n_features,)
        Upper corner of the box, strictly above ``lower`` in every feature.

    Returns
    -------
    mean : ndarray of shape (n_features,)
        Centre of the box.
    cov : ndarray of shape (n_features, n_features)
        Diagonal covariance matrix.
    """
    lower, upper = _check_box(lower, upper)
    return 0.5 * (lower + upper), np.diag((upper - lower) ** 2 / 12.0)


def kl_to_reference(p, lower, upper, n_samples=10_000, random_state=0):
    """Monte Carlo estimate of ``KL(p || reference)`` for the box reference.

    The reference is the single Gaussian of :func:`reference_gaussian`, which
    uses no data. It is the natural baseline for a private release: a useful
    release should be much closer to the non-private fit ``p`` than this.

    Parameters
    ----------
    p : object
        The mixture. See :func:`mixture_log_density` for the required
        attributes.
    lower : array-like of shape (n_features,)
        Lower corner of the box; a scalar applies to every feature.
    upper : array-like of shape (n_features,)
        Upper corner of the box; a scalar applies to every feature.
    n_samples : int, default=10_000
        Number of draws from ``p``, at least 2.
    random_state : int, numpy.random.Generator or None, default=0
        Seed or generator for the draws; the default makes results
        reproducible.

    Returns
    -------
    estimate : KLEstimate
        As returned by :func:`kl_mixture_mc`.
    """
    p_mix = _check_mixture(p, "p")
    lower, upper = _check_box(lower, upper, p_mix.n_features)
    mean, cov = reference_gaussian(lower, upper)
    reference = _Mixture(
        np.ones(1), mean[np.newaxis], np.diag(cov)[np.newaxis], "diag", "reference"
    )
    return kl_mixture_mc(p_mix, reference, n_samples, random_state)


# Validation helpers ---------------------------------------------------------


def _check_mixture(mixture, name):
    """Read and validate the mixture attributes into a :class:`_Mixture`."""
    if isinstance(mixture, _Mixture):
        return mixture
    missing = [a for a in _MIXTURE_ATTRIBUTES if not hasattr(mixture, a)]
    if missing:
        raise ValueError(
            f"{name} must have the attributes {', '.join(_MIXTURE_ATTRIBUTES)} "
            f"(is it fitted?); {type(mixture).__name__} object lacks "
            f"{', '.join(missing)}."
        )
    cov_type = mixture.covariance_type
    if cov_type not in COVARIANCE_TYPES:
        raise ValueError(
            f"{name}.covariance_type must be one of {COVARIANCE_TYPES}, "
            f"got {cov_type!r}."
        )
    means = np.asarray(mixture.means_, dtype=float)
    if means.ndim != 2 or 0 in means.shape:
        raise ValueError(
            f"{name}.means_ must be a non-empty 2-D array (n_components, "
            f"n_features); got shape {means.shape}."
        )
    weights = _check_weights(mixture.weights_, name, means.shape[0])
    covs = _check_covariances(mixture.covariances_, name, cov_type, *means.shape)
    if not np.all(np.isfinite(means)):
        raise ValueError(f"{name}.means_ contains NaN or infinity.")
    return _Mixture(weights, means, covs, cov_type, name)


def _check_weights(weights, name, n_components):
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (n_components,):
        raise ValueError(
            f"{name}.weights_ must have shape ({n_components},) to match "
            f"{name}.means_; got shape {weights.shape}."
        )
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError(
            f"{name}.weights_ must be finite and non-negative; got {weights}."
        )
    if abs(weights.sum() - 1.0) > _WEIGHT_SUM_ATOL:
        raise ValueError(
            f"{name}.weights_ must sum to 1; got sum {float(weights.sum())!r} "
            f"for weights {weights}."
        )
    return weights


def _check_covariances(covs, name, cov_type, n_components, n_features):
    covs = np.asarray(covs, dtype=float)
    expected = {
        "full": (n_components, n_features, n_features),
        "tied": (n_features, n_features),
        "diag": (n_components, n_features),
        "spherical": (n_components,),
    }[cov_type]
    if covs.shape != expected:
        raise ValueError(
            f"{name}.covariances_ must have shape {expected} for "
            f"covariance_type={cov_type!r}; got shape {covs.shape}."
        )
    if not np.all(np.isfinite(covs)):
        raise ValueError(f"{name}.covariances_ contains NaN or infinity.")
    return covs


def _precision_cholesky(mix):
    try:
        return precision_cholesky(mix.covariances_, mix.covariance_type)
    except np.linalg.LinAlgError as err:
        raise ValueError(
            f"{mix.name}.covariances_ must be positive definite ({err})"
        ) from err


def _check_same_features(p_mix, q_mix):
    if p_mix.n_features != q_mix.n_features:
        raise ValueError(
            f"{p_mix.name} and {q_mix.name} must have the same n_features; got "
            f"{p_mix.n_features} and {q_mix.n_features}."
        )


def _check_same_components(p_mix, q_mix):
    if p_mix.n_components != q_mix.n_components:
        raise ValueError(
            f"{p_mix.name} and {q_mix.name} must have the same number of "
            f"components to be paired by index; got {p_mix.name} with "
            f"{p_mix.n_components} and {q_mix.name} with {q_mix.n_components}."
        )


def _check_points(X, n_features):
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != n_features:
        raise ValueError(
            f"X must have shape (n_samples, {n_features}) to match the "
            f"mixture's n_features; got shape {X.shape}."
        )
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinity.")
    return X


def _check_n_samples(n_samples, minimum):
    if (
        not isinstance(n_samples, numbers.Integral)
        or isinstance(n_samples, bool)
        or n_samples < minimum
    ):
        raise ValueError(
            f"n_samples must be an integer >= {minimum}; got {n_samples!r}."
        )


def _as_vector(x, name, n_features=None):
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or (n_features is not None and x.shape[0] != n_features):
        want = "n_features" if n_features is None else n_features
        raise ValueError(f"{name} must have shape ({want},); got shape {x.shape}.")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or infinity: {x}.")
    return x


def _cholesky(cov, name, n_features):
    """Lower Cholesky factor of ``cov``, with errors naming the argument."""
    cov = np.asarray(cov, dtype=float)
    if cov.shape != (n_features, n_features):
        raise ValueError(
            f"{name} must have shape ({n_features}, {n_features}); got shape "
            f"{cov.shape}."
        )
    if not np.all(np.isfinite(cov)):
        raise ValueError(f"{name} contains NaN or infinity.")
    # Only the lower triangle is read below; refuse a matrix whose upper
    # triangle says otherwise (beyond rounding).
    if np.max(np.abs(cov - cov.T)) > _SYMMETRY_RTOL * np.max(np.abs(cov)):
        raise ValueError(f"{name} must be symmetric; got {cov}.")
    try:
        factor, _ = linalg.cho_factor(cov, lower=True)
    except np.linalg.LinAlgError as err:
        raise ValueError(f"{name} must be positive definite; got {cov}.") from err
    # cho_factor may leave arbitrary values in the unused upper triangle.
    return np.tril(factor)


def _check_box(lower, upper, n_features=None):
    lower = np.asarray(lower, dtype=float)
    upper = np.asarray(upper, dtype=float)
    try:
        shape = np.broadcast_shapes(lower.shape, upper.shape, (n_features or 1,))
    except ValueError as err:
        raise ValueError(
            f"lower and upper must broadcast to one shape (n_features,); got "
            f"shapes {lower.shape} and {upper.shape}"
            + ("" if n_features is None else f" for n_features={n_features}")
            + "."
        ) from err
    if len(shape) != 1:
        raise ValueError(
            f"lower and upper must be 1-D; got shapes {lower.shape} and {upper.shape}."
        )
    lower, upper = np.broadcast_to(lower, shape), np.broadcast_to(upper, shape)
    if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
        raise ValueError(f"lower and upper must be finite; got {lower}, {upper}.")
    if np.any(upper <= lower):
        raise ValueError(
            f"upper must exceed lower in every feature; got lower={lower}, "
            f"upper={upper}."
        )
    return lower, upper
