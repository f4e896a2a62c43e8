"""
===================================================
Preprocessing in a Pipeline: only public transforms
===================================================

A :class:`~sklearn.pipeline.Pipeline` that ends in
:class:`~sklearn_dpgmm.DPGaussianMixture` is private only if every step before
it is a fixed, public function of one record. A
:class:`~sklearn.preprocessing.StandardScaler` is not: it learns the mean and
the standard deviation of the training data, and those two numbers, which
the fitted pipeline carries and uses, are not protected by any noise. The
mixture's guarantee says nothing about them.

A :class:`~sklearn.preprocessing.FunctionTransformer` with constants chosen in
advance is public. Here it maps the public range of each feature onto
``[-1, 1]``, so the mixture is fitted with ``bounds=(-1, 1)``. A fixed log
transform of a skewed feature would be handled the same way, with bounds on
the log scale.
"""

# %%
# Public constants
# ----------------
# Body-mass index (kg/m2) and mean arterial blood pressure (mmHg) from the raw
# diabetes data shipped with scikit-learn. The ranges are physiological limits
# stated before looking at the data; the scaling constants follow from them.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_dpgmm import DPGaussianMixture

data = load_diabetes(scaled=False)
X = data.data[:, [data.feature_names.index("bmi"), data.feature_names.index("bp")]]
LOWER = np.array([12.0, 40.0])
UPPER = np.array([60.0, 160.0])
CENTRE = (LOWER + UPPER) / 2
HALF_WIDTH = (UPPER - LOWER) / 2


def to_unit_box(X, centre, half_width):
    return (np.asarray(X, dtype=float) - centre) / half_width


def from_unit_box(Z, centre, half_width):
    return np.asarray(Z, dtype=float) * half_width + centre


# Module-level functions (not lambdas) keep the pipeline picklable.
scaling = FunctionTransformer(
    to_unit_box,
    inverse_func=from_unit_box,
    kw_args={"centre": CENTRE, "half_width": HALF_WIDTH},
    inv_kw_args={"centre": CENTRE, "half_width": HALF_WIDTH},
)

# %%
# The pipeline
# ------------
# ``FunctionTransformer`` learns nothing in ``fit``, so fitting the pipeline
# runs exactly one private fit. Records outside the public range are clipped
# into ``[-1, 1]`` by the mixture.
pipeline = make_pipeline(
    scaling,
    DPGaussianMixture(
        n_components=2, epsilon=1.0, delta=1e-6, bounds=(-1.0, 1.0), random_state=0
    ),
)
pipeline.fit(X)
mixture = pipeline[-1]
print(f"epsilon spent: {mixture.epsilon_spent_:.4f}")
print("means in data units:\n", np.round(scaling.inverse_transform(mixture.means_), 1))

# %%
# Densities and samples in the original units
# -------------------------------------------
# ``pipeline.score_samples`` gives the log density of the *scaled* records. A
# density in the original units divides by the Jacobian of the scaling,
# ``prod(HALF_WIDTH)``; it changes the level of the contours, not their shape.
# Samples are drawn in the unit box and mapped back.
grid_x, grid_y = np.meshgrid(
    np.linspace(LOWER[0], UPPER[0], 150), np.linspace(LOWER[1], UPPER[1], 150)
)
grid = np.column_stack([grid_x.ravel(), grid_y.ravel()])
log_density = pipeline.score_samples(grid) - np.log(HALF_WIDTH).sum()
synthetic = scaling.inverse_transform(mixture.sample(300)[0])

fig, ax = plt.subplots(figsize=(6.5, 5), layout="constrained")
contours = ax.contourf(
    grid_x, grid_y, np.exp(log_density).reshape(grid_x.shape), levels=12, cmap="Blues"
)
fig.colorbar(contours, label="released density (per kg/m2 per mmHg)")
ax.scatter(X[:, 0], X[:, 1], s=8, c="k", alpha=0.5, label="real records")
ax.scatter(synthetic[:, 0], synthetic[:, 1], s=8, c="C1", label="synthetic")
# Samples of a Gaussian mixture are not confined to the box; the view is.
ax.set_xlim(LOWER[0], UPPER[0])
ax.set_ylim(LOWER[1], UPPER[1])
ax.set_xlabel("BMI (kg/m2)")
ax.set_ylabel("mean arterial pressure (mmHg)")
ax.set_title("Private mixture behind a public scaling step")
ax.legend(loc="upper right")
plt.show()
