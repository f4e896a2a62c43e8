"""Warning classes raised by sklearn-dpgmm.

No warning filter is installed at import time; users control them with the
standard :mod:`warnings` machinery.
"""


class PrivacyLeakWarning(UserWarning):
    """The differential-privacy guarantee does not hold for this fit.

    Raised when a choice made by the user, such as ``bounds=None`` (the clipping
    box is then read from the data), means that the released model is no longer
    covered by the stated (epsilon, delta) guarantee.
    """
