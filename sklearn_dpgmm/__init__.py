"""Differentially private Gaussian mixture models for scikit-learn."""

from ._estimator import DPGaussianMixture
from .budget import BudgetExceededError, PrivacyBudget
from .exceptions import InvalidParameterError, PrivacyLeakWarning

__version__ = "0.1.0"

__all__ = [
    "BudgetExceededError",
    "DPGaussianMixture",
    "InvalidParameterError",
    "PrivacyBudget",
    "PrivacyLeakWarning",
    "__version__",
]
