"""The clipping box and the normalised coordinates private EM works in.

Records are clipped into the public box ``[lower, upper]`` and mapped to
``z = (clip(x) - centre) / scale``. For full, tied and diagonal covariances
``scale`` is the per-feature half-width, so ``z`` lies in ``[-1, 1]^d`` and the
noise is spread evenly over features whatever their units. For spherical
covariances a per-feature scale would turn a spherical model into an elliptical
one, so a single scale (the largest half-width) is used and the half-widths in
``z`` are ``a_j = h_j / max(h) <= 1``.

The map is affine and public, so fitting in ``z`` and mapping the released
parameters back is post-processing.
"""

from dataclasses import dataclass

import numpy as np

from ._mstep import MixtureParams


@dataclass(frozen=True)
class Box:
    lower: np.ndarray
    upper: np.ndarray
    centre: np.ndarray
    scale: np.ndarray
    half_widths: np.ndarray

    @classmethod
    def from_bounds(cls, lower, upper, covariance_type):
        centre = (lower + upper) / 2.0
        h = (upper - lower) / 2.0
        scale = np.full_like(h, h.max()) if covariance_type == "spherical" else h
        return cls(lower, upper, centre, scale, h / scale)

    def to_z(self, rows):
        """Normalise rows and clip them into the box (a new float64 array).

        Normalising first and clipping to ``[-a_j, a_j]`` afterwards is the
        same map as clipping to ``[lower, upper]`` first, but guarantees
        ``|z_j| <= a_j`` exactly, whatever the rounding of the affine step,
        and is faster: for full, tied and diagonal covariances (and spherical
        ones on a box of equal widths) every ``a_j`` is 1, and clipping to a
        scalar range costs a third of clipping to per-feature bounds.
        """
        z = np.subtract(rows, self.centre, dtype=float)
        z *= 1.0 / self.scale  # multiplying is faster than dividing
        a = self.half_widths
        if np.all(a == 1.0):
            np.clip(z, -1.0, 1.0, out=z)
        else:
            np.minimum(z, a, out=z)
            np.maximum(z, -a, out=z)
        return z

    def params_to_x(self, params, covariance_type):
        # Means lie in the box in normalised units; the clip only removes the
        # last-bit rounding of centre + mean * scale past a bound.
        return MixtureParams(
            params.weights,
            np.clip(self.centre + params.means * self.scale, self.lower, self.upper),
            _scale_covariances(params.covariances, covariance_type, self.scale),
        )

    def params_to_z(self, params, covariance_type):
        return MixtureParams(
            params.weights,
            (params.means - self.centre) / self.scale,
            _scale_covariances(params.covariances, covariance_type, 1.0 / self.scale),
        )


def _scale_covariances(covariances, covariance_type, s):
    if covariance_type in ("full", "tied"):
        return covariances * np.outer(s, s)
    if covariance_type == "diag":
        return covariances * s**2
    # Spherical: the scale is the same in every feature.
    return covariances * s[0] ** 2
