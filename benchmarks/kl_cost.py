"""What ``compute_kl=True`` adds to a fit: time and peak memory.

Usage::

    python benchmarks/kl_cost.py --blas-threads 1    # about 5 minutes

``kl_to_nonprivate_`` is a diagnostic: ``fit`` also fits a non-private
:class:`~sklearn.mixture.GaussianMixture` on the clipped data (default
settings: k-means initialisation, up to 100 iterations) and estimates the KL
divergence by Monte Carlo. This script times a default ``DPGaussianMixture``
fit with ``compute_kl=False`` and with ``compute_kl=True``, and the two parts of
the difference on their own: the reference fit and the Monte Carlo estimate.
Times are medians over repeats; peak memory is the ``tracemalloc`` peak of one
fit, started after ``X`` exists (as in ``speed.py``).

It rewrites the part of ``doc/benchmarks.md`` between ``<!-- kl-cost:start
-->`` and ``<!-- kl-cost:end -->``.
"""

import argparse
import contextlib
import datetime
import gc
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from speed import DOC, machine, make_data, peak_bytes, write_section

from sklearn_dpgmm import DPGaussianMixture
from sklearn_dpgmm._estimator import KL_N_SAMPLES, KL_SEED
from sklearn_dpgmm.kl import kl_mixture_mc

START_MARK = "<!-- kl-cost:start -->"
END_MARK = "<!-- kl-cost:end -->"
BOX = 15.0
REPEATS = 3

# (n, d, k, covariance type): small to the speed benchmark's acceptance point.
POINTS = [
    (10_000, 2, 3, "full"),
    (10_000, 10, 8, "full"),
    (100_000, 10, 8, "full"),
    (200_000, 10, 8, "full"),
    (100_000, 50, 2, "diag"),
]


def private(k, ct, compute_kl):
    return DPGaussianMixture(
        n_components=k,
        covariance_type=ct,
        epsilon=1.0,
        bounds=(-BOX, BOX),
        random_state=0,
        compute_kl=compute_kl,
    )


def reference_fit(X, k, ct):
    """The reference fit exactly as ``fit`` runs it for ``kl_to_nonprivate_``."""
    return GaussianMixture(
        n_components=k, covariance_type=ct, random_state=KL_SEED
    ).fit(np.clip(X, -BOX, BOX))


def seconds(func):
    gc.collect()
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def measure(n, d, k, ct, log):
    X = make_data(n, d)
    model = private(k, ct, False).fit(X)
    reference = reference_fit(X, k, ct)
    parts = {
        "without": lambda: private(k, ct, False).fit(X),
        "with": lambda: private(k, ct, True).fit(X),
        "reference": lambda: reference_fit(X, k, ct),
        "mc": lambda: kl_mixture_mc(reference, model, KL_N_SAMPLES, KL_SEED),
    }
    row = {"n": n, "d": d, "k": k, "ct": ct}
    for name, func in parts.items():
        row[name] = float(np.median([seconds(func) for _ in range(REPEATS)]))
    row["peak_without"] = peak_bytes(private(k, ct, False), X) / 2**20
    row["peak_with"] = peak_bytes(private(k, ct, True), X) / 2**20
    row["x_mib"] = X.nbytes / 2**20
    log(
        f"n={n:>7} d={d:>2} k={k:>2} {ct:<9} without {row['without']:.3f} s "
        f"with {row['with']:.3f} s (reference {row['reference']:.3f} s, "
        f"MC {row['mc']:.3f} s); peak {row['peak_without']:.1f} -> "
        f"{row['peak_with']:.1f} MiB"
    )
    return row


def render(rows, info, command, minutes):
    lines = [
        START_MARK,
        "## Cost of `kl_to_nonprivate_`",
        "",
        f"Command: `{command}`, run on {datetime.date.today().isoformat()} "
        f"(wall time {minutes:.0f} min). Machine as above: {info['nproc']} CPUs, "
        f"numpy {info['numpy']}, scikit-learn {info['sklearn']}.",
        "",
        "Default `DPGaussianMixture` fits (10 iterations, split initialisation, "
        "`epsilon=1`, bounds +-15) on the speed benchmark's data, with and "
        f"without `compute_kl`; medians of {REPEATS} repeats. The reference "
        "column is the non-private `GaussianMixture` fit that `compute_kl=True` "
        "runs on the clipped data; MC is the Monte Carlo estimate of the KL "
        f"divergence ({KL_N_SAMPLES:,} samples). Peak memory is the tracemalloc "
        "peak of the fit, not counting X.",
        "",
        "| n | d | k | type | fit s, compute_kl=False | fit s, compute_kl=True "
        "| of which reference fit s | of which MC s | time factor "
        "| peak MiB, False | peak MiB, True | size of X MiB |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']:,} | {r['d']} | {r['k']} | {r['ct']} | {r['without']:.3f} "
            f"| {r['with']:.3f} | {r['reference']:.3f} | {r['mc']:.3f} "
            f"| {r['with'] / r['without']:.1f} | {r['peak_without']:.1f} "
            f"| {r['peak_with']:.1f} | {r['x_mib']:.1f} |"
        )
    factors = [r["with"] / r["without"] for r in rows]
    shares = [r["reference"] / (r["reference"] + r["mc"]) for r in rows]
    lines += [
        "",
        f"`compute_kl=True` made a fit {min(factors):.1f} to {max(factors):.1f} "
        f"times slower here; the reference fit took {min(shares):.0%} to "
        f"{max(shares):.0%} of the added time and the Monte Carlo estimate the "
        "rest. Its peak memory includes a clipped copy of X. The speed "
        "benchmark above turns it off; turn it off too when only the release "
        "matters (`compute_kl=False`), which also keeps the non-private number "
        "out of the fitted object.",
        END_MARK,
    ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--blas-threads", type=int, help="limit BLAS to this many threads"
    )
    parser.add_argument("--doc", default=str(DOC), help="markdown file to update")
    args = parser.parse_args(argv)
    command = "python benchmarks/kl_cost.py"
    limit = contextlib.nullcontext()
    if args.blas_threads:
        from threadpoolctl import threadpool_limits

        command += f" --blas-threads {args.blas_threads}"
        limit = threadpool_limits(args.blas_threads)

    def log(message):
        stamp = datetime.datetime.now().strftime("%H:%M:%S")
        print(f"[{stamp}] {message}", flush=True)

    warnings.simplefilter("ignore", ConvergenceWarning)
    start = time.perf_counter()
    with limit:
        rows = [measure(*point, log) for point in POINTS]
    minutes = (time.perf_counter() - start) / 60
    section = render(rows, machine(), command, minutes)
    write_section(Path(args.doc), section, START_MARK, END_MARK)
    log(f"wrote {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
