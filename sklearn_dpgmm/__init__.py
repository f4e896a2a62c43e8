"""Differentially private Gaussian mixture models for scikit-learn."""

from ._estimator import DPGaussianMixture
from .budget import BudgetExceededError, PrivacyBudget
from .exceptions import InvalidParameterError, PrivacyLeakWarning
from .release import ReleaseFormatError, load_release, save_release

__version__ = "0.1.0"

__all__ = [
    "BudgetExceededError",
    "DPGaussianMixture",
    "InvalidParameterError",
    "PrivacyBudget",
    "PrivacyLeakWarning",
    "ReleaseFormatError",
    "load_release",
    "save_release",
    "__version__",
]
