"""Publish a fitted private mixture as a self-describing JSON release file.

:func:`save_release` writes what the privacy guarantee of a fitted
:class:`~sklearn_dpgmm.DPGaussianMixture` covers, together with the terms of
that guarantee, into one UTF-8 JSON file. :func:`load_release` reads such a file
back into a fitted ``DPGaussianMixture`` that scores, predicts and samples like
the original. Nothing computed from the raw data outside the private
mechanism is written: in particular ``kl_to_nonprivate_`` never is, and
neither is the ``random_state`` of the fit (whoever knows the seed can
recompute the noise and subtract it).

Notes
-----
**Format, version 1.** The file holds one JSON object. Numbers are plain
JSON numbers, never ``NaN`` or ``Infinity``: the privacy numbers that can be
infinite (``epsilon``, ``epsilon_spent`` and ``mu`` of a fit without noise, a
noise multiplier of a release that was skipped) are written as the string
``"inf"``. Readers ignore keys they do not know; writers of version 1 write
exactly these keys:

``format`` (str)
    Always ``"sklearn-dpgmm-release"``.
``format_version`` (int)
    Always ``1`` for this layout. A reader refuses versions it does not know.
``package_version`` (str)
    ``sklearn_dpgmm.__version__`` of the writer.
``private`` (bool)
    ``true`` when the (epsilon, delta) guarantee below holds for the release:
    the clipping box was given by the user (public) and epsilon is finite.
``warning`` (str or null)
    ``null`` for a private release, otherwise a sentence saying why the
    release is **not** differentially private.
``model`` (object)
    The released mixture, with the shapes used by
    :class:`sklearn.mixture.GaussianMixture`:

    - ``n_components`` (int) and ``n_features`` (int);
    - ``covariance_type``: one of ``"full"``, ``"tied"``, ``"diag"``,
      ``"spherical"``;
    - ``feature_names``: list of ``n_features`` strings, or ``null`` when the
      model was fitted on an array without column names;
    - ``weights``: ``n_components`` numbers on the simplex;
    - ``means``: ``n_components`` lists of ``n_features`` numbers;
    - ``covariances``: nested lists of shape ``(n_components, n_features,
      n_features)`` (full), ``(n_features, n_features)`` (tied),
      ``(n_components, n_features)`` (diag) or ``(n_components,)``
      (spherical); every matrix symmetric positive definite, every variance
      positive.
``bounds`` (object)
    The clipping box: ``lower`` and ``upper``, each a list of ``n_features``
    numbers with ``lower < upper``, and ``source``: ``"public"`` when the box
    was passed as ``bounds``, ``"data"`` when it was read from the data
    (``bounds=None``; the release is then not private).
``privacy`` (object)
    The terms of the guarantee:

    - ``epsilon``: the epsilon requested (number > 0, or ``"inf"``);
    - ``delta``: the delta of the guarantee, in (0, 1);
    - ``epsilon_spent``: the epsilon the fit spends at ``delta`` (at most
      ``epsilon``), or ``"inf"``;
    - ``mu``: the Gaussian-DP parameter of the whole fit, or ``"inf"``;
    - ``neighbouring_relation``: ``"add/remove one record"``, the notion of
      neighbouring data sets the guarantee refers to;
    - ``mechanism``: a short description of the mechanism;
    - ``noise_multiplier_groups``: names of the releases made in each EM
      iteration, ``["counts", "first", "second"]``;
    - ``noise_multipliers``: one list per EM iteration with one number per
      group: the noise standard deviation over the L2 sensitivity of that
      Gaussian release (``0`` for a release without noise, ``"inf"`` for one
      that was skipped). The fit is
      ``mu``-GDP with ``mu = sqrt(sum(noise_multipliers ** -2))``, so anyone
      can recompute ``epsilon_spent`` for any delta with
      :func:`sklearn_dpgmm.accounting.epsilon_from_gdp`.
``fit_parameters`` (object)
    Public hyper-parameters of the fit: ``max_iter`` (int, equal to the
    number of rows of ``noise_multipliers``), ``reg_covar`` (number >= 0),
    ``init_params`` and ``allocation`` (strings).

On reading, every field is checked: a file that is not valid JSON, lacks a
field, has a field of the wrong type or shape, non-finite numbers, weights off
the simplex, covariances that are not positive definite, or privacy numbers
that disagree with each other, raises :class:`ReleaseFormatError` naming the
file and the problem; no partly loaded model is ever returned.
"""

