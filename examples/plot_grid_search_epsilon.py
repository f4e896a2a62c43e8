"""
=============================================
What a grid search over epsilon really spends
=============================================

:class:`~sklearn.model_selection.GridSearchCV` works with
:class:`~sklearn_dpgmm.DPGaussianMixture` like with any scikit-learn density
estimator: it fits one model per candidate and fold and ranks the candidates
by held-out log-likelihood. Each of those fits is private on its own, but all
of them read the same records, so their privacy losses add up.

:class:`sklearn_dpgmm.PrivacyBudget` keeps the account. Used as a context
manager, it charges every private fit made inside the ``with`` block and
refuses (with :class:`~sklearn_dpgmm.BudgetExceededError`, before reading any
data) a fit that would exceed the total. This example shows

* that searching over ``epsilon`` always selects the largest value, and that
  the search as a whole spends far more than the selected model's epsilon;
* that a budget too small for the search stops it.

Two caveats apply to every search. The cross-validation scores and the choice
of the best candidate are computed from the data outside the private
mechanism, so they are not covered by any budget. And the budget only sees
fits in this process: keep ``n_jobs=1`` (or a threading backend).
"""

# %%
# Data and a public box
# ---------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV

from sklearn_dpgmm import BudgetExceededError, DPGaussianMixture, PrivacyBudget

rng = np.random.default_rng(0)
X = np.concatenate(
    [
        rng.normal([-3.0, 0.0], 1.0, size=(1500, 2)),
        rng.normal([3.0, 2.0], [0.7, 1.5], size=(1500, 2)),
    ]
)
BOUNDS = ([-10.0, -10.0], [10.0, 10.0])  # known ranges, not read from X
DELTA = 1e-5
EPSILONS = [0.25, 0.5, 1.0, 2.0]

base = DPGaussianMixture(
    n_components=2, delta=DELTA, bounds=BOUNDS, compute_kl=False, random_state=0
)
search = GridSearchCV(base, {"epsilon": EPSILONS}, cv=3, n_jobs=1)

# %%
# A search inside a budget
# ------------------------
# 4 candidates x 3 folds = 12 fits, plus the final refit of the best
# candidate on all the data: 13 charges.
with PrivacyBudget(epsilon=6.0, delta=DELTA) as budget:
    search.fit(X)

print("best epsilon:", search.best_params_["epsilon"])
print(f"charges: {budget.n_charges}, epsilon spent: {budget.epsilon_spent:.3f}")
print(f"the released model alone: epsilon={search.best_estimator_.epsilon_spent_:.3f}")

# %%
# The same search with a smaller budget
# -------------------------------------
# The budget refuses the first fit that would overspend, before that fit reads
# the data; the fits made until then have been charged. Pass
# ``error_score="raise"``: by default ``GridSearchCV`` catches errors raised by
# ``fit``, records a NaN score for that candidate and carries on, so a refused
# fit would go unnoticed except for a warning, and the search would refit and
# return the best of the candidates that could be afforded.
small_search = GridSearchCV(
    base, {"epsilon": EPSILONS}, cv=3, n_jobs=1, error_score="raise"
)
with PrivacyBudget(epsilon=2.0, delta=DELTA) as small:
    try:
        small_search.fit(X)
    except BudgetExceededError as exc:
        print("refused:", str(exc).split(" needs ")[0])
print(f"fits accepted: {small.n_charges}, epsilon spent: {small.epsilon_spent:.3f}")

# %%
# Plot
# ----
# Left: held-out log-likelihood of each candidate (not private). Right: the
# epsilon of one fit of each candidate against what the whole search spent.
scores = search.cv_results_["mean_test_score"]
errors = search.cv_results_["std_test_score"]
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
left.errorbar(EPSILONS, scores, yerr=errors, marker="o", capsize=3)
left.set_xscale("log")
left.set_xticks(EPSILONS, labels=[f"{e:g}" for e in EPSILONS])
left.minorticks_off()
left.set_xlabel("epsilon of each fit")
left.set_ylabel("mean held-out log-likelihood")
left.set_title("The search prefers the largest epsilon")

labels = [f"one fit\neps={e:g}" for e in EPSILONS] + ["whole\nsearch"]
heights = [*EPSILONS, budget.epsilon_spent]
colours = ["C0"] * len(EPSILONS) + ["C3"]
right.bar(labels, heights, color=colours)
right.set_ylabel(f"epsilon at delta={DELTA:g}")
right.set_title(f"{budget.n_charges} fits spend epsilon={budget.epsilon_spent:.2f}")
plt.show()

# %%
# If the budget must not exceed ``epsilon_total``, decide the budget of the
# published model first and spend nothing on selecting it: choose ``epsilon``
# from the data size and the accuracy you need (see the KL example), or
# select on public or synthetic data.
