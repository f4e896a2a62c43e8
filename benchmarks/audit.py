"""Empirical privacy audit of DPGaussianMixture: a statistical lower bound on
the epsilon it really spends, to compare with the epsilon it claims.

Usage::

    python benchmarks/audit.py            # full table into doc/privacy.md
    python benchmarks/audit.py --quick    # smoke run, table in a temp file

The audit, in short
-------------------
Two neighbouring data sets: ``D`` (a few records near the centre of the box)
and ``D' = D + x*``, where ``x*`` sits on the boundary of the box, along the
first coordinate axis, far outside the single component the fit starts from.
The fits are tiny (``n_components=1``, ``max_iter=1``) and start from a fixed,
public initialisation (``means_init``, ``precisions_init``), so the exact
statistics of each data set are fixed numbers and ``x*``, being clipped at the
whitened radius along an axis with a one-hot responsibility, moves every
statistic group by exactly its L2 sensitivity. The release of that one
iteration is then the worst case of the mechanism: a Gaussian shift of exactly
``mu`` (the GDP parameter of the whole fit) in the space of noise-standardised
statistics.

Many private fits are run on each data set, a scalar statistic is computed
from every output, and a threshold test "say D' when the statistic is large"
(or small) is applied. Any (epsilon, delta)-DP mechanism satisfies, for every
test, ``TPR <= exp(epsilon) FPR + delta``, so with one-sided Clopper-Pearson
bounds ``TPR_lo`` and ``FPR_hi`` (each at confidence ``1 - ALPHA``)

    epsilon >= log((TPR_lo - delta) / FPR_hi)

holds with confidence at least ``1 - 2 ALPHA``. The threshold (and which tail)
is chosen on one half of the fits and the bound is evaluated on the other
half, so the choice does not bias the bound. Within the selection half the
threshold comes either from normals fitted to the two samples (stable, right
for the LR statistic) or from the empirical counts (right for statistics far
from normal, such as a broken estimator's), whichever does better on a split
of that half (:func:`choose_test`).

Two statistics:

``lr`` (noisy statistics)
    The statistics the fit releases through the Gaussian mechanism are
    captured by wrapping ``sklearn_dpgmm._estimator.add_noise``. Divided by the
    claimed noise std per coordinate and projected on the (equally scaled)
    difference of the two data sets' exact statistics, they give the
    likelihood-ratio statistic: ``N(0, 1)`` under ``D`` and ``N(mu, 1)`` under
    ``D'`` when the noise is as claimed. It is the most powerful test there
    is, so it sees the whole budget. Each fit makes its one real release, and
    the wrapper then draws ``draws_per_fit - 1`` further independent releases
    from the same ``add_noise`` with the same arguments (the statistics are a
    fixed function of the data set here, which the wrapper checks, so these
    copies have exactly the distribution of the fit's own release). That makes
    the hundreds of thousands of samples the far tail needs affordable.

``released`` (released parameters)
    Only the fitted model: ``means_`` and ``covariances_``. A linear
    discriminant fitted on the selection half turns them into one number. The
    M-step (pseudo-records, clipping of variances) throws part of the signal
    away, so this statistic sees only part of the budget and has less power;
    it checks the released object itself, with one sample per real fit.

Each scenario is also run against a deliberately under-noised variant:
``DPGaussianMixture._calibrate`` is patched to return twice the calibrated
``mu``, which halves every noise std while the claimed ``epsilon`` stays the
same. A sound audit must flag that variant (lower bound above the claim) when
it has the samples to, and must never flag the real estimator.

Power planning. With ``mu``-GDP noise the best test at threshold ``t`` has
``FPR = Phi_bar(t)`` and ``TPR = Phi_bar(t - mu)``. The Clopper-Pearson upper
bound on a false-positive rate is at least about ``3 / n`` (no false positive
in ``n`` trials), so the bound can only exceed ``epsilon`` if
``TPR_lo > exp(epsilon) * 3 / n``. For claimed epsilon 4 (``mu`` = 0.925 at
delta 1e-5) the halved noise gives ``mu`` = 1.85 and ``log(TPR / FPR)`` of
about 6 at ``t = 4``: about 50,000 samples per side and half are needed to
show it. Against the real estimator the same test gives 2.5 to 3.3 with
250,000: the claim is tight only at false-positive rates far too small to
measure, which is why an audit of this kind is a lower bound and never a
proof.

The full run (``--jobs 2`` by default, one scenario per process) takes about
7 CPU minutes; ``--quick`` takes seconds.
"""

