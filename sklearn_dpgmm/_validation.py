"""Declarative validation of constructor parameters and of fit-time arrays.

scikit-learn's own declarative validator lives in a private module, so this
project keeps a small one of its own. Every message names the parameter, echoes
the value it received and says what would work.
"""

import numbers

import numpy as np

from .exceptions import InvalidParameterError


class Constraint:
    """A set of admissible values with a human-readable description."""

    def __init__(self, description, test, hint=""):
        self.description = description
        self.test = test
        self.hint = hint


def integer(low, high=None):
    def test(v):
        return (
            isinstance(v, numbers.Integral)
            and not isinstance(v, bool)
            and v >= low
            and (high is None or v <= high)
        )

    upper = "" if high is None else f" and <= {high}"
    return Constraint(f"an int >= {low}{upper}", test)


def real(low, high, *, closed="neither", allow_inf=False, hint=""):
    """A real number in an interval; ``closed`` in {neither, left, right, both}."""

    def test(v):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            return False
        v = float(v)
        if np.isnan(v) or (np.isinf(v) and not allow_inf):
            return False
        above = v >= low if closed in ("left", "both") else v > low
        below = v <= high if closed in ("right", "both") else v < high
        return above and below

    left = "[" if closed in ("left", "both") else "("
    right = "]" if closed in ("right", "both") else ")"
    return Constraint(f"a real number in {left}{low}, {high}{right}", test, hint)


def options(values):
    return Constraint(
        "one of " + ", ".join(repr(v) for v in values),
        lambda v: isinstance(v, str) and v in values,
    )


def boolean():
    return Constraint("a bool", lambda v: isinstance(v, (bool, np.bool_)))


def none_or_array_like():
    return Constraint(
        "None or an array-like",
        lambda v: v is None or isinstance(v, (list, tuple, np.ndarray)),
    )


def random_state():
    return Constraint(
        "None, an int >= 0, a numpy RandomState or a numpy Generator",
        lambda v: (
            v is None
            or (isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0)
            or isinstance(v, (np.random.RandomState, np.random.Generator))
        ),
    )


def bounds_like():
    return Constraint(
        "None or a pair (lower, upper) of scalars or arrays of length n_features",
        lambda v: v is None or (isinstance(v, (list, tuple)) and len(v) == 2),
        hint="Pass public bounds such as bounds=(0.0, 1.0).",
    )


def validate_parameters(estimator, constraints):
    """Raise InvalidParameterError for the first parameter outside its constraint."""
    cls = type(estimator).__name__
    for name, constraint in constraints.items():
        value = getattr(estimator, name)
        if not constraint.test(value):
            hint = f" {constraint.hint}" if constraint.hint else ""
            raise InvalidParameterError(
                f"The {name!r} parameter of {cls} must be {constraint.description}; "
                f"got {value!r} of type {type(value).__name__}.{hint}"
            )


def check_bounds(bounds, n_features):
    """Validate ``bounds`` against the data's width; return float arrays.

    Returns
    -------
    lower, upper : ndarray of shape (n_features,)
    """
    try:
        lower = np.asarray(bounds[0], dtype=float)
        upper = np.asarray(bounds[1], dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"bounds must hold numbers; got bounds={bounds!r}. "
            "Pass bounds=(lower, upper) with scalars or arrays of length n_features."
        ) from exc
    for name, arr in (("lower", lower), ("upper", upper)):
        if arr.ndim > 1 or (arr.ndim == 1 and arr.size != n_features):
            raise ValueError(
                f"bounds {name} must be a scalar or have length n_features="
                f"{n_features}; got shape {arr.shape}."
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError(
                f"bounds {name} must be finite; got {arr!r}. Pass finite public bounds."
            )
    lower = np.broadcast_to(lower, (n_features,)).copy()
    upper = np.broadcast_to(upper, (n_features,)).copy()
    bad = np.flatnonzero(lower >= upper)
    if bad.size:
        j = bad[0]
        raise ValueError(
            f"bounds must satisfy lower < upper in every feature; feature {j} has "
            f"lower={lower[j]!r} and upper={upper[j]!r}."
        )
    return lower, upper
