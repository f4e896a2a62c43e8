"""Command-line interface: fit a private mixture on a CSV file and publish it.

Run ``python -m sklearn_dpgmm --help`` (or ``sklearn-dpgmm --help`` when the
package is installed) for the commands:

``fit``
    Fit :class:`~sklearn_dpgmm.DPGaussianMixture` on numeric columns of a CSV
    file with a header row, within public bounds stated on the command line
    or in a bounds file, and write a release file (:mod:`sklearn_dpgmm.release`).
``sample``
    Draw synthetic records from a release into a CSV file.
``score``
    Mean log-likelihood of a CSV file under a release, optionally per row.
``demo``
    Fit on a data set that ships with scikit-learn at several epsilons and
    write a release, a synthetic sample and a comparison plot.

Exit status: 0 on success, 2 for a usage error (bad or missing flags), 1 for a
problem with a file or with the data. Errors are reported as one line
``error: ...`` on standard error. Progress goes to standard error, results to
standard output; ``--quiet`` silences both but never errors or warnings. No
existing file is replaced unless ``--force`` is given.
"""

import argparse
import contextlib
import csv
import math
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from . import __version__
from ._estimator import DPGaussianMixture
from ._gaussian import COVARIANCE_TYPES
from .exceptions import PrivacyLeakWarning
from .release import ReleaseFormatError, load_release, save_release

__all__ = [
    "DataError",
    "UsageError",
    "build_parser",
    "main",
    "read_bounds_file",
    "read_csv",
    "write_csv",
]

EXIT_OK = 0
EXIT_DATA = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# The demo fits on two features of the iris data set that ships with
# scikit-learn. Its clipping box must be public: it is set here from general
# knowledge of iris flowers, not from the data. Petals of the three species
# measured are a few centimetres long and at most a few centimetres wide, so a
# generous box of 0-10 cm in length and 0-5 cm in width contains any plausible
# flower.
DEMO_COLUMNS = (2, 3)
DEMO_LOWER = (0.0, 0.0)  # petal length, petal width (cm)
DEMO_UPPER = (10.0, 5.0)
DEMO_COMPONENTS = 3
DEMO_DELTA = 1e-5
DEMO_EPSILONS = (0.5, 1.0, 4.0, math.inf)
DEMO_RELEASED_EPSILON = 1.0
DEMO_FILES = ("release.json", "synthetic.csv", "comparison.png")


class UsageError(Exception):
    """The command line is wrong (exit status 2)."""


class DataError(Exception):
    """A file or its data cannot be used (exit status 1)."""


# ---------------------------------------------------------------------- parser


