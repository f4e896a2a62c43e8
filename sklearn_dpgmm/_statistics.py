"""Per-component sufficient statistics of one private EM iteration.

All statistics are computed on *normalised* records ``z`` that lie in the box
``|z_j| <= a_j`` (the clipping box, centred and rescaled; see ``_geometry``).
Responsibilities ``r_ik >= 0`` with ``sum_k r_ik = 1`` are computed from the
previous *released* parameters, so they are public functions of one record.

Each component ``k`` has a public centre ``m_k`` (its previous released mean)
and a public clipping radius ``rho_k``. A record's deviation
``v_ik = z_i - m_k`` is shrunk to length at most ``rho_k``:
``c_ik = min(1, rho_k / |v_ik|)``. The released groups are

=========  ========================================  ===========  =========
group      statistic                                 shape        scale
=========  ========================================  ===========  =========
counts     ``N_k = sum_i r_ik``                      (k,)         1
first      ``F_k = sum_i r_ik c_ik v_ik``            (k, d)       rho_k
second     full: ``sum_i r_ik c_ik^2 v_ik v_ik^T``   (k, d, d)    rho_k^2
           tied: ``sum_ik r_ik c_ik^2 v_ik v_ik^T``  (d, d)       max rho^2
           diag: ``sum_i r_ik c_ik^2 v_ik**2``       (k, d)       rho_k^2
           spherical: ``sum_i r_ik c_ik^2 |v_ik|^2`` (k,)         rho_k^2
=========  ========================================  ===========  =========

Each component's block of a group is divided by its *scale* before noise is
added, and every rescaled group has L2 sensitivity exactly 1 under adding or
removing one record (derivation in :func:`noise_scales`). The noise on
component ``k`` of group ``g`` therefore has standard deviation
``multiplier_g * scale_gk``, and the release of group ``g`` is a Gaussian
mechanism with GDP parameter ``1 / multiplier_g``.

Symmetric matrices are released through their upper triangle (diagonal
included), with the noise mirrored below it.
"""

from dataclasses import dataclass

import numpy as np

GROUPS = ("counts", "first", "second")

# Clipping radius in units of the root of the trace of the previous released
# covariance: rho_k = CLIP_FACTOR * sqrt(trace(S_k)).
CLIP_FACTOR = 3.0


@dataclass
class Statistics:
    """Sufficient statistics of one iteration (noisy or exact)."""

    counts: np.ndarray
    first: np.ndarray
    second: np.ndarray


@dataclass(frozen=True)
class NoiseScales:
    """Per-component scale of each group (sensitivity of one record's block)."""

    counts: np.ndarray
    first: np.ndarray
    second: np.ndarray


def clip_radii(means, covariances, covariance_type, half_widths, noisy):
    """Public clipping radius of every component.

    ``rho_k = CLIP_FACTOR * sqrt(trace(S_k))``, capped at the distance from
    ``m_k`` to the farthest corner of the box (beyond it clipping never acts).
    Without noise there is nothing to protect and the radius is infinite, so
    the statistics are exact.
    """
    k, d = means.shape
    if not noisy:
        return np.full(k, np.inf)
    if covariance_type == "full":
        trace = np.trace(covariances, axis1=1, axis2=2)
    elif covariance_type == "tied":
        trace = np.full(k, np.trace(covariances))
    elif covariance_type == "diag":
        trace = covariances.sum(axis=1)
    else:
        trace = d * covariances
    farthest = np.sqrt(np.sum((np.abs(means) + half_widths) ** 2, axis=1))
    return np.minimum(CLIP_FACTOR * np.sqrt(trace), farthest)


def noise_scales(covariance_type, radii):
    """Scale of each group's per-component block: its L2 sensitivity.

    With ``r`` a responsibility vector on the simplex and ``|v_k| <= rho_k``
    the clipped deviation of the added (or removed) record from centre ``k``:

    * counts: the record adds ``r``; ``|r|_2 <= |r|_1 = 1``.
    * first: block ``k`` moves by ``r_k v_k``, at most ``r_k rho_k``; after
      dividing by ``rho_k`` the stacked change has norm ``|r|_2 <= 1``.
    * second (full, diag, spherical): block ``k`` moves by ``r_k`` times the
      upper triangle of ``v_k v_k^T`` (resp. ``v_k**2``, ``|v_k|^2``), whose
      norm is at most ``|v_k|^2 <= rho_k^2``; divided by ``rho_k^2`` the
      stacked change has norm ``|r|_2 <= 1``.
    * second (tied): one matrix ``sum_k r_k v_k v_k^T`` of norm at most
      ``sum_k r_k rho_k^2 <= max_k rho_k^2``.

    Each bound is attained by a record whose responsibility is one-hot and
    whose deviation lies along a coordinate axis at length ``>= rho_k``.
    """
    radii = np.asarray(radii, dtype=float)
    second = np.array([np.max(radii) ** 2]) if covariance_type == "tied" else radii**2
    return NoiseScales(np.ones_like(radii), radii, second)


