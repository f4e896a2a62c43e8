"""
============================================
Publishing a private model as a release file
============================================

A fitted :class:`~sklearn_dpgmm.DPGaussianMixture` is published with
:func:`sklearn_dpgmm.release.save_release`: one JSON file with the released
parameters, the public clipping box and the terms of the privacy guarantee
(epsilon, delta, the neighbouring relation and the noise multipliers from
which anyone can redo the accounting). Nothing outside the guarantee is
written, in particular not ``kl_to_nonprivate_`` and not the seed of the
noise.

Whoever receives the file reads it with
:func:`sklearn_dpgmm.release.load_release` and gets a fitted estimator back:
it scores, predicts and samples exactly like the original. Here we publish a
model of three clinical measurements of the diabetes data set that ships with
scikit-learn and compare synthetic records drawn from the release with the
real ones.
"""

# %%
# Fit within public ranges
# ------------------------
# The raw (unscaled) diabetes data: age in years, body-mass index in kg/m2 and
# mean arterial blood pressure in mmHg. The box comes from what is
# physiologically plausible for adult patients, not from the data.
import json
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes

from sklearn_dpgmm import DPGaussianMixture
from sklearn_dpgmm.release import load_release, save_release

data = load_diabetes(scaled=False)
columns = [data.feature_names.index(name) for name in ("age", "bmi", "bp")]
X = data.data[:, columns]
NAMES = ["age (years)", "BMI (kg/m2)", "blood pressure (mmHg)"]
LOWER = np.array([18.0, 12.0, 40.0])
UPPER = np.array([100.0, 60.0, 160.0])

model = DPGaussianMixture(
    n_components=2,
    epsilon=2.0,
    delta=1e-6,
    bounds=(LOWER, UPPER),
    compute_kl=False,
).fit(X)
print(f"{X.shape[0]} patients, epsilon spent: {model.epsilon_spent_:.4f}")

# %%
# Save and load
# -------------
# The file goes to a temporary directory here; in practice it is the file you
# publish. ``save_release`` refuses to replace an existing file unless
# ``overwrite=True``.
with tempfile.TemporaryDirectory() as tmp:
    path = save_release(model, Path(tmp) / "diabetes_release.json")
    document = json.loads(path.read_text())
    released = load_release(path)

print("private:", document["private"])
for key in ("epsilon", "delta", "epsilon_spent", "neighbouring_relation"):
    print(f"  {key}: {document['privacy'][key]}")
first_iteration = document["privacy"]["noise_multipliers"][0]
print("  noise multipliers of the first iteration:", first_iteration)

# The loaded estimator behaves exactly like the fitted one.
assert np.array_equal(released.score_samples(X), model.score_samples(X))
assert np.array_equal(released.predict(X), model.predict(X))

# %%
# Synthetic records from the release
# ----------------------------------
# Sampling is post-processing of the release: it costs no privacy. A seed
# makes the draw reproducible; it has nothing to do with the noise of the fit.
released.set_params(random_state=0)
synthetic, _ = released.sample(X.shape[0])

fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), layout="constrained")
for j, ax in enumerate(axes):
    edges = np.linspace(LOWER[j], UPPER[j], 31)
    ax.hist(X[:, j], bins=edges, alpha=0.6, density=True, label="real")
    ax.hist(synthetic[:, j], bins=edges, alpha=0.6, density=True, label="synthetic")
    ax.set_xlabel(NAMES[j])
axes[0].set_ylabel("density")
axes[0].legend()
fig.suptitle("Marginals of real records and of samples from the published release")
plt.show()

# %%
# The mixture is fitted with two components and a small budget on a few
# hundred records, so the synthetic marginals are smoother than the real ones;
# they are meant for exploration and testing, not as a substitute for the
# data.