class _Parser(argparse.ArgumentParser):
    """argparse parser whose errors are one line and raise UsageError."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number >= 1; got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1; got {text!r}")
    return value


def _non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0; got {text!r}")
    return value


def _epsilon(text):
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(
            f"epsilon must be > 0 (or inf for no privacy); got {text!r}"
        )
    return value


def _probability(text):
    value = _number(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(
            f"delta must be strictly between 0 and 1; got {text!r}"
        )
    return value


def _number(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number; got {text!r}") from None
    if math.isnan(value):
        raise argparse.ArgumentTypeError(f"expected a number; got {text!r}")
    return value


def _number_list(text):
    """Comma-separated finite numbers."""
    values = []
    for item in text.split(","):
        try:
            value = float(item)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(
                f"expected comma-separated finite numbers; got {text!r}"
            )
        values.append(value)
    return values


def _name_list(text):
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated column names; got {text!r}"
        )
    return names


def _bound_spec(text):
    """``COLUMN:LOWER:UPPER`` (the column name may itself contain colons)."""
    parts = text.rsplit(":", 2)
    if len(parts) != 3 or not parts[0].strip():
        raise argparse.ArgumentTypeError(
            f"expected COLUMN:LOWER:UPPER, e.g. age:0:120; got {text!r}"
        )
    name = parts[0].strip()
    try:
        lower, upper = float(parts[1]), float(parts[2])
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected COLUMN:LOWER:UPPER with numbers; got {text!r}"
        ) from None
    if not (math.isfinite(lower) and math.isfinite(upper)):
        raise argparse.ArgumentTypeError(f"bounds must be finite; got {text!r}")
    return name, lower, upper


def build_parser(prog=None):
    """The argument parser of the command-line interface.

    Parameters
    ----------
    prog : str, default=None
        Program name shown in messages; ``None`` uses ``sys.argv[0]``.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    parser = _Parser(
        prog=prog,
        description=(
            "Fit differentially private Gaussian mixtures on CSV files, publish "
            "them as release files, and sample or score from a release."
        ),
        epilog="Exit status: 0 success, 1 file or data error, 2 usage error.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_fit(sub)
    _add_sample(sub)
    _add_score(sub)
    _add_demo(sub)
    return parser


def _add_fit(sub):
    p = sub.add_parser(
        "fit",
        help="fit a private mixture on a CSV file and write a release file",
        description=(
            "Fit a differentially private Gaussian mixture on numeric columns of "
            "DATA (CSV with a header row) and write it as a release file. The "
            "records are clipped into a box that you must state and that must not "
            "be derived from the data: give it with --bounds-file, --lower and "
            "--upper, or one --bound per column."
        ),
    )
    p.add_argument("data", metavar="DATA.csv", help="CSV file with a header row")
    p.add_argument(
        "-k",
        "--components",
        type=_positive_int,
        required=True,
        metavar="K",
        help="number of mixture components",
    )
    p.add_argument(
        "--epsilon",
        type=_epsilon,
        required=True,
        metavar="E",
        help="privacy budget of the fit (> 0; 'inf' fits without privacy)",
    )
    p.add_argument(
        "--delta",
        type=_probability,
        default=1e-5,
        metavar="D",
        help="failure probability of the guarantee, well below 1/rows "
        "(default: %(default)g)",
    )
    p.add_argument(
        "--covariance-type",
        choices=COVARIANCE_TYPES,
        default="full",
        help="covariance structure (default: %(default)s)",
    )
    p.add_argument(
        "--max-iter",
        type=_positive_int,
        default=10,
        metavar="N",
        help="private EM iterations; all of them run and share the budget "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--columns",
        type=_name_list,
        metavar="A,B,C",
        help="columns to fit, by header name (default: all columns)",
    )
    bounds = p.add_argument_group(
        "public bounds (exactly one way is required)",
        "Values outside the box are clipped into it. Choose it from public "
        "knowledge (units, physical or legal limits), never from the data.",
    )
    bounds.add_argument(
        "--bounds-file",
        metavar="B.csv",
        help="CSV file with the header column,lower,upper and one row per column",
    )
    bounds.add_argument(
        "--lower",
        type=_number_list,
        metavar="L1,L2,...",
        help="lower bounds in column order, or one value for all columns "
        "(write --lower=-1,-2 for negative values); needs --upper",
    )
    bounds.add_argument(
        "--upper",
        type=_number_list,
        metavar="U1,U2,...",
        help="upper bounds in column order, or one value for all columns",
    )
    bounds.add_argument(
        "--bound",
        type=_bound_spec,
        action="append",
        metavar="COL:LO:HI",
        help="bounds of one column; repeat for every column",
    )
    bounds.add_argument(
        "--bounds-from-data",
        action="store_true",
        help="read the box from the data: the release is then NOT private "
        "(for experiments only)",
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="release.json",
        help="release file to write",
    )
    p.add_argument(
        "--seed",
        type=_non_negative_int,
        metavar="S",
        help="seed of the privacy noise, for reproducible tests only: anyone who "
        "knows it can remove the noise (default: fresh randomness)",
    )
    _add_force(p)
    _add_quiet(p)
    p.set_defaults(handler=_cmd_fit)


def _add_sample(sub):
    p = sub.add_parser(
        "sample",
        help="draw synthetic records from a release into a CSV file",
        description=(
            "Draw N synthetic records from the mixture of a release file and "
            "write them, in random order, to a CSV file whose header holds the "
            "release's feature names (x0, x1, ... if it has none)."
        ),
    )
    p.add_argument("release", metavar="release.json", help="release file")
    p.add_argument(
        "-n",
        "--n-samples",
        type=_positive_int,
        required=True,
        metavar="N",
        help="number of records to draw",
    )
    p.add_argument(
        "-o", "--output", required=True, metavar="synthetic.csv", help="CSV to write"
    )
    p.add_argument(
        "--seed",
        type=_non_negative_int,
        metavar="S",
        help="seed of the draw (default: fresh randomness)",
    )
    _add_force(p)
    _add_quiet(p)
    p.set_defaults(handler=_cmd_sample)


def _add_score(sub):
    p = sub.add_parser(
        "score",
        help="log-likelihood of a CSV file under a release",
        description=(
            "Print the mean log-likelihood of the records of DATA under the "
            "mixture of a release file. Columns are matched by the release's "
            "feature names; a release without names uses --columns or all "
            "columns. Scores computed on private data are not covered by the "
            "release's privacy guarantee."
        ),
    )
    p.add_argument("release", metavar="release.json", help="release file")
    p.add_argument("data", metavar="DATA.csv", help="CSV file with a header row")
    p.add_argument(
        "--columns",
        type=_name_list,
        metavar="A,B,C",
        help="columns to score when the release has no feature names",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="scores.csv",
        help="also write the log-likelihood of every row to this CSV",
    )
    _add_force(p)
    _add_quiet(p)
    p.set_defaults(handler=_cmd_score)


def _add_demo(sub):
    p = sub.add_parser(
        "demo",
        help="fit the iris data at several epsilons and write example outputs",
        description=(
            "Fit a private mixture on petal length and width of the iris data "
            "set shipped with scikit-learn, at several epsilons, within a "
            "public box chosen from botanical common sense. Prints the epsilon "
            "spent and the distance to a non-private fit for each, and writes a "
            "release file, a synthetic sample and a comparison plot."
        ),
    )
    p.add_argument(
        "--output-dir",
        default="dpgmm_demo",
        metavar="DIR",
        help="directory for the outputs (default: ./%(default)s)",
    )
    p.add_argument(
        "--seed",
        type=_non_negative_int,
        metavar="S",
        help="seed of the noise, for a reproducible demo (default: fresh randomness)",
    )
    _add_force(p)
    _add_quiet(p)
    p.set_defaults(handler=_cmd_demo)


def _add_force(p):
    p.add_argument(
        "-f", "--force", action="store_true", help="overwrite existing output files"
    )


def _add_quiet(p):
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print nothing but errors and warnings",
    )