import json
import math
import numbers
import os
from pathlib import Path

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._estimator import DPGaussianMixture
from ._gaussian import (
    COVARIANCE_TYPES,
    precision_cholesky,
    precisions_from_cholesky,
)
from ._statistics import clip_radius
from ._validation import validate_parameters
from .accounting import epsilon_from_gdp, gdp_from_noise_multipliers
from .exceptions import InvalidParameterError

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "ReleaseFormatError",
    "load_release",
    "save_release",
]

FORMAT_NAME = "sklearn-dpgmm-release"
FORMAT_VERSION = 1

NEIGHBOURING_RELATION = "add/remove one record"
NOISE_GROUPS = ("counts", "first", "second")
MECHANISM = (
    "Private EM on records clipped into the bounds: every iteration computes "
    "responsibilities from the previously released parameters, whitens and "
    "clips each record's deviation from each released mean to a public "
    "radius, and releases the per-component soft counts, first moments and "
    "second moments through the Gaussian mechanism. The releases compose in "
    "Gaussian differential privacy, mu = sqrt(sum(noise_multipliers ** -2)), "
    "converted to (epsilon, delta) with the analytic Gaussian relation."
)

# Why a release is not private; joined into its "warning" field.
_REASON_DATA_BOUNDS = (
    "the clipping box was read from the training data (bounds=None), so the "
    "release depends on the most extreme records in a way no epsilon accounts "
    "for"
)
_REASON_NO_NOISE = (
    "epsilon is infinite, so the parameters were released without any noise"
)


# Largest tolerated |sum(weights) - 1|; renormalised noisy weights are off by
# rounding only.
_WEIGHT_SUM_ATOL = 1e-6
# Relative asymmetry tolerated in a covariance matrix (a few ulps of products).
_SYMMETRY_RTOL = 1e-10
# Relative disagreement tolerated between the privacy numbers of a file and
# their recomputation from the noise multipliers.
_ACCOUNTING_RTOL = 1e-6

# Shape of ``model.covariances`` for each covariance type, from (k, d).
_COV_SHAPES = {
    "full": lambda k, d: (k, d, d),
    "tied": lambda k, d: (d, d),
    "diag": lambda k, d: (k, d),
    "spherical": lambda k, d: (k,),
}


class ReleaseFormatError(ValueError):
    """A release file cannot be read: corrupt, of another format or inconsistent.

    Parameters
    ----------
    path : str or path-like
        The file that was read.
    problem : str
        What is wrong with it.

    Attributes
    ----------
    path : str
        The file that was read.
    problem : str
        What is wrong with it.
    """

    def __init__(self, path, problem):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"invalid release file {self.path!r}: {problem}")


# --------------------------------------------------------------------- write


