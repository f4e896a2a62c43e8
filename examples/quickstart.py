"""
Quick start: a private Gaussian mixture of the iris petals
==========================================================

Fits :class:`sklearn_dpgmm.DPGaussianMixture` on the petal length and width of
scikit-learn's iris data at a few privacy budgets, prints for each the privacy
spent and the KL divergence from the non-private fit, and saves a plot of the
released components over the data.

The bounds come from the data set's documentation (petal length 1.0-6.9 cm,
petal width 0.1-2.5 cm), rounded outward; they are not computed from the data.
With only 150 records, small budgets leave little signal: the data-independent
reference (one Gaussian spread over the box) is printed for comparison.
"""

import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import load_iris
from sklearn.mixture import GaussianMixture

from sklearn_dpgmm import DPGaussianMixture
from sklearn_dpgmm.kl import kl_to_reference

BOUNDS = ([0.5, 0.0], [7.5, 3.0])
EPSILONS = [0.5, 1.0, 4.0, 16.0, np.inf]


def fit_all(X):
    """One private fit per budget; seeds fixed so the output is reproducible.

    A model meant for publication must be fitted with random_state=None.
    """
    models = []
    for eps in EPSILONS:
        model = DPGaussianMixture(3, epsilon=eps, bounds=BOUNDS, random_state=0)
        models.append(model.fit(X))
    return models


def report(models, X):
    reference = GaussianMixture(3, random_state=0).fit(np.clip(X, *BOUNDS))
    floor = kl_to_reference(reference, *BOUNDS).kl
    print(f"{'epsilon':>8} {'epsilon spent':>14} {'KL to non-private (nats)':>26}")
    for model in models:
        print(
            f"{model.epsilon:>8g} {model.epsilon_spent_:>14.6g} "
            f"{model.kl_to_nonprivate_:>18.3f} +- {model.kl_to_nonprivate_stderr_:.3f}"
        )
    print(f"data-independent reference: {floor:.3f} nats")
    print("(KL reads the raw data: it is a diagnostic, never to be published.)")


def plot(models, X, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed; skipping the plot.")
        return
    fig, axes = plt.subplots(1, len(models), figsize=(3.2 * len(models), 3.2))
    for ax, model in zip(axes, models, strict=True):
        ax.scatter(X[:, 0], X[:, 1], s=6, color="0.6")
        for mean, cov, w in zip(
            model.means_, model.covariances_, model.weights_, strict=True
        ):
            vals, vecs = np.linalg.eigh(cov)
            angle = np.linspace(0, 2 * np.pi, 100)
            circle = np.stack([np.cos(angle), np.sin(angle)])
            ellipse = mean[:, None] + vecs @ (2 * np.sqrt(vals)[:, None] * circle)
            ax.plot(*ellipse, linewidth=1 + 3 * w)
        ax.set_xlim(BOUNDS[0][0], BOUNDS[1][0])
        ax.set_ylim(BOUNDS[0][1], BOUNDS[1][1])
        ax.set_title(f"epsilon = {model.epsilon:g}")
        ax.set_xlabel("petal length (cm)")
    axes[0].set_ylabel("petal width (cm)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"plot saved to {path}")


def main(out_dir="."):
    X = load_iris().data[:, 2:]
    models = fit_all(X)
    report(models, X)
    plot(models, X, Path(out_dir) / "quickstart.png")


if __name__ == "__main__":
    main(*sys.argv[1:])