import argparse
import contextlib
import datetime
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats
from threadpoolctl import threadpool_limits

import sklearn_dpgmm
import sklearn_dpgmm._estimator as estimator_module
from sklearn_dpgmm import DPGaussianMixture
from sklearn_dpgmm._statistics import Statistics
from sklearn_dpgmm.accounting import epsilon_from_gdp, gdp_from_epsilon_delta

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "doc" / "privacy.md"
START_MARK = "<!-- audit:start -->"
END_MARK = "<!-- audit:end -->"

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
EPSILONS = (0.5, 1.0, 2.0, 4.0, 8.0)
DELTA = 1e-5

# One-sided confidence of each Clopper-Pearson bound; the lower bound on
# epsilon holds with confidence 1 - 2 * ALPHA = 90%.
ALPHA = 0.05

# D: N_RECORDS records drawn around the centre of the box [-1, 1]^d with
# standard deviation SPREAD per coordinate; the public initial component has
# the same centre and spread. x* = (1, 0, ..., 0) is 1 / SPREAD = 3.3 standard
# deviations out, beyond the whitened clipping radius rho (2.29 for d = 1,
# 2.83 for d = 2), so it is clipped to length rho along the first axis.
BOUNDS = (-1.0, 1.0)
N_RECORDS = 15
SPREAD = 0.3


# ------------------------------------------------------------------ scenario


@dataclass(frozen=True)
class Scenario:
    """One audited configuration: a pair of neighbouring data sets and a fit."""

    covariance_type: str = "full"
    n_features: int = 1
    epsilon: float = 4.0
    delta: float = DELTA
    allocation: str = "kl"
    seed: int = 0

    @property
    def mu(self):
        """Claimed GDP parameter of the whole fit."""
        return gdp_from_epsilon_delta(self.epsilon, self.delta)

    def data_sets(self):
        """``(D, D')``: ``D'`` is ``D`` plus the record ``x*``."""
        d = self.n_features
        rng = np.random.default_rng([self.seed, 1])
        D = np.clip(rng.normal(0.0, SPREAD, (N_RECORDS, d)), *BOUNDS)
        x_star = np.zeros((1, d))
        x_star[0, 0] = BOUNDS[1]
        return D, np.concatenate([D, x_star])

    def estimator(self, random_state):
        """A one-iteration fit from a public, fixed initial component."""
        d, ct = self.n_features, self.covariance_type
        precision = 1.0 / SPREAD**2
        precisions = {
            "full": np.eye(d)[None] * precision,
            "tied": np.eye(d) * precision,
            "diag": np.full((1, d), precision),
            "spherical": np.full(1, precision),
        }[ct]
        return DPGaussianMixture(
            n_components=1,
            covariance_type=ct,
            epsilon=self.epsilon,
            delta=self.delta,
            bounds=BOUNDS,
            max_iter=1,
            weights_init=np.ones(1),
            means_init=np.zeros((1, d)),
            precisions_init=precisions,
            allocation=self.allocation,
            compute_kl=False,
            random_state=random_state,
        )


@contextlib.contextmanager
def under_noised(factor=2.0):
    """Patch the calibration so every noise std is ``1 / factor`` of the claim.

    ``epsilon`` is left as it is, so the fit still claims it; only the noise
    shrinks. (``epsilon_spent_`` honestly reports the larger spend.)
    """
    original = DPGaussianMixture._calibrate

    def calibrate(self):
        return factor * original(self)

    DPGaussianMixture._calibrate = calibrate
    try:
        yield
    finally:
        DPGaussianMixture._calibrate = original


# --------------------------------------------------------- noisy statistics