def empty_statistics(covariance_type, n_components, n_features):
    k, d = n_components, n_features
    second_shape = {
        "full": (k, d, d),
        "tied": (d, d),
        "diag": (k, d),
        "spherical": (k,),
    }[covariance_type]
    return Statistics(np.zeros(k), np.zeros((k, d)), np.zeros(second_shape))


def _clipped_deviations(z, centre, radius):
    """Deviations ``z - centre`` and their clipping factors ``c``."""
    dev = z - centre
    if np.isinf(radius):
        return dev, np.ones(z.shape[0])
    norm = np.sqrt(np.einsum("ij,ij->i", dev, dev))
    with np.errstate(divide="ignore"):
        factor = np.minimum(1.0, radius / norm)
    return dev, factor


def accumulate(stats, z, resp, centres, radii, covariance_type):
    """Add the terms of the records ``z`` (n, d) with responsibilities ``resp``."""
    stats.counts += resp.sum(axis=0)
    for k in range(resp.shape[1]):
        dev, factor = _clipped_deviations(z, centres[k], radii[k])
        w1 = resp[:, k] * factor
        w2 = w1 * factor
        stats.first[k] += w1 @ dev
        if covariance_type == "full":
            stats.second[k] += (dev * w2[:, None]).T @ dev
        elif covariance_type == "tied":
            stats.second += (dev * w2[:, None]).T @ dev
        elif covariance_type == "diag":
            stats.second[k] += w2 @ (dev * dev)
        else:
            stats.second[k] += w2 @ np.einsum("ij,ij->i", dev, dev)
    return stats


def record_terms(z, resp, centres, radii, covariance_type):
    """Each record's rescaled contribution to every group, as flat vectors.

    Returns a ``Statistics`` whose arrays have a leading axis over records and
    hold exactly the coordinates that receive noise (upper triangles for
    symmetric matrices), each component's block divided by its scale. The L2
    norm of a record's row is what one record can move that group; used to
    test the sensitivities.
    """
    n, d = z.shape
    k = resp.shape[1]
    scales = noise_scales(covariance_type, radii)
    iu = np.triu_indices(d)
    first = np.empty((n, k, d))
    second_blocks = []
    for j in range(k):
        dev, factor = _clipped_deviations(z, centres[j], radii[j])
        v = dev * factor[:, None]
        first[:, j] = resp[:, j : j + 1] * v / scales.first[j]
        if covariance_type in ("full", "tied"):
            term = (v[:, :, None] * v[:, None, :])[:, iu[0], iu[1]]
        elif covariance_type == "diag":
            term = v * v
        else:
            term = np.einsum("ij,ij->i", v, v)[:, None]
        second_blocks.append(resp[:, j : j + 1] * term)
    if covariance_type == "tied":
        second = sum(second_blocks) / scales.second[0]
    else:
        second = np.concatenate(
            [b / s for b, s in zip(second_blocks, scales.second, strict=True)], axis=1
        )
    return Statistics(resp / scales.counts, first.reshape(n, -1), second)


def noise_stds(multipliers, scales):
    """Noise std of every group and component: ``multiplier_g * scale_gk``.

    A zero multiplier (no noise) gives zero std even for an infinite scale.
    """
    return NoiseScales(
        *(
            np.zeros_like(s) if m == 0 else m * s
            for m, s in zip(
                multipliers, (scales.counts, scales.first, scales.second), strict=True
            )
        )
    )


def add_noise(stats, stds, covariance_type, rng):
    """Gaussian mechanism on every group; returns new noisy ``Statistics``.

    Component ``k`` of group ``g`` gets independent noise of standard deviation
    ``stds.<g>[k]`` in every released coordinate; ``stats`` is not modified.
    """
    counts = stats.counts + stds.counts * rng.standard_normal(stats.counts.shape)
    first = stats.first + stds.first[:, None] * rng.standard_normal(stats.first.shape)
    if covariance_type in ("full", "tied"):
        noise = _symmetric_noise(stats.second.shape, rng).reshape(
            (-1,) + stats.second.shape[-2:]
        )
        noise *= stds.second[:, None, None]
        second = stats.second + noise.reshape(stats.second.shape)
    elif covariance_type == "diag":
        second = stats.second + stds.second[:, None] * rng.standard_normal(
            stats.second.shape
        )
    else:
        second = stats.second + stds.second * rng.standard_normal(stats.second.shape)
    return Statistics(counts, first, second)


def _symmetric_noise(shape, rng):
    """Standard normal noise on the upper triangle, mirrored below it."""
    d = shape[-1]
    iu = np.triu_indices(d)
    out = np.zeros(shape)
    out[..., iu[0], iu[1]] = rng.standard_normal(shape[:-2] + (iu[0].size,))
    lower = np.tril_indices(d, -1)
    out[..., lower[0], lower[1]] = np.swapaxes(out, -1, -2)[..., lower[0], lower[1]]
    return out