def save_release(estimator, path, *, overwrite=False):
    """Write a fitted :class:`~sklearn_dpgmm.DPGaussianMixture` to a release file.

    The file holds the released parameters, the clipping box and the privacy
    terms (see the module documentation for the format). It never holds
    ``kl_to_nonprivate_`` nor the seed of the fit. The file is written under a
    temporary name and renamed into place, so an interrupted write leaves no
    partial release behind.

    Parameters
    ----------
    estimator : DPGaussianMixture
        A fitted estimator.
    path : str or path-like
        Where to write the JSON file.
    overwrite : bool, default=False
        Replace ``path`` if it exists. Without it an existing file is an error.

    Returns
    -------
    path : pathlib.Path
        The path written.

    Raises
    ------
    TypeError
        If ``estimator`` is not a ``DPGaussianMixture``.
    sklearn.exceptions.NotFittedError
        If it is not fitted.
    FileExistsError
        If ``path`` exists and ``overwrite`` is false.
    ValueError
        If the fitted attributes are inconsistent (which a fit never produces).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sklearn_dpgmm import DPGaussianMixture
    >>> from sklearn_dpgmm.release import load_release, save_release
    >>> X = np.random.default_rng(0).normal(size=(200, 2))
    >>> gm = DPGaussianMixture(2, epsilon=1.0, bounds=(-4, 4), compute_kl=False,
    ...                        random_state=0).fit(X)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = save_release(gm, os.path.join(tmp, "model.json"))
    ...     loaded = load_release(out)
    >>> bool(np.allclose(loaded.score_samples(X), gm.score_samples(X)))
    True
    """
    if not isinstance(estimator, DPGaussianMixture):
        raise TypeError(
            "save_release writes DPGaussianMixture models only; got "
            f"{type(estimator).__name__}. A non-private model has no guarantee "
            "to publish."
        )
    check_is_fitted(estimator)
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"{str(path)!r} exists; pass overwrite=True to replace it."
        )
    document = _release_document(estimator)
    # Everything is validated and serialised before the file is touched.
    try:
        _check_document(document)
    except _DocumentError as exc:
        raise ValueError(f"the fitted estimator cannot be released: {exc}") from None
    text = _dumps(document) + "\n"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _release_document(est):
    """The JSON-ready dict of a fitted estimator (format version 1)."""
    from . import __version__

    ct = est.covariance_type
    k, d = np.shape(est.means_)
    names = getattr(est, "feature_names_in_", None)
    epsilon = float(est.epsilon)
    public_box = est.bounds is not None
    reasons = []
    if not public_box:
        reasons.append(_REASON_DATA_BOUNDS)
    if math.isinf(epsilon):
        reasons.append(_REASON_NO_NOISE)
    warning = None
    if reasons:
        warning = (
            "NOT differentially private: "
            + "; and ".join(reasons)
            + ". The privacy fields below do not describe a guarantee."
        )
    multipliers = np.asarray(est.noise_multipliers_, dtype=float)
    lower, upper = est.bounds_
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "package_version": str(__version__),
        "private": not reasons,
        "warning": warning,
        "model": {
            "n_components": int(k),
            "n_features": int(d),
            "covariance_type": ct,
            "feature_names": None if names is None else [str(n) for n in names],
            "weights": _floats(est.weights_),
            "means": _floats(est.means_),
            "covariances": _floats(est.covariances_),
        },
        "bounds": {
            "lower": _floats(lower),
            "upper": _floats(upper),
            "source": "public" if public_box else "data",
        },
        "privacy": {
            "epsilon": _encode_number(epsilon),
            "delta": float(est.delta),
            "epsilon_spent": _encode_number(est.epsilon_spent_),
            "mu": _encode_number(gdp_from_noise_multipliers(multipliers)),
            "neighbouring_relation": NEIGHBOURING_RELATION,
            "mechanism": MECHANISM,
            "noise_multiplier_groups": list(NOISE_GROUPS),
            "noise_multipliers": [
                [_encode_number(m) for m in row] for row in multipliers
            ],
        },
        "fit_parameters": {
            "max_iter": int(est.max_iter),
            "reg_covar": float(est.reg_covar),
            "init_params": str(est.init_params),
            "allocation": str(est.allocation),
        },
    }