# ------------------------------------------------------------------------ main


def main(argv=None, *, prog=None):
    """Run the command-line interface.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; ``None`` reads ``sys.argv[1:]``.
    prog : str, default=None
        Program name shown in messages.

    Returns
    -------
    status : int
        0 on success, 1 for a file or data error, 2 for a usage error.
    """
    parser = build_parser(prog)
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help and --version exit through here
            return exc.code if isinstance(exc.code, int) else EXIT_OK
        return args.handler(args)
    except UsageError as exc:
        _error(exc)
        return EXIT_USAGE
    except DataError as exc:
        _error(exc)
        return EXIT_DATA
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_INTERRUPTED


def _error(message):
    print(f"error: {_one_line(message)}", file=sys.stderr)


def _warn(message):
    print(f"warning: {_one_line(message)}", file=sys.stderr)


def _one_line(message):
    return " ".join(str(message).split())


class _Reporter:
    """Progress on standard error and results on standard output."""

    def __init__(self, quiet):
        self.quiet = quiet

    def progress(self, message):
        if not self.quiet:
            print(message, file=sys.stderr, flush=True)

    def result(self, message):
        if not self.quiet:
            print(message, flush=True)


# ------------------------------------------------------------------------- fit


def _cmd_fit(args):
    report = _Reporter(args.quiet)
    mode = _bounds_mode(args)
    output = _output_path(args.output, args.force)
    try:
        names, X = read_csv(args.data, args.columns)
    except DataError as exc:
        if args.columns is None and "is not a number" in str(exc):
            raise DataError(f"{exc} Select numeric columns with --columns.") from None
        raise
    lower, upper = _resolve_bounds(args, mode, names)
    report.progress(f"read {args.data}: {X.shape[0]} rows, columns {', '.join(names)}")
    if math.isinf(args.epsilon):
        _warn("epsilon=inf fits without noise: the release will be NOT private.")
    if args.delta >= 1.0 / X.shape[0]:
        _warn(
            f"delta={args.delta:g} is not well below 1/rows={1.0 / X.shape[0]:.3g}; "
            "the guarantee is weak. Pass a smaller --delta."
        )

    est = DPGaussianMixture(
        args.components,
        covariance_type=args.covariance_type,
        epsilon=args.epsilon,
        delta=args.delta,
        bounds=None if mode == "data" else (lower, upper),
        max_iter=args.max_iter,
        compute_kl=False,
        random_state=args.seed,
        verbose=0 if args.quiet else 2,
        verbose_interval=max(1, args.max_iter // 10),
    )
    report.progress(
        f"fitting {args.components} components ({args.covariance_type}) with "
        f"epsilon={args.epsilon:g}, delta={args.delta:g}"
    )
    start = time.perf_counter()
    _fit(est, X)
    # Column names are public metadata of the release, set after the fit.
    est.feature_names_in_ = np.asarray(names, dtype=object)
    report.progress(f"fit done in {time.perf_counter() - start:.1f} s")
    _save(est, output)
    private = mode != "data" and math.isfinite(args.epsilon)
    status = "private" if private else "NOT private"
    report.result(
        f"wrote {output}: {args.components} components, epsilon_spent="
        f"{est.epsilon_spent_:.6g} at delta={args.delta:g} ({status})"
    )
    return EXIT_OK


def _bounds_mode(args):
    """Which way the bounds were given; a usage error unless exactly one."""
    given = []
    if args.bounds_file is not None:
        given.append(("file", "--bounds-file"))
    if args.lower is not None or args.upper is not None:
        if args.lower is None or args.upper is None:
            raise UsageError("--lower and --upper must be given together.")
        given.append(("flags", "--lower/--upper"))
    if args.bound:
        given.append(("bound", "--bound"))
    if args.bounds_from_data:
        given.append(("data", "--bounds-from-data"))
    if not given:
        raise UsageError(
            "no bounds given: state public bounds with --bounds-file B.csv, "
            "--lower/--upper or --bound COL:LO:HI for every column; they must "
            "not be computed from the data."
        )
    if len(given) > 1:
        raise UsageError(
            "give the bounds one way only; got " + " and ".join(g[1] for g in given)
        )
    return given[0][0]


def _resolve_bounds(args, mode, names):
    """Lower and upper bounds aligned with ``names``."""
    d = len(names)
    if mode == "data":
        _warn(
            "--bounds-from-data: the clipping box is read from the data, so the "
            "release is NOT differentially private, whatever the epsilon."
        )
        return None, None
    if mode == "flags":
        lower, upper = args.lower, args.upper
        for flag, values in (("--lower", lower), ("--upper", upper)):
            if len(values) not in (1, d):
                raise UsageError(
                    f"{flag} has {len(values)} values but {d} columns are fitted "
                    f"({', '.join(names)}); give one value per column or one for all."
                )
        lower = np.broadcast_to(np.asarray(lower, dtype=float), (d,)).copy()
        upper = np.broadcast_to(np.asarray(upper, dtype=float), (d,)).copy()
        source = "--lower/--upper"
        error = UsageError
    else:
        if mode == "file":
            table = read_bounds_file(args.bounds_file)
            source = args.bounds_file
            error = DataError
        else:
            table = {}
            for name, lo, hi in args.bound:
                if name in table:
                    raise UsageError(f"--bound given twice for column {name!r}.")
                table[name] = (lo, hi)
            source = "--bound"
            error = UsageError
        missing = [n for n in names if n not in table]
        if missing:
            raise error(
                f"no bounds for column(s) {', '.join(map(repr, missing))} in "
                f"{source}; every fitted column needs public bounds (or select "
                "columns with --columns)."
            )
        if mode == "bound":
            unknown = [n for n in table if n not in names]
            if unknown:
                raise UsageError(
                    f"--bound names column(s) {', '.join(map(repr, unknown))} "
                    f"that are not fitted (fitted: {', '.join(names)})."
                )
        lower = np.array([table[n][0] for n in names], dtype=float)
        upper = np.array([table[n][1] for n in names], dtype=float)
    bad = np.flatnonzero(lower >= upper)
    if bad.size:
        j = int(bad[0])
        raise error(
            f"bounds of column {names[j]!r} in {source}: lower={lower[j]:g} must "
            f"be below upper={upper[j]:g}."
        )
    return lower, upper


def read_bounds_file(path):
    """Read a bounds file: CSV with header ``column,lower,upper``.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    bounds : dict
        ``{column: (lower, upper)}``.

    Raises
    ------
    DataError
        If the file is missing, malformed, or repeats a column.
    """
    header, rows = _read_rows(path)
    expected = ["column", "lower", "upper"]
    if [h.lower() for h in header] != expected:
        raise DataError(
            f"{path}: the header must be 'column,lower,upper'; got "
            f"{','.join(header)!r}."
        )
    if not rows:
        raise DataError(f"{path}: no bounds after the header.")
    table = {}
    for line, row in rows:
        name = row[0].strip()
        if not name:
            raise DataError(f"{path}, line {line}: empty column name.")
        if name in table:
            raise DataError(f"{path}, line {line}: column {name!r} appears twice.")
        lo = _parse_cell(row[1], path, line, "lower")
        hi = _parse_cell(row[2], path, line, "upper")
        table[name] = (lo, hi)
    return table


def _fit(est, X):
    """Fit with progress on standard error; the CLI reports leaks itself."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PrivacyLeakWarning)
            with contextlib.redirect_stdout(sys.stderr):
                est.fit(X)
    except ValueError as exc:
        raise DataError(f"the fit failed: {exc}") from None


def _save(est, output):
    try:
        save_release(est, output, overwrite=True)
    except OSError as exc:
        raise DataError(f"cannot write {output}: {exc.strerror or exc}") from None


# ---------------------------------------------------------------- sample, score


def _cmd_sample(args):
    report = _Reporter(args.quiet)
    output = _output_path(args.output, args.force)
    est = _load(args.release)
    est.random_state = args.seed
    X, _ = est.sample(args.n_samples)
    rng = np.random.default_rng(args.seed)
    X = X[rng.permutation(X.shape[0])]
    names = _feature_names(est)
    write_csv(output, names, X)
    report.result(
        f"wrote {output}: {X.shape[0]} synthetic rows, columns {', '.join(names)}"
    )
    return EXIT_OK


def _cmd_score(args):
    report = _Reporter(args.quiet)
    output = None if args.output is None else _output_path(args.output, args.force)
    est = _load(args.release)
    names = getattr(est, "feature_names_in_", None)
    if names is not None:
        if args.columns is not None:
            raise UsageError(
                "--columns is only for releases without feature names; this one "
                f"has {', '.join(names)}."
            )
        columns = [str(n) for n in names]
    else:
        columns = args.columns
    found, X = read_csv(args.data, columns)
    if X.shape[1] != est.n_features_in_:
        raise DataError(
            f"{args.data}: {X.shape[1]} columns ({', '.join(found)}) but the release "
            f"has {est.n_features_in_} features; select them with --columns."
        )
    with warnings.catch_warnings():
        # Columns were matched by name above; the array has none of its own.
        warnings.filterwarnings("ignore", message="X does not have valid feature")
        scores = est.score_samples(X)
    if output is not None:
        write_csv(output, ["log_likelihood"], scores[:, None])
        report.progress(f"wrote {output}: {scores.size} per-row scores")
    report.result(
        f"mean log-likelihood: {scores.mean():.6g} ({scores.size} rows, "
        f"columns {', '.join(found)})"
    )
    return EXIT_OK


def _load(path):
    try:
        est = load_release(path)
    except ReleaseFormatError as exc:
        raise DataError(str(exc)) from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    if est.bounds is None or math.isinf(est.epsilon):
        _warn(f"{path} is NOT a differentially private release (see its 'warning').")
    return est


def _feature_names(est):
    names = getattr(est, "feature_names_in_", None)
    if names is None:
        return [f"x{j}" for j in range(est.n_features_in_)]
    return [str(n) for n in names]


# ----------------------------------------------------------------------- demo


def _cmd_demo(args):
    from sklearn.datasets import load_iris

    report = _Reporter(args.quiet)
    out_dir = Path(args.output_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise DataError(f"{out_dir} exists and is not a directory.")
    paths = {name: out_dir / name for name in DEMO_FILES}
    for path in paths.values():
        _output_path(path, args.force, must_have_parent=False)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create {out_dir}: {exc.strerror or exc}") from None

    iris = load_iris()
    X = iris.data[:, list(DEMO_COLUMNS)]
    names = [iris.feature_names[j] for j in DEMO_COLUMNS]
    bounds = (np.array(DEMO_LOWER), np.array(DEMO_UPPER))
    report.progress(
        f"iris data: {X.shape[0]} flowers, columns {', '.join(names)}; public box "
        f"{DEMO_LOWER} to {DEMO_UPPER} cm (set from botanical common sense, not "
        "from the data)"
    )
    report.result(
        f"{'epsilon':>8}  {'epsilon_spent':>13}  {'KL to non-private (nats)':>24}"
    )
    models = {}
    for i, epsilon in enumerate(DEMO_EPSILONS):
        est = DPGaussianMixture(
            DEMO_COMPONENTS,
            epsilon=epsilon,
            delta=DEMO_DELTA,
            bounds=bounds,
            random_state=None if args.seed is None else args.seed + i,
        ).fit(X)
        est.feature_names_in_ = np.asarray(names, dtype=object)
        models[epsilon] = est
        report.result(
            f"{epsilon:>8g}  {est.epsilon_spent_:>13.6g}  "
            f"{est.kl_to_nonprivate_:>24.3f}"
        )
    report.result(
        "KL reads the raw data and is not private: it is printed to judge "
        "utility, never to be published. epsilon=inf is the fit without noise. "
        f"With only {X.shape[0]} records the noise dominates at small epsilon; "
        "more records buy accuracy at the same epsilon."
    )

    released = models[DEMO_RELEASED_EPSILON]
    _save(released, paths["release.json"])
    released.random_state = args.seed
    synthetic, _ = released.sample(X.shape[0])
    synthetic = synthetic[np.random.default_rng(args.seed).permutation(X.shape[0])]
    write_csv(paths["synthetic.csv"], names, synthetic)

    plotted = _demo_plot(paths["comparison.png"], X, names, models, args.seed)
    where = {name: path.resolve() for name, path in paths.items()}
    report.result(
        f"release (epsilon={DEMO_RELEASED_EPSILON:g}): {where['release.json']}"
    )
    report.result(f"synthetic sample ({X.shape[0]} rows): {where['synthetic.csv']}")
    if plotted:
        report.result(f"plot of real vs synthetic data: {where['comparison.png']}")
    else:
        _warn("matplotlib is not installed; skipped the plot (pip install matplotlib).")
    return EXIT_OK


def _demo_plot(path, X, names, models, seed):
    """Real vs synthetic scatter plots, one panel per epsilon; False if no plot."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return False
    fig = Figure(figsize=(4 * len(models), 4), layout="constrained")
    axes = fig.subplots(1, len(models), sharex=True, sharey=True)
    for i, (ax, (epsilon, est)) in enumerate(zip(axes, models.items(), strict=True)):
        draw = _with_seed(est, None if seed is None else seed + 100 + i)
        synthetic, _ = draw.sample(X.shape[0])
        ax.scatter(X[:, 0], X[:, 1], s=12, c="0.6", label="real")
        ax.scatter(synthetic[:, 0], synthetic[:, 1], s=12, c="C1", label="synthetic")
        ax.set_title(f"epsilon={epsilon:g}: KL {est.kl_to_nonprivate_:.2f} nats")
        ax.set_xlim(DEMO_LOWER[0], DEMO_UPPER[0])
        ax.set_ylim(DEMO_LOWER[1], DEMO_UPPER[1])
        ax.set_xlabel(names[0])
    axes[0].set_ylabel(names[1])
    axes[0].legend(loc="upper left")
    fig.suptitle("Iris petals: real records vs samples from the private mixture")
    try:
        fig.savefig(path, dpi=100)
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror or exc}") from None
    return True


