"""
=======================================================
Choosing n_components by BIC, and what the choice costs
=======================================================

The Bayesian information criterion (BIC) is the usual way to pick the number
of components of a Gaussian mixture: fit one model per candidate and keep the
one with the lowest BIC. With private models two things change.

**Every candidate spends budget.** Fitting six candidates on the same records
composes six private releases. Either each fit gets the full ``epsilon`` and
the selection as a whole spends more, or a fixed total is shared among the
candidates and each fit is noisier. :class:`sklearn_dpgmm.PrivacyBudget`
keeps the account in both cases.

**BIC reads data.** BIC evaluated on the training records is a function of
those records outside the private mechanism, so it is not covered by the
guarantee; neither is the choice made from it. Here the criterion is computed
on a held-out validation set that we treat as *public*, for instance an older
sample that was published before. If your validation records are private too,
their BIC (and the selection) is a further, unaccounted use of private data.
"""

# %%
# Private training data and a public validation set
# -------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np

from sklearn_dpgmm import DPGaussianMixture, PrivacyBudget
from sklearn_dpgmm.accounting import epsilon_from_gdp, gdp_from_epsilon_delta

CENTRES = np.array([[-5.0, -4.0], [-4.0, 4.0], [4.0, 0.0]])
BOUNDS = ([-12.0, -12.0], [12.0, 12.0])  # public ranges of the two features
DELTA = 1e-6
CANDIDATES = range(1, 7)


def simulate(n_samples, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(CENTRES), n_samples)
    return CENTRES[labels] + rng.normal(size=(n_samples, 2)) * 1.2


X_private = simulate(6000, seed=1)
X_public = simulate(1000, seed=2)  # a validation set that is already public


def bic_curve(epsilon, budget):
    """Fit one private model per candidate inside ``budget``; BIC on X_public."""
    bics = []
    with budget:
        for k in CANDIDATES:
            model = DPGaussianMixture(
                n_components=k,
                epsilon=epsilon,
                delta=DELTA,
                bounds=BOUNDS,
                compute_kl=False,
                random_state=k,
            ).fit(X_private)
            bics.append(model.bic(X_public))
    return np.array(bics)


# %%
# Strategy 1: every candidate gets epsilon = 1
# --------------------------------------------
# The budget must be large enough for all six fits; we open a generous one
# and read what was spent.
full = PrivacyBudget(epsilon=10.0, delta=DELTA)
bic_full = bic_curve(1.0, full)
print(f"each fit epsilon=1: total spent {full.epsilon_spent:.3f} over {full.n_charges}")

# %%
# Strategy 2: a total of epsilon = 1 shared by all candidates
# -----------------------------------------------------------
# Private fits compose in Gaussian differential privacy: ``m`` fits of
# parameter ``mu`` cost ``mu * sqrt(m)``. Each candidate therefore gets
# ``mu_total / sqrt(6)``, converted back to an epsilon at the same delta.
mu_total = gdp_from_epsilon_delta(1.0, DELTA)
per_fit = epsilon_from_gdp(mu_total / np.sqrt(len(CANDIDATES)), DELTA)
shared = PrivacyBudget(epsilon=1.0, delta=DELTA)
bic_shared = bic_curve(per_fit, shared)
print(f"each fit epsilon={per_fit:.3f}: total spent {shared.epsilon_spent:.3f}")

# %%
# Plot
# ----
fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
for bics, label in (
    (bic_full, f"each fit eps=1 (total eps={full.epsilon_spent:.2f})"),
    (
        bic_shared,
        f"total eps={shared.epsilon_spent:.2f} shared (eps={per_fit:.2f} each)",
    ),
):
    line = ax.plot(list(CANDIDATES), bics, marker="o", label=label)[0]
    best = list(CANDIDATES)[int(np.argmin(bics))]
    ax.plot(best, bics.min(), marker="*", markersize=16, color=line.get_color())
ax.set_xlabel("n_components")
ax.set_ylabel("BIC on the public validation set (lower is better)")
ax.set_title("Selecting n_components with private fits (3 true clusters)")
ax.legend()
plt.show()

# %%
# The stars mark the selected number of components. Sharing a fixed total
# makes every candidate noisier, which can blur the BIC curve; giving every
# candidate the full epsilon keeps the curve sharp but spends several times
# the budget of the model finally published.