def released_coordinates(statistics, covariance_type):
    """The coordinates of a ``Statistics`` that receive noise, as flat rows.

    Works on batched statistics (any leading axes). Symmetric matrices are
    released through their upper triangle, so only that is kept.
    """
    counts = np.asarray(statistics.counts)
    first = np.asarray(statistics.first)
    second = np.asarray(statistics.second)
    lead = counts.shape[:-1]
    if covariance_type in ("full", "tied"):
        d = second.shape[-1]
        iu = np.triu_indices(d)
        second = second[..., iu[0], iu[1]]
    return np.concatenate(
        [
            counts.reshape(lead + (-1,)),
            first.reshape(lead + (-1,)),
            second.reshape(lead + (-1,)),
        ],
        axis=-1,
    )


def coordinate_stds(statistics, stds, covariance_type):
    """Noise std of every released coordinate, in the order of
    :func:`released_coordinates`."""
    ones = Statistics(
        np.full(np.shape(statistics.counts), stds.counts),
        np.full(np.shape(statistics.first), stds.first),
        np.full(np.shape(statistics.second), stds.second),
    )
    return released_coordinates(ones, covariance_type)


def _batched(statistics, n):
    """``n`` copies of ``statistics`` stacked along a new leading axis."""
    return Statistics(
        *(
            np.repeat(np.asarray(a)[None], n, axis=0)
            for a in (statistics.counts, statistics.first, statistics.second)
        )
    )


@dataclass
class Reference:
    """What the auditor knows: exact statistics of D and D', claimed noise."""

    exact_d: np.ndarray
    exact_d_prime: np.ndarray
    stds: np.ndarray
    mu_seen: float

    def lr_statistic(self, releases):
        """Projection of standardised releases on the standardised difference.

        ``N(0, 1)`` under D and ``N(mu_seen, 1)`` under D' when the noise is as
        claimed; ``mu_seen`` is the full GDP parameter of the fit when the
        record moves every group by its sensitivity.
        """
        direction = (self.exact_d_prime - self.exact_d) / self.stds
        direction = direction / np.linalg.norm(direction)
        return ((releases - self.exact_d) / self.stds) @ direction


def _exact_and_stds(scenario, X, rng):
    """Exact statistics and noise stds of the one release of a fit on X."""
    seen = []
    real_add_noise = estimator_module.add_noise

    def spy(statistics, stds, covariance_type, generator):
        seen.append((statistics, stds))
        return real_add_noise(statistics, stds, covariance_type, generator)

    estimator_module.add_noise = spy
    try:
        scenario.estimator(rng).fit(X)
    finally:
        estimator_module.add_noise = real_add_noise
    ((statistics, stds),) = seen
    ct = scenario.covariance_type
    return (
        released_coordinates(statistics, ct),
        coordinate_stds(statistics, stds, ct),
    )


def reference(scenario, rng):
    """The auditor's reference for the LR statistic (claimed noise levels)."""
    D, D_prime = scenario.data_sets()
    exact_d, stds = _exact_and_stds(scenario, D, rng)
    exact_d_prime, stds_prime = _exact_and_stds(scenario, D_prime, rng)
    if not np.array_equal(stds, stds_prime):
        raise AssertionError("the noise levels depend on the data set")
    mu_seen = float(np.linalg.norm((exact_d_prime - exact_d) / stds))
    return Reference(exact_d, exact_d_prime, stds, mu_seen)


def capture_releases(scenario, X, n_fits, draws_per_fit, rng):
    """Noisy statistics released by ``n_fits`` fits on X.

    Returns an array of shape ``(n_fits, draws_per_fit, n_coordinates)``:
    ``[i, 0]`` is what fit ``i`` really released, ``[i, 1:]`` are further
    independent draws of the same Gaussian mechanism at the same call (same
    statistics, same noise stds, same ``add_noise``, same generator).
    """
    ct = scenario.covariance_type
    out = []
    exact_first = []
    real_add_noise = estimator_module.add_noise

    def capturing(statistics, stds, covariance_type, generator):
        noisy = real_add_noise(statistics, stds, covariance_type, generator)
        exact = released_coordinates(statistics, ct)
        if exact_first and not np.array_equal(exact, exact_first[0]):
            raise AssertionError("the exact statistics vary between fits")
        exact_first.append(exact)
        rows = [released_coordinates(noisy, ct)[None]]
        if draws_per_fit > 1:
            more = real_add_noise(
                _batched(statistics, draws_per_fit - 1),
                stds,
                covariance_type,
                generator,
            )
            rows.append(released_coordinates(more, ct))
        out.append(np.concatenate(rows))
        return noisy

    estimator_module.add_noise = capturing
    try:
        for _ in range(n_fits):
            scenario.estimator(rng).fit(X)
    finally:
        estimator_module.add_noise = real_add_noise
    if len(out) != n_fits:
        raise AssertionError(f"expected {n_fits} releases, saw {len(out)}")
    return np.stack(out)