def _with_seed(est, seed):
    est.random_state = seed
    return est


# ------------------------------------------------------------------ CSV files


def read_csv(path, columns=None):
    """Read numeric columns of a CSV file with a header row.

    Parameters
    ----------
    path : str or path-like
        CSV file, UTF-8 (a byte-order mark is allowed), comma-separated, with
        the column names in its first row. Blank lines are skipped.
    columns : list of str, default=None
        Names of the columns to read, in this order; ``None`` reads all of
        them. Only these columns need to be numeric.

    Returns
    -------
    names : list of str
        The names of the columns read.
    X : ndarray of shape (n_rows, n_columns)

    Raises
    ------
    DataError
        If the file cannot be read, a column is missing or repeated, a row has
        the wrong number of fields, or a value is not a finite number; the
        message names the file, the line and the column.
    """
    header, rows = _read_rows(path)
    if not rows:
        raise DataError(f"{path}: no data rows after the header.")
    if columns is None:
        columns = header
    missing = [c for c in columns if c not in header]
    if missing:
        raise DataError(
            f"{path}: no column named {', '.join(map(repr, missing))}; the columns "
            f"are {', '.join(header)}."
        )
    for name in columns:
        if header.count(name) > 1:
            raise DataError(f"{path}: the header has column {name!r} twice.")
    if len(set(columns)) != len(columns):
        raise DataError("the same column is selected twice.")
    index = [header.index(c) for c in columns]
    X = np.empty((len(rows), len(index)))
    for i, (line, row) in enumerate(rows):
        for j, col in enumerate(index):
            X[i, j] = _parse_cell(row[col], path, line, columns[j])
    return list(columns), X


