"""The clipping box: every record lands inside it, in normalised units."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_dpgmm._gaussian import COVARIANCE_TYPES
from sklearn_dpgmm._geometry import Box


def random_box(rng, d, covariance_type):
    lower = rng.uniform(-1e3, 1e3, size=d)
    upper = lower + 10 ** rng.uniform(-3, 3, size=d)
    return Box.from_bounds(lower, upper, covariance_type)


def records(rng, box, n):
    """Records inside, on and far outside the box, including the bounds."""
    width = box.upper - box.lower
    inside = rng.uniform(box.lower, box.upper, size=(n, box.lower.size))
    outside = box.lower + width * rng.uniform(-1e6, 1e6, size=(n, box.lower.size))
    return np.concatenate([inside, outside, [box.lower, box.upper]])


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    covariance_type=st.sampled_from(COVARIANCE_TYPES),
    d=st.integers(1, 6),
    equal_widths=st.booleans(),
)
def test_to_z_is_inside_the_box_exactly(seed, covariance_type, d, equal_widths):
    # Guards the premise of every sensitivity bound: a normalised record has
    # |z_j| <= a_j with no rounding slack, wherever the raw record lies, and
    # the map agrees with "clip into [lower, upper], then normalise" (the
    # definition in doc/mechanism.md) to rounding. That rounding is in the
    # reference as much as in to_z: a bound minus the centre is exact only to
    # a few ulps of the larger of the two, which normalised is about
    # eps * (|centre| + |bound|) / scale.
    rng = np.random.default_rng(seed)
    box = random_box(rng, d, covariance_type)
    if equal_widths:
        box = Box.from_bounds(box.lower, box.lower + 2.0, covariance_type)
    X = records(rng, box, 20)
    z = box.to_z(X)
    assert z.dtype == np.float64
    assert np.all(np.abs(z) <= box.half_widths)
    reference = (np.clip(X, box.lower, box.upper) - box.centre) / box.scale
    ulps = np.finfo(float).eps * (np.abs(box.centre) + np.abs(box.upper - box.lower))
    assert np.all(np.abs(z - reference) <= 4 * ulps / box.scale)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_to_z_leaves_rows_unchanged(covariance_type, dtype):
    # Guards "X is never changed in place": the normalised block is a new
    # float64 array even when the rows already are float64.
    rng = np.random.default_rng(0)
    box = random_box(rng, 3, covariance_type)
    X = records(rng, box, 10).astype(dtype)
    before = X.copy()
    z = box.to_z(X)
    assert z.dtype == np.float64 and not np.shares_memory(z, X)
    np.testing.assert_array_equal(X, before)
