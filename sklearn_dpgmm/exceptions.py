"""Warnings and exceptions raised by sklearn-dpgmm.

No warning filter is installed at import time; users control these with the
standard :mod:`warnings` machinery.
"""


class PrivacyLeakWarning(UserWarning):
    """The differential-privacy guarantee does not hold for this fit.

    Raised when a choice made by the user, such as ``bounds=None`` (the clipping
    box is then read from the data), means that the released model is no longer
    covered by the stated (epsilon, delta) guarantee.
    """


class InvalidParameterError(ValueError, TypeError):
    """A constructor parameter has a value or type the estimator cannot use.

    It subclasses both :class:`ValueError` and :class:`TypeError` so that code
    catching either, as scikit-learn's own tools do, keeps working.
    """