# ------------------------------------------------------- released parameters


def released_features(gm):
    """The released model as a flat vector (weights are 1 for one component)."""
    cov = np.asarray(gm.covariances_)
    if gm.covariance_type in ("full", "tied"):
        d = cov.shape[-1]
        iu = np.triu_indices(d)
        cov = cov[..., iu[0], iu[1]]
    return np.concatenate([np.ravel(gm.means_), np.ravel(cov)])


def fit_released(scenario, X, n_fits, rng):
    """Released parameters of ``n_fits`` independent fits on X, one per row."""
    return np.stack(
        [released_features(scenario.estimator(rng).fit(X)) for _ in range(n_fits)]
    )


def linear_discriminant(features_d, features_d_prime):
    """Fisher direction separating two samples (selection half only)."""
    a = np.asarray(features_d, dtype=float)
    b = np.asarray(features_d_prime, dtype=float)
    centre = np.concatenate([a, b]).mean(axis=0)
    scale = np.concatenate([a, b]).std(axis=0)
    scale[scale == 0] = 1.0
    a, b = (a - centre) / scale, (b - centre) / scale
    pooled = np.cov(np.concatenate([a - a.mean(0), b - b.mean(0)]).T)
    pooled = np.atleast_2d(pooled) + 1e-9 * np.eye(a.shape[1])
    w = np.linalg.solve(pooled, b.mean(0) - a.mean(0))

    def project(features):
        return ((np.asarray(features, dtype=float) - centre) / scale) @ w

    return project


# ------------------------------------------------------------ lower bounds


def tpr_lower(k, n, alpha=ALPHA):
    """One-sided Clopper-Pearson lower confidence bound of a proportion."""
    k = np.asarray(k, dtype=float)
    with np.errstate(invalid="ignore"):
        lo = stats.beta.ppf(alpha, k, n - k + 1)
    return np.where(k == 0, 0.0, lo)


def fpr_upper(k, n, alpha=ALPHA):
    """One-sided Clopper-Pearson upper confidence bound of a proportion."""
    k = np.asarray(k, dtype=float)
    with np.errstate(invalid="ignore"):
        hi = stats.beta.ppf(1.0 - alpha, k + 1, n - k)
    return np.where(k == n, 1.0, hi)


