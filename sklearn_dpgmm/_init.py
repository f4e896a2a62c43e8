"""Initialisation strategies for private EM, in normalised units.

``"random"`` draws the starting means uniformly in the box; it reads no data.

``"split"`` grows the mixture by splitting, as in the Linde-Buzo-Gray
algorithm: private EM starts from one broad component, and at fixed
iterations every component (or the broadest ones, to reach exactly
``n_components``) is replaced by two children placed on either side of its
mean along its main axis. The schedule depends only on ``n_components`` and
``max_iter``, and each split reads only released parameters, so the split
itself is post-processing; the EM iterations run in between are ordinary
private iterations paid from the budget. New components are therefore born
inside the data's mass, where random starting points often land in empty
parts of the box and are then killed by the noise.
"""

import numpy as np

from ._mstep import MixtureParams

# Children of a split sit at mean +- SPLIT_OFFSET * sqrt(lambda) * u, where
# (lambda, u) is the main axis: sqrt(2 / pi) is where the two halves of a
# Gaussian cut through its mean have their means.
SPLIT_OFFSET = np.sqrt(2.0 / np.pi)


def broad_covariances(half_widths, n_components, covariance_type, shrink=1.0):
    """Covariance of the uniform distribution over the box, times ``shrink``."""
    var = np.asarray(half_widths, dtype=float) ** 2 / 3.0 * shrink
    k = n_components
    return {
        "full": lambda: np.stack([np.diag(var)] * k),
        "tied": lambda: np.diag(var),
        "diag": lambda: np.tile(var, (k, 1)),
        "spherical": lambda: np.full(k, var.mean()),
    }[covariance_type]()


def random_init(half_widths, n_components, covariance_type, rng):
    """Equal weights, uniform means in the box, broad covariances."""
    a = np.asarray(half_widths, dtype=float)
    k, d = n_components, a.size
    return MixtureParams(
        np.full(k, 1.0 / k),
        rng.uniform(-a, a, size=(k, d)),
        broad_covariances(a, k, covariance_type, shrink=k ** (-2.0 / d)),
    )


def split_schedule(n_components, max_iter):
    """Number of components active in each iteration of a ``"split"`` fit.

    The count doubles at evenly spaced iterations (the last doubling is
    partial so as to end at ``n_components``); the growth takes about half of
    the iterations and the full mixture is refined in the rest.

    Returns
    -------
    active : ndarray of shape (max_iter,)
    """
    sizes = [1]
    while sizes[-1] < n_components:
        sizes.append(min(2 * sizes[-1], n_components))
    n_stages = len(sizes)
    if n_stages == 1:
        return np.ones(max_iter, dtype=int)
    stage_len = max(1, (max_iter // 2) // (n_stages - 1))
    active = np.full(max_iter, n_components)
    for s, size in enumerate(sizes[:-1]):
        active[s * stage_len : (s + 1) * stage_len] = size
    return active[:max_iter]


def split_components(params, n_target, covariance_type, half_widths, rng):
    """Split the broadest components until there are ``n_target`` of them.

    A component's breadth is its weight times its largest variance; the
    broadest are split first. Each child keeps half the weight, and its
    covariance is shrunk along the split axis by the part of the variance the
    split explains, which keeps it positive definite.
    """
    k = params.means.shape[0]
    n_new = n_target - k
    if n_new <= 0:
        return params
    d = params.means.shape[1]
    axes, lambdas = _main_axes(params.covariances, covariance_type, k, d, rng)
    order = np.argsort(-(params.weights * lambdas))[:n_new]
    weights = params.weights.copy()
    means = params.means.copy()
    covs = params.covariances.copy()
    new_w, new_m, new_c = [], [], []
    a = np.asarray(half_widths, dtype=float)
    for j in order:
        step = SPLIT_OFFSET * np.sqrt(lambdas[j]) * axes[j]
        weights[j] /= 2.0
        means[j] = np.clip(params.means[j] + step, -a, a)
        child = np.clip(params.means[j] - step, -a, a)
        shrunk = _shrink_along(covs, j, axes[j], lambdas[j], covariance_type)
        if covariance_type != "tied":
            covs[j] = shrunk
            new_c.append(shrunk)
        new_w.append(weights[j])
        new_m.append(child)
    weights = np.concatenate([weights, new_w])
    means = np.concatenate([means, new_m])
    if covariance_type != "tied":
        covs = np.concatenate([covs, np.asarray(new_c)])
    return MixtureParams(weights / weights.sum(), means, covs)


def _main_axes(covariances, covariance_type, k, d, rng):
    """Unit main axis and its variance for every component."""
    if covariance_type in ("full", "tied"):
        mats = covariances if covariance_type == "full" else [covariances] * k
        eig = [np.linalg.eigh(c) for c in mats]
        return np.array([v[:, -1] for _, v in eig]), np.array([w[-1] for w, _ in eig])
    if covariance_type == "diag":
        j = covariances.argmax(axis=1)
        axes = np.zeros_like(covariances)
        axes[np.arange(k), j] = 1.0
        return axes, covariances[np.arange(k), j]
    # Spherical: every axis is a main axis; pick one at random (public).
    u = rng.standard_normal((k, d))
    return u / np.linalg.norm(u, axis=1, keepdims=True), covariances.copy()


def _shrink_along(covs, j, axis, lam, covariance_type):
    cut = (2.0 / np.pi) * lam
    if covariance_type == "full":
        return covs[j] - cut * np.outer(axis, axis)
    if covariance_type == "diag":
        return covs[j] - cut * axis**2
    if covariance_type == "spherical":
        return covs[j]
    return covs