def _dumps(value, indent=0):
    """JSON text with one line per innermost list, for readable matrices."""
    pad = "  " * (indent + 1)
    if isinstance(value, dict) and value:
        items = [
            f"{pad}{json.dumps(key)}: {_dumps(item, indent + 1)}"
            for key, item in value.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + "  " * indent + "}"
    if isinstance(value, list) and any(isinstance(v, (list, dict)) for v in value):
        items = [pad + _dumps(item, indent + 1) for item in value]
        return "[\n" + ",\n".join(items) + "\n" + "  " * indent + "]"
    return json.dumps(value, allow_nan=False)


def _floats(array):
    """Nested lists of Python floats (exact: JSON keeps the shortest repr)."""
    return np.asarray(array, dtype=float).tolist()


def _encode_number(x):
    x = float(x)
    return "inf" if x == math.inf else x


# ---------------------------------------------------------------------- read


def load_release(path):
    """Read a release file into a fitted :class:`~sklearn_dpgmm.DPGaussianMixture`.

    The returned estimator has the constructor parameters of the original fit
    that the file records (``n_components``, ``covariance_type``, ``epsilon``,
    ``delta``, ``bounds``, ``max_iter``, ``reg_covar``, ``init_params``,
    ``allocation``), with ``bounds=None`` if the box was read from the data,
    ``compute_kl=False`` and ``random_state=None``. Its fitted attributes
    ``weights_``, ``means_``, ``covariances_``, ``precisions_``,
    ``precisions_cholesky_``, ``n_features_in_``, ``feature_names_in_`` (if
    the file has feature names), ``bounds_``, ``epsilon_spent_``,
    ``noise_multipliers_``, ``clip_radius_`` and ``n_iter_`` are set, and
    ``kl_to_nonprivate_`` is NaN. It therefore scores, predicts and samples
    like the estimator that was saved (``sample`` draws from
    ``random_state``, so set it to reproduce a draw).

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_release`.

    Returns
    -------
    estimator : DPGaussianMixture
        A fitted estimator.

    Raises
    ------
    ReleaseFormatError
        If the file is not a valid release of a known format version. The
        message names the file and the first problem found.
    OSError
        If the file cannot be read (for instance it does not exist).
    """
    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ReleaseFormatError(path, "not UTF-8 text.") from None
    try:
        document = json.loads(
            text,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_keys,
        )
    except json.JSONDecodeError as exc:
        # A complete release is one JSON object, so it ends with a brace.
        cut = not text.rstrip().endswith("}")
        hint = " (the file looks truncated)" if cut else ""
        raise ReleaseFormatError(
            path,
            f"not valid JSON{hint}: {exc.msg} (line {exc.lineno}, column {exc.colno}).",
        ) from None
    except _DocumentError as exc:
        raise ReleaseFormatError(path, str(exc)) from None
    return _estimator_from_document(document, path)


class _DocumentError(ValueError):
    """A problem found while checking a document; wrapped with the path."""


def _reject_constant(name):
    raise _DocumentError(f"non-standard JSON number {name}; numbers must be finite.")


def _unique_keys(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise _DocumentError(f"duplicate key {key!r}.")
        out[key] = value
    return out


def _estimator_from_document(document, path):
    try:
        fields = _check_document(document)
    except _DocumentError as exc:
        raise ReleaseFormatError(path, str(exc)) from None
    est = DPGaussianMixture(
        fields["n_components"],
        covariance_type=fields["covariance_type"],
        epsilon=fields["epsilon"],
        delta=fields["delta"],
        bounds=fields["bounds"],
        max_iter=fields["max_iter"],
        reg_covar=fields["reg_covar"],
        init_params=fields["init_params"],
        allocation=fields["allocation"],
        compute_kl=False,
        random_state=None,
    )
    try:
        validate_parameters(est, est._parameter_constraints)
    except InvalidParameterError as exc:
        raise ReleaseFormatError(path, f"'fit_parameters': {exc}") from None
    est.weights_ = fields["weights"]
    est.means_ = fields["means"]
    est.covariances_ = fields["covariances"]
    est.precisions_cholesky_ = fields["precisions_cholesky"]
    est.precisions_ = precisions_from_cholesky(
        fields["precisions_cholesky"], fields["covariance_type"]
    )
    est.n_features_in_ = fields["n_features"]
    if fields["feature_names"] is not None:
        est.feature_names_in_ = np.asarray(fields["feature_names"], dtype=object)
    est.bounds_ = (fields["lower"], fields["upper"])
    est.epsilon_spent_ = fields["epsilon_spent"]
    est.noise_multipliers_ = fields["noise_multipliers"]
    est.n_iter_ = fields["max_iter"]
    # A public function of the number of features and of whether there is noise.
    est.clip_radius_ = clip_radius(
        fields["n_features"], math.isfinite(fields["epsilon"])
    )
    est.kl_to_nonprivate_ = np.nan
    est.kl_to_nonprivate_stderr_ = np.nan
    return est


def _check_document(document):
    """Validate a version-1 document; return its fields as Python/numpy values.

    Raises _DocumentError for the first problem found.
    """
    doc = _object(document, "the file")
    fmt = _get(doc, "format", "the file")
    if fmt != FORMAT_NAME:
        raise _DocumentError(
            f"'format' is {fmt!r}, not {FORMAT_NAME!r}: this is not an "
            "sklearn-dpgmm release."
        )
    version = _get(doc, "format_version", "the file")
    if not _is_int(version):
        raise _DocumentError(f"'format_version' must be an integer; got {version!r}.")
    if version != FORMAT_VERSION:
        newer = " (written by a newer sklearn-dpgmm; upgrade to read it)"
        raise _DocumentError(
            f"unsupported 'format_version' {version}; this reader knows version "
            f"{FORMAT_VERSION}{newer if version > FORMAT_VERSION else ''}."
        )
    _string(_get(doc, "package_version", "the file"), "package_version")
    out = {}
    out.update(_check_model(_object(_get(doc, "model", "the file"), "'model'")))
    bounds = _object(_get(doc, "bounds", "the file"), "'bounds'")
    out.update(_check_bounds(bounds, out["n_features"]))
    out.update(
        _check_fit_parameters(
            _object(_get(doc, "fit_parameters", "the file"), "'fit_parameters'")
        )
    )
    out.update(
        _check_privacy(
            _object(_get(doc, "privacy", "the file"), "'privacy'"), out["max_iter"]
        )
    )
    _check_flag(doc, out)
    return out


def _check_model(model):
    where = "'model'"
    k = _get(model, "n_components", where)
    d = _get(model, "n_features", where)
    for name, value in (("n_components", k), ("n_features", d)):
        if not _is_int(value) or value < 1:
            raise _DocumentError(
                f"'model.{name}' must be an integer >= 1; got {value!r}."
            )
    ct = _get(model, "covariance_type", where)
    if ct not in COVARIANCE_TYPES:
        raise _DocumentError(
            f"'model.covariance_type' must be one of {', '.join(COVARIANCE_TYPES)}; "
            f"got {ct!r}."
        )
    names = _get(model, "feature_names", where)
    if names is not None:
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise _DocumentError(
                "'model.feature_names' must be null or a list of strings."
            )
        if len(names) != d:
            raise _DocumentError(
                f"'model.feature_names' has {len(names)} names but n_features is {d}."
            )
        if len(set(names)) != len(names):
            raise _DocumentError("'model.feature_names' has duplicate names.")
    weights = _array(_get(model, "weights", where), (k,), "model.weights")
    if np.any(weights < 0):
        raise _DocumentError(
            "'model.weights' must be on the simplex; a weight is negative."
        )
    total = float(weights.sum())
    if abs(total - 1.0) > _WEIGHT_SUM_ATOL:
        raise _DocumentError(
            f"'model.weights' must be on the simplex; they sum to {total!r}, not 1."
        )
    means = _array(_get(model, "means", where), (k, d), "model.means")
    covs = _array(
        _get(model, "covariances", where),
        _COV_SHAPES[ct](k, d),
        "model.covariances",
    )
    prec_chol = _check_covariances(covs, ct)
    return {
        "n_components": k,
        "n_features": d,
        "covariance_type": ct,
        "feature_names": names,
        "weights": weights,
        "means": means,
        "covariances": covs,
        "precisions_cholesky": prec_chol,
    }


def _check_covariances(covs, ct):
    """Check positive definiteness; return the precision Cholesky factors."""
    if ct in ("full", "tied"):
        mats = covs.reshape(-1, covs.shape[-1], covs.shape[-1])
        scale = np.max(np.abs(mats), axis=(1, 2), keepdims=True)
        asym = np.abs(mats - np.swapaxes(mats, 1, 2))
        if np.any(asym > _SYMMETRY_RTOL * scale):
            raise _DocumentError(
                "'model.covariances' has a matrix that is not symmetric."
            )
    try:
        with np.errstate(all="raise"):
            return precision_cholesky(covs, ct)
    except (np.linalg.LinAlgError, FloatingPointError):
        what = "matrix" if ct in ("full", "tied") else "variance"
        raise _DocumentError(
            f"'model.covariances' has a {what} that is not positive definite."
        ) from None


def _check_bounds(bounds, d):
    where = "'bounds'"
    lower = _array(_get(bounds, "lower", where), (d,), "bounds.lower")
    upper = _array(_get(bounds, "upper", where), (d,), "bounds.upper")
    bad = np.flatnonzero(lower >= upper)
    if bad.size:
        j = int(bad[0])
        raise _DocumentError(
            f"'bounds' must have lower < upper in every feature; feature {j} has "
            f"lower={float(lower[j])!r} and upper={float(upper[j])!r}."
        )
    source = _get(bounds, "source", where)
    if source not in ("public", "data"):
        raise _DocumentError(
            f'\'bounds.source\' must be "public" or "data"; got {source!r}.'
        )
    return {
        "lower": lower,
        "upper": upper,
        "bounds_source": source,
        "bounds": (lower.copy(), upper.copy()) if source == "public" else None,
    }


def _check_fit_parameters(params):
    where = "'fit_parameters'"
    max_iter = _get(params, "max_iter", where)
    if not _is_int(max_iter) or max_iter < 1:
        raise _DocumentError(
            f"'fit_parameters.max_iter' must be an integer >= 1; got {max_iter!r}."
        )
    reg = _get(params, "reg_covar", where)
    if not _is_real(reg) or not math.isfinite(reg) or reg < 0:
        raise _DocumentError(
            f"'fit_parameters.reg_covar' must be a number >= 0; got {reg!r}."
        )
    return {
        "max_iter": max_iter,
        "reg_covar": float(reg),
        "init_params": _string(_get(params, "init_params", where), "init_params"),
        "allocation": _string(_get(params, "allocation", where), "allocation"),
    }


def _check_privacy(privacy, max_iter):
    where = "'privacy'"
    epsilon = _decode_number(_get(privacy, "epsilon", where), "privacy.epsilon")
    if not epsilon > 0:
        raise _DocumentError(f"'privacy.epsilon' must be > 0; got {epsilon!r}.")
    delta = _get(privacy, "delta", where)
    if not _is_real(delta) or not 0 < delta < 1:
        raise _DocumentError(f"'privacy.delta' must be in (0, 1); got {delta!r}.")
    delta = float(delta)
    spent = _decode_number(
        _get(privacy, "epsilon_spent", where), "privacy.epsilon_spent"
    )
    mu = _decode_number(_get(privacy, "mu", where), "privacy.mu")
    relation = _get(privacy, "neighbouring_relation", where)
    if relation != NEIGHBOURING_RELATION:
        raise _DocumentError(
            f"'privacy.neighbouring_relation' must be {NEIGHBOURING_RELATION!r}; "
            f"got {relation!r}."
        )
    _string(_get(privacy, "mechanism", where), "privacy.mechanism")
    groups = _get(privacy, "noise_multiplier_groups", where)
    if groups != list(NOISE_GROUPS):
        raise _DocumentError(
            f"'privacy.noise_multiplier_groups' must be {list(NOISE_GROUPS)}; "
            f"got {groups!r}."
        )
    raw = _get(privacy, "noise_multipliers", where)
    multipliers = _array(
        raw, (max_iter, len(NOISE_GROUPS)), "privacy.noise_multipliers", allow_inf=True
    )
    if np.any(multipliers < 0):
        raise _DocumentError("'privacy.noise_multipliers' must be >= 0.")
    # Re-account from the multipliers: the file's numbers must agree.
    mu_check = gdp_from_noise_multipliers(multipliers)
    if not _close(mu, mu_check):
        raise _DocumentError(
            f"'privacy.mu' is {mu!r} but the noise multipliers give {mu_check!r}."
        )
    spent_check = epsilon_from_gdp(mu_check, delta)
    if not _close(spent, spent_check):
        raise _DocumentError(
            f"'privacy.epsilon_spent' is {spent!r} but the noise multipliers give "
            f"{spent_check!r} at delta={delta!r}."
        )
    if spent > epsilon * (1 + _ACCOUNTING_RTOL):
        raise _DocumentError(
            f"'privacy.epsilon_spent' ({spent!r}) exceeds 'privacy.epsilon' "
            f"({epsilon!r})."
        )
    return {
        "epsilon": epsilon,
        "delta": delta,
        "epsilon_spent": spent,
        "noise_multipliers": multipliers,
    }


def _check_flag(doc, fields):
    """``private`` and ``warning`` must match the bounds source and epsilon."""
    private = _get(doc, "private", "the file")
    if not isinstance(private, bool):
        raise _DocumentError(f"'private' must be true or false; got {private!r}.")
    warning = _get(doc, "warning", "the file")
    if warning is not None and not isinstance(warning, str):
        raise _DocumentError(f"'warning' must be null or a string; got {warning!r}.")
    reasons = []
    if fields["bounds_source"] == "data":
        reasons.append("the bounds were read from the data")
    if math.isinf(fields["epsilon"]):
        reasons.append("epsilon is infinite")
    if private and reasons:
        raise _DocumentError(f"'private' is true but {' and '.join(reasons)}.")
    if not private and not reasons:
        raise _DocumentError(
            "'private' is false but the bounds are public and epsilon is finite."
        )
    if not private and not warning:
        raise _DocumentError("'warning' is missing for a release that is not private.")


# ------------------------------------------------------------------ helpers


def _get(obj, key, where):
    if key not in obj:
        raise _DocumentError(f"{where} has no {key!r} field.")
    return obj[key]


def _object(value, where):
    if not isinstance(value, dict):
        raise _DocumentError(
            f"{where} must be a JSON object; got {type(value).__name__}."
        )
    return value


def _string(value, name):
    if not isinstance(value, str):
        raise _DocumentError(f"'{name}' must be a string; got {value!r}.")
    return value


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _decode_number(value, name):
    if value == "inf":
        return math.inf
    if not _is_real(value):
        raise _DocumentError(f"'{name}' must be a number or \"inf\"; got {value!r}.")
    return float(value)


def _close(a, b):
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=_ACCOUNTING_RTOL, abs_tol=1e-12)


def _array(value, shape, name, *, allow_inf=False):
    """A float array of the given shape from nested JSON lists of numbers."""
    _check_nested(value, shape, shape, name, name, allow_inf)
    arr = np.array(_replace_inf(value), dtype=float).reshape(shape)
    finite = np.isfinite(arr)
    if allow_inf:
        finite |= np.isposinf(arr)
    if not np.all(finite):
        raise _DocumentError(f"'{name}' must hold finite numbers.")
    return arr


def _check_nested(value, rest, shape, name, where, allow_inf):
    """Walk nested lists; ``rest`` is the part of ``shape`` still to check."""
    if not rest:
        if not (_is_real(value) or (allow_inf and value == "inf")):
            raise _DocumentError(f"'{where}' must be a number; got {value!r}.")
        return
    if not isinstance(value, list) or len(value) != rest[0]:
        got = f"{len(value)} entries" if isinstance(value, list) else repr(value)
        raise _DocumentError(
            f"'{name}' must have shape {shape!r} (nested lists); '{where}' should "
            f"be a list of {rest[0]} entries but is {got}."
        )
    for i, item in enumerate(value):
        _check_nested(item, rest[1:], shape, name, f"{where}[{i}]", allow_inf)


def _replace_inf(value):
    if isinstance(value, list):
        return [_replace_inf(v) for v in value]
    return math.inf if value == "inf" else value