def _read_rows(path):
    """Header and non-blank rows ``(line_number, fields)`` of a CSV file.

    Every row has as many fields as the header; there may be no rows.
    """
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise DataError(
                    f"{path}: the file is empty; expected a header row with the "
                    "column names."
                )
            header = [h.strip() for h in header]
            rows = []
            for row in reader:
                if not row or all(not cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    raise DataError(
                        f"{path}, line {reader.line_num}: {len(row)} fields but the "
                        f"header has {len(header)}."
                    )
                rows.append((reader.line_num, row))
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text; save it as UTF-8 CSV.") from None
    except csv.Error as exc:
        raise DataError(f"{path}: not a readable CSV file ({exc}).") from None
    return header, rows


def _parse_cell(cell, path, line, column):
    text = cell.strip()
    if not text:
        raise DataError(f"{path}, line {line}, column {column!r}: missing value.")
    try:
        value = float(text)
    except ValueError:
        raise DataError(
            f"{path}, line {line}, column {column!r}: {text!r} is not a number."
        ) from None
    if not math.isfinite(value):
        raise DataError(
            f"{path}, line {line}, column {column!r}: {text!r} is not a finite number."
        )
    return value


def write_csv(path, names, X):
    """Write a header and rows of numbers (shortest exact repr) to a CSV file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(names)
            writer.writerows([repr(float(v)) for v in row] for row in X)
        os.replace(tmp, path)
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp.exists():
            tmp.unlink()


def _output_path(path, force, *, must_have_parent=True):
    """Check an output path before any work is done."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path} is a directory; give a file name.")
    if path.exists() and not force:
        raise DataError(f"{path} exists; pass --force to overwrite it.")
    if must_have_parent and not path.parent.is_dir():
        raise DataError(f"cannot write {path}: directory {path.parent} does not exist.")
    return path
