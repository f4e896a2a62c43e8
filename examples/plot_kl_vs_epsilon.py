"""
=============================================
Utility against privacy: KL as epsilon varies
=============================================

How much does privacy cost? This example fits
:class:`~sklearn_dpgmm.DPGaussianMixture` on simulated data at a range of
privacy budgets ``epsilon`` and for two data-set sizes, and reports
``kl_to_nonprivate_``: the Kullback-Leibler divergence, in nats, from the
non-private mixture fitted on the same clipped data to the private release.

Two references frame the curve:

* the fit without noise (``epsilon=inf``), whose divergence is close to zero
  here: what remains is the effect of private EM's data-independent
  initialisation and fixed number of iterations;
* the divergence from the non-private fit to a single broad Gaussian that
  fills the public box (:func:`sklearn_dpgmm.kl.kl_to_reference`), drawn as a
  dashed line. That baseline uses no data at all, so a private release above
  it has learnt nothing useful.

``kl_to_nonprivate_`` reads the raw data and is **not** covered by the privacy
guarantee; it is a tool for choosing settings on data you may study, never a
number to publish.
"""

# %%
# Simulated data inside a public box
# ----------------------------------
# Three clusters in two features. The box ``[-10, 10]^2`` plays the role of
# public knowledge (for real data: units, sensor ranges, legal limits); it is
# fixed before looking at the data.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.mixture import GaussianMixture

from sklearn_dpgmm import DPGaussianMixture
from sklearn_dpgmm.kl import kl_to_reference

LOWER, UPPER = np.array([-10.0, -10.0]), np.array([10.0, 10.0])
CENTRES = np.array([[-4.0, -3.0], [0.0, 4.0], [5.0, -1.0]])
SCALES = np.array([1.0, 1.5, 0.8])


def simulate(n_samples, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(CENTRES), n_samples)
    noise = rng.standard_normal((n_samples, 2)) * SCALES[labels, None]
    return CENTRES[labels] + noise


# %%
# Fit over a grid of budgets
# --------------------------
# Every private fit spends exactly its ``epsilon`` at ``delta=1e-6``. Each
# point is averaged over a few noise draws, with the spread shown as an error
# bar.
EPSILONS = [0.1, 0.3, 1.0, 3.0, 10.0]
SIZES = [1_000, 10_000]
N_REPEATS = 3

results = {}
for n_samples in SIZES:
    X = simulate(n_samples, seed=0)
    kls = np.empty((len(EPSILONS), N_REPEATS))
    for i, epsilon in enumerate(EPSILONS):
        for r in range(N_REPEATS):
            model = DPGaussianMixture(
                n_components=3,
                epsilon=epsilon,
                delta=1e-6,
                bounds=(LOWER, UPPER),
                random_state=100 * i + r,
            ).fit(X)
            kls[i, r] = model.kl_to_nonprivate_
    no_noise = DPGaussianMixture(
        n_components=3, epsilon=np.inf, bounds=(LOWER, UPPER), random_state=0
    ).fit(X)
    reference = GaussianMixture(3, random_state=0).fit(np.clip(X, LOWER, UPPER))
    baseline = kl_to_reference(reference, LOWER, UPPER).kl
    results[n_samples] = (kls, no_noise.kl_to_nonprivate_, baseline)
    print(f"n={n_samples}: median KL per epsilon", np.round(np.median(kls, 1), 3))
    print(f"  no noise: {no_noise.kl_to_nonprivate_:.3f}, box baseline: {baseline:.3f}")

# %%
# Plot
# ----
fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
for colour, n_samples in zip(("C0", "C1"), SIZES, strict=True):
    kls, _, baseline = results[n_samples]
    # A Monte Carlo estimate of a divergence near zero can come out slightly
    # negative; floor it so that the log axis can show it.
    kls = np.maximum(kls, 1e-4)
    middle = np.median(kls, axis=1)
    spread = np.array([middle - kls.min(axis=1), kls.max(axis=1) - middle])
    ax.errorbar(
        EPSILONS,
        middle,
        yerr=spread,
        marker="o",
        capsize=3,
        color=colour,
        label=f"private, n={n_samples}",
    )
    ax.axhline(baseline, color=colour, linestyle="--", alpha=0.6)
ax.text(EPSILONS[0], results[SIZES[0]][2] * 1.1, "data-free box baseline", fontsize=8)
ax.set_xscale("log")
ax.set_xticks(EPSILONS, labels=[f"{e:g}" for e in EPSILONS])
ax.minorticks_off()
ax.set_yscale("log")
ax.set_xlabel("epsilon (delta = 1e-6)")
ax.set_ylabel("KL(non-private || private) [nats]")
ax.set_title("Larger budgets and larger data sets give releases closer to the fit")
ax.legend(fontsize=8)
plt.show()

# %%
# Reading the plot: at a fixed epsilon the noise added to the sufficient
# statistics does not depend on the number of records, while the statistics
# grow with it, so ten times more records buy roughly the accuracy of a much
# larger budget.