def epsilon_bound(tp, n_pos, fp, n_neg, delta, alpha=ALPHA):
    """``log((TPR_lo - delta) / FPR_hi)``, 0 when there is no evidence."""
    lo = tpr_lower(tp, n_pos, alpha) - delta
    hi = fpr_upper(fp, n_neg, alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        eps = np.log(lo / hi)
    return np.where(lo > 0, np.maximum(eps, 0.0), 0.0)


@dataclass(frozen=True)
class Test:
    """A threshold test: say D' when ``sign * statistic >= threshold``."""

    threshold: float
    sign: int


def _empirical_candidates(stat_d, stat_d_prime, delta, n_eval, max_candidates):
    """(bound, test) of every candidate threshold, from the counts themselves."""
    out = []
    for sign in (1, -1):
        neg = np.sort(sign * np.asarray(stat_d, dtype=float))
        pos = np.sort(sign * np.asarray(stat_d_prime, dtype=float))
        pooled = np.sort(np.concatenate([neg, pos]))
        spread = np.linspace(0, pooled.size - 1, min(max_candidates, pooled.size))
        tail = np.arange(max(pooled.size - 200, 0), pooled.size)
        thresholds = pooled[
            np.unique(np.concatenate([spread.round(), tail]).astype(int))
        ]
        tp = pos.size - np.searchsorted(pos, thresholds, side="left")
        fp = neg.size - np.searchsorted(neg, thresholds, side="left")
        eps = epsilon_bound(tp, pos.size, fp, neg.size, delta)
        out.extend(zip(eps, [Test(float(t), sign) for t in thresholds], strict=True))
    return out


def _gaussian_candidates(stat_d, stat_d_prime, delta, n_eval, max_candidates):
    """(expected bound, test) of candidate thresholds under a normal fit.

    Each sample is summarised by its mean and standard deviation; the counts a
    threshold would give on ``n_eval`` fresh samples are predicted from those
    normals. The tails of a few thousand samples are too noisy to pick a
    threshold from directly; the fitted normals are not, and any threshold
    chosen from the selection half gives a valid bound on the other half.
    """
    out = []
    for sign in (1, -1):
        neg = sign * np.asarray(stat_d, dtype=float)
        pos = sign * np.asarray(stat_d_prime, dtype=float)
        m0, s0 = neg.mean(), neg.std() or 1e-12
        m1, s1 = pos.mean(), pos.std() or 1e-12
        thresholds = np.linspace(min(m0, m1), max(m0, m1) + 8 * max(s0, s1), 400)
        fp = np.rint(n_eval * stats.norm.sf((thresholds - m0) / s0))
        tp = np.rint(n_eval * stats.norm.sf((thresholds - m1) / s1))
        eps = epsilon_bound(tp, n_eval, fp, n_eval, delta)
        out.extend(zip(eps, [Test(float(t), sign) for t in thresholds], strict=True))
    return out


def choose_test(
    stat_d, stat_d_prime, delta, method="auto", n_eval=None, max_candidates=4000
):
    """The threshold test with the best lower bound, judged on these samples.

    ``method="empirical"`` takes the threshold whose Clopper-Pearson bound on
    these very samples is largest; ``"gaussian"`` the one whose bound is
    largest for ``n_eval`` samples (default: as many as given) from normals
    fitted to them. The first adapts to any shape but chases noise in the
    tails of small samples; the second is stable but can misplace the
    threshold when the statistic is far from normal. ``"auto"`` picks
    between them on these samples only: each method chooses a test on one
    half, the two tests are compared on the other half, and the winning method
    then chooses from all the samples.
    """
    stat_d = np.asarray(stat_d, dtype=float)
    stat_d_prime = np.asarray(stat_d_prime, dtype=float)
    n_eval = n_eval or min(stat_d.size, stat_d_prime.size)
    if method == "auto":
        h0, h1 = stat_d.size // 2, stat_d_prime.size // 2
        scores = {}
        for m in ("gaussian", "empirical"):
            test = choose_test(stat_d[:h0], stat_d_prime[:h1], delta, m, n_eval)
            scores[m] = evaluate(stat_d[h0:], stat_d_prime[h1:], test, delta)
        method = max(scores, key=lambda m: scores[m].epsilon_lb)
    candidates = {"empirical": _empirical_candidates, "gaussian": _gaussian_candidates}
    scored = candidates[method](stat_d, stat_d_prime, delta, n_eval, max_candidates)
    return max(scored, key=lambda c: c[0])[1]


@dataclass(frozen=True)
class Bound:
    """Outcome of one audit: the lower bound and the counts behind it."""

    epsilon_lb: float
    tp: int
    n_pos: int
    fp: int
    n_neg: int
    test: Test

    @property
    def tpr(self):
        return self.tp / self.n_pos

    @property
    def fpr(self):
        return self.fp / self.n_neg


def evaluate(stat_d, stat_d_prime, test, delta):
    """Lower bound of a fixed test on fresh samples."""
    s = test.sign
    tp = int(np.sum(s * np.asarray(stat_d_prime) >= test.threshold))
    fp = int(np.sum(s * np.asarray(stat_d) >= test.threshold))
    n_pos, n_neg = len(stat_d_prime), len(stat_d)
    eps = float(epsilon_bound(tp, n_pos, fp, n_neg, delta))
    return Bound(eps, tp, n_pos, fp, n_neg, test)


def split_bound(select_d, select_d_prime, eval_d, eval_d_prime, delta, method="auto"):
    """Choose the test on the selection half, bound epsilon on the other."""
    n_eval = min(len(eval_d), len(eval_d_prime))
    test = choose_test(select_d, select_d_prime, delta, method, n_eval)
    return evaluate(eval_d, eval_d_prime, test, delta)


# ------------------------------------------------------------------ audits


def audit_lr(scenario, n_fits, draws_per_fit, rng, weaken=False):
    """Lower bound from the LR statistic of captured noisy statistics.

    ``n_fits`` fits per data set; the first half of the fits selects the test,
    the second half bounds epsilon. The reference (claimed noise) is always
    taken from the calibrated estimator; ``weaken=True`` audits the
    under-noised variant against it.
    """
    ref = reference(scenario, rng)
    D, D_prime = scenario.data_sets()
    context = under_noised() if weaken else contextlib.nullcontext()
    with context:
        rel_d = capture_releases(scenario, D, n_fits, draws_per_fit, rng)
        rel_d_prime = capture_releases(scenario, D_prime, n_fits, draws_per_fit, rng)
    stat_d = ref.lr_statistic(rel_d)
    stat_d_prime = ref.lr_statistic(rel_d_prime)
    half = n_fits // 2
    bound = split_bound(
        stat_d[:half].ravel(),
        stat_d_prime[:half].ravel(),
        stat_d[half:].ravel(),
        stat_d_prime[half:].ravel(),
        scenario.delta,
    )
    return bound, ref


def audit_released(scenario, n_fits, rng, weaken=False):
    """Lower bound from the released parameters of ``n_fits`` fits per side."""
    D, D_prime = scenario.data_sets()
    context = under_noised() if weaken else contextlib.nullcontext()
    with context:
        feat_d = fit_released(scenario, D, n_fits, rng)
        feat_d_prime = fit_released(scenario, D_prime, n_fits, rng)
    half = n_fits // 2
    project = linear_discriminant(feat_d[:half], feat_d_prime[:half])
    return split_bound(
        project(feat_d[:half]),
        project(feat_d_prime[:half]),
        project(feat_d[half:]),
        project(feat_d_prime[half:]),
        scenario.delta,
    )


# --------------------------------------------------------------- benchmark


@dataclass
class Row:
    scenario: Scenario
    mu_seen: float
    lr: Bound
    lr_weak: Bound
    released: Bound
    released_weak: Bound
    seconds: float


def run_scenario(args):
    scenario, lr_fits, draws, released_fits = args
    rng = np.random.default_rng([scenario.seed, 2])
    start = time.process_time()
    # Many tiny linear-algebra calls: BLAS threads only add overhead.
    with threadpool_limits(limits=1):
        lr, ref = audit_lr(scenario, lr_fits, draws, rng)
        lr_weak, _ = audit_lr(scenario, lr_fits, draws, rng, weaken=True)
        released = audit_released(scenario, released_fits, rng)
        released_weak = audit_released(scenario, released_fits, rng, weaken=True)
    return Row(
        scenario,
        ref.mu_seen,
        lr,
        lr_weak,
        released,
        released_weak,
        time.process_time() - start,
    )


def _fmt(bound, claimed):
    flag = " **>**" if bound.epsilon_lb > claimed else ""
    return f"{bound.epsilon_lb:.2f}{flag}"


def markdown_table(rows, command, meta):
    r0 = rows[0]
    lr_n = r0.lr.n_neg
    rel_n = r0.released.n_neg
    lines = [
        f"Produced by `{command}` on {meta['date']} "
        f"(sklearn-dpgmm {meta['version']}, numpy {meta['numpy']}, "
        f"Python {meta['python']}; {meta['cpu_minutes']:.1f} CPU minutes).",
        "",
        f"Neighbouring data sets: {N_RECORDS} records near the centre of the "
        f"box `[-1, 1]^{r0.scenario.n_features}` and the same plus one record on "
        "the boundary; one component, one iteration, fixed public start, "
        f"`allocation={r0.scenario.allocation!r}`, delta = {DELTA:g}. "
        f"Bounds are at 90% confidence; each is evaluated on {lr_n:,} (LR) or "
        f"{rel_n:,} (released) samples per data set, after the test was chosen "
        "on as many others. **>** marks a bound above the claimed epsilon, "
        "i.e. a detected violation. The half-noise variant claims the same "
        "epsilon but really spends the epsilon of `2 mu`, listed for comparison.",
        "",
        "| covariance | claimed epsilon | mu | half noise really spends "
        "| LR, calibrated | LR, half noise "
        "| released, calibrated | released, half noise |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        s = r.scenario
        spent = epsilon_from_gdp(2.0 * s.mu, s.delta)
        lines.append(
            f"| {s.covariance_type} | {s.epsilon:g} | {s.mu:.3f} | {spent:.2f} | "
            f"{_fmt(r.lr, s.epsilon)} | {_fmt(r.lr_weak, s.epsilon)} | "
            f"{_fmt(r.released, s.epsilon)} | {_fmt(r.released_weak, s.epsilon)} |"
        )
    return "\n".join(lines)


def replace_between_marks(path, body):
    text = path.read_text(encoding="utf-8")
    start = text.index(START_MARK) + len(START_MARK)
    end = text.index(END_MARK)
    path.write_text(text[:start] + "\n" + body + "\n" + text[end:], encoding="utf-8")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--lr-fits", type=int, default=None)
    parser.add_argument("--draws", type=int, default=None)
    parser.add_argument("--released-fits", type=int, default=None)
    parser.add_argument("--features", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--doc", type=Path, default=None, help="markdown file to write the table to"
    )
    args = parser.parse_args(argv)

    quick = args.quick
    lr_fits = args.lr_fits or (40 if quick else 400)
    draws = args.draws or (100 if quick else 1500)
    released_fits = args.released_fits or (200 if quick else 4000)
    epsilons = (1.0, 4.0) if quick else EPSILONS
    covs = ("full", "spherical") if quick else COVARIANCE_TYPES
    doc = args.doc
    if doc is None:
        doc = DOC if not quick else Path(tempfile.gettempdir()) / "audit_privacy.md"
    if not doc.exists():
        doc.write_text(f"{START_MARK}\n{END_MARK}\n", encoding="utf-8")

    jobs = [
        (
            Scenario(ct, args.features, eps, seed=args.seed * 1000 + i),
            lr_fits,
            draws,
            released_fits,
        )
        for i, (ct, eps) in enumerate((ct, eps) for ct in covs for eps in epsilons)
    ]
    start = time.time()
    rows = []
    if args.jobs > 1:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
            for row in pool.imap(run_scenario, jobs):
                rows.append(row)
                _print_row(row)
    else:
        for job in jobs:
            row = run_scenario(job)
            rows.append(row)
            _print_row(row)

    command = "python benchmarks/audit.py" + (
        " " + " ".join(sys.argv[1:]) if argv is None and sys.argv[1:] else ""
    )
    meta = {
        "date": datetime.date.today().isoformat(),
        "version": sklearn_dpgmm.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "cpu_minutes": sum(r.seconds for r in rows) / 60.0,
    }
    table = markdown_table(rows, command, meta)
    print()
    print(table)
    replace_between_marks(doc, table)
    print(f"\nwrote {doc} ({time.time() - start:.0f} s wall)")
    violations = [
        r
        for r in rows
        if r.lr.epsilon_lb > r.scenario.epsilon
        or r.released.epsilon_lb > r.scenario.epsilon
    ]
    return 1 if violations else 0


def _print_row(row):
    s = row.scenario
    print(
        f"{s.covariance_type:9s} eps={s.epsilon:<4g} mu={s.mu:.3f} "
        f"(seen {row.mu_seen:.3f}) | LR {row.lr.epsilon_lb:.2f} "
        f"half-noise {row.lr_weak.epsilon_lb:.2f} | released "
        f"{row.released.epsilon_lb:.2f} half-noise {row.released_weak.epsilon_lb:.2f}"
        f" | {row.seconds:.0f} s",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
