"""A privacy budget shared by several fits on the same data.

Model selection runs many fits on one data set: a grid search over ``epsilon``,
a comparison of several ``n_components``, cross-validation folds. Each fit of
:class:`~sklearn_dpgmm.DPGaussianMixture` is private on its own, but together
they reveal more than any one of them. :class:`PrivacyBudget` bounds the total::

    from sklearn_dpgmm import PrivacyBudget

    with PrivacyBudget(epsilon=3.0, delta=1e-5) as budget:
        search = GridSearchCV(DPGaussianMixture(bounds=bounds),
                              {"epsilon": [0.5, 1.0]})
        search.fit(X)
    print(budget.epsilon_spent, budget.n_charges)

While the ``with`` block is open, every fit checks its total Gaussian-DP
parameter against the budget before it reads any data, and a fit that would
take the total past the budget is refused with :class:`BudgetExceededError`.
The charge is recorded once the fit's inputs are validated, so a fit rejected
for bad input costs nothing.

Why a context manager and not an estimator parameter: :func:`sklearn.base.clone`
deep-copies constructor parameters, so an accountant passed to the estimator
would be copied into every clone made by a meta-estimator, and the clones would
each spend their own copy.

Known limitations
-----------------
- The set of open budgets is global to the Python process and shared by all
  of its threads (so that joblib's threading backend sees it). Fits run in
  other processes do not see it: ``GridSearchCV(..., n_jobs=2)`` with the
  default ``loky`` backend fits in worker processes and is not charged. Use
  ``n_jobs=1`` or ``with joblib.parallel_backend("threading"):``.
- Conversely, an open budget is charged by every private fit in the process,
  including fits started by unrelated threads.
- Only what the estimators release is charged. Anything else computed from the
  private data, such as the cross-validation scores a grid search computes on
  held-out folds and its choice of the best parameters, is not private and is
  not covered by the budget.
"""

import math
import numbers
import threading
from dataclasses import dataclass

from .accounting import compose_gdp, epsilon_from_gdp, gdp_from_epsilon_delta

__all__ = [
    "BudgetCharge",
    "BudgetExceededError",
    "PrivacyBudget",
    "active_budget",
    "charge_active_budget",
]

# Relative slack when comparing the composed total with the capacity, so that
# e.g. k charges of mu_max / sqrt(k) are all accepted despite rounding.
_RTOL = 1e-12

# Open budgets, innermost last. A plain list guarded by a lock rather than a
# contextvar: worker threads (joblib's threading backend, ThreadPoolExecutor)
# do not inherit context variables, and they must see the open budgets.
_ACTIVE = []
_LOCK = threading.Lock()


class BudgetExceededError(ValueError):
    """A fit would spend more privacy than an open :class:`PrivacyBudget` allows.

    Raised before the fit reads any data; the budget is left unchanged.
    """


@dataclass(frozen=True)
class BudgetCharge:
    """One accepted charge to a :class:`PrivacyBudget`.

    Attributes
    ----------
    description : str
        What was charged, e.g. the estimator and its parameters.
    mu : float
        Gaussian-DP parameter of the charge.
    """

    description: str
    mu: float


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _validate_mu(mu):
    if not _is_real(mu) or math.isnan(mu) or mu < 0:
        raise ValueError(f"mu must be a number >= 0 (or inf); got {mu!r}.")
    return float(mu)


class PrivacyBudget:
    """Total (epsilon, delta) budget for all private fits in a ``with`` block.

    Used as a context manager: while the block is open, every
    :class:`~sklearn_dpgmm.DPGaussianMixture` fit in this process charges its
    Gaussian-DP parameter ``mu`` to the budget before it reads any data. A fit
    whose charge would take the total past the budget raises
    :class:`BudgetExceededError` and the budget is not changed. Budgets nest
    (a fit charges every open budget) and can be entered again later to keep
    spending: the charges accepted so far are kept.

    Parameters
    ----------
    epsilon : float
        Total epsilon allowed, a finite number > 0.
    delta : float
        The delta at which ``epsilon`` is stated, in (0, 1).

    Attributes
    ----------
    epsilon : float
        The ``epsilon`` given.
    delta : float
        The ``delta`` given.
    mu_max : float
        Capacity of the budget in Gaussian DP: the largest ``mu`` such that a
        ``mu``-GDP mechanism is (``epsilon``, ``delta``)-DP.

    See Also
    --------
    active_budget : The innermost open budget.
    charge_active_budget : What a fit calls to charge the open budgets.

    Notes
    -----
    Charges compose in Gaussian differential privacy (GDP) [DRS22]_: charges of
    ``mu_1, ..., mu_k`` together cost ``mu_spent = sqrt(mu_1^2 + ... + mu_k^2)``,
    and a charge is accepted only if the new ``mu_spent`` is at most ``mu_max``
    (up to a relative rounding slack of ``1e-12``). Every release made by a fit
    is a Gaussian mechanism, and for Gaussian mechanisms this composition is
    exact rather than an upper bound. It remains valid when the fits, and even
    their privacy parameters, are chosen adaptively from the results of earlier
    fits (for instance picking the next ``epsilon`` after looking at a model):
    stopping once the sum of squares would pass ``mu_max^2`` is a valid privacy
    filter for GDP with the same parameter as non-adaptive composition
    [ST22]_. The whole interaction is therefore ``mu_max``-GDP, hence
    (``epsilon``, ``delta``)-DP. A refused charge reveals nothing about the
    data, since it depends only on the requested ``mu`` values.

    Fits on subsets of the data (cross-validation folds) are charged in full,
    which over-counts the privacy loss of records left out of a fold.

    ``epsilon_spent`` is the epsilon of a ``mu_spent``-GDP mechanism at the
    budget's ``delta``; it is not additive over charges.

    The set of open budgets is shared by all threads of the process but not by
    other processes: fits run by joblib's default process-based (``loky``)
    backend, e.g. ``GridSearchCV(..., n_jobs=2)``, do not see the budget and are
    not charged. Use ``n_jobs=1`` or ``joblib.parallel_backend("threading")``.
    Values computed from the data outside the private fits, such as the
    cross-validation scores of a grid search, are not charged either.

    References
    ----------
    .. [DRS22] Dong, J., Roth, A. and Su, W. J. "Gaussian differential
       privacy". Journal of the Royal Statistical Society Series B, 84(1),
       2022.
    .. [ST22] Smith, A. and Thakurta, A. "Fully adaptive composition for
       Gaussian differential privacy". arXiv:2210.17520, 2022.

    Examples
    --------
    >>> from sklearn_dpgmm.budget import PrivacyBudget, charge_active_budget
    >>> with PrivacyBudget(epsilon=1.0, delta=1e-5) as budget:
    ...     charge_active_budget(0.1, "first fit")
    ...     charge_active_budget(0.1, "second fit")
    >>> budget.n_charges
    2
    >>> round(budget.mu_spent, 4)
    0.1414
    """

    def __init__(self, epsilon, delta):
        if not _is_real(epsilon) or not math.isfinite(epsilon) or not epsilon > 0:
            raise ValueError(f"epsilon must be a finite number > 0; got {epsilon!r}.")
        if not _is_real(delta) or not 0 < delta < 1:
            raise ValueError(f"delta must be a number in (0, 1); got {delta!r}.")
        self._epsilon = float(epsilon)
        self._delta = float(delta)
        self._mu_max = gdp_from_epsilon_delta(self._epsilon, self._delta)
        self._charges = []

    def __repr__(self):
        return f"PrivacyBudget(epsilon={self._epsilon!r}, delta={self._delta!r})"

    @property
    def epsilon(self):
        """Total epsilon allowed."""
        return self._epsilon

    @property
    def delta(self):
        """The delta at which the budget is stated."""
        return self._delta

    @property
    def mu_max(self):
        """Capacity in Gaussian DP: ``gdp_from_epsilon_delta(epsilon, delta)``."""
        return self._mu_max

    @property
    def charges(self):
        """Accepted charges in order, a tuple of :class:`BudgetCharge`."""
        return tuple(self._charges)

    @property
    def n_charges(self):
        """Number of accepted charges."""
        return len(self._charges)

    @property
    def mu_spent(self):
        """Composed GDP parameter of the accepted charges, ``sqrt(sum mu_i^2)``."""
        return compose_gdp([c.mu for c in self._charges])

    @property
    def epsilon_spent(self):
        """Epsilon spent at the budget's ``delta`` (0.0 before any charge)."""
        mu = self.mu_spent
        if mu == 0.0:
            return 0.0
        return epsilon_from_gdp(mu, self._delta)

    @property
    def remaining_mu(self):
        """Largest ``mu`` a single further charge may have."""
        spent = self.mu_spent
        return math.sqrt(max(self._mu_max**2 - spent**2, 0.0))

    def charge(self, mu, description=""):
        """Spend ``mu`` (Gaussian DP) from this budget.

        Nothing is recorded if the charge is refused.

        Parameters
        ----------
        mu : float
            GDP parameter of the fit, ``>= 0``. ``np.inf`` (a non-private fit)
            is always refused; ``0`` is always accepted.
        description : str, default=""
            What is charged; shown in :attr:`charges` and in error messages.

        Raises
        ------
        BudgetExceededError
            If the composed total would exceed :attr:`mu_max`.
        ValueError
            If ``mu`` is negative, NaN or not a number.
        """
        mu = _validate_mu(mu)
        description = str(description)
        with _LOCK:
            self._check(mu, description)
            self._record(mu, description)

    # The two halves of a charge; callers hold _LOCK.
    def _check(self, mu, description):
        if mu == 0.0:
            return
        what = repr(description) if description else "this fit"
        if math.isinf(mu):
            raise BudgetExceededError(
                f"Privacy budget exceeded: {what} is not differentially private "
                f"(mu=inf, e.g. epsilon=inf) and cannot run inside {self!r}. "
                "Give it a finite epsilon, or run it outside the `with` block."
            )
        total = compose_gdp([c.mu for c in self._charges] + [mu])
        if total <= self._mu_max * (1.0 + _RTOL):
            return
        left = self.remaining_mu
        raise BudgetExceededError(
            f"Privacy budget exceeded: {what} needs mu={mu:.6g} (epsilon="
            f"{epsilon_from_gdp(mu, self._delta):.6g} at delta={self._delta:g}), "
            f"but {self!r} has mu={left:.6g} left (epsilon="
            f"{epsilon_from_gdp(left, self._delta):.6g} at delta="
            f"{self._delta:g}) after {len(self._charges)} charge(s). Give this "
            "fit a smaller epsilon, run fewer fits, or open the PrivacyBudget "
            "with a larger epsilon."
        )

    def _record(self, mu, description):
        self._charges.append(BudgetCharge(description=description, mu=mu))

    def __enter__(self):
        with _LOCK:
            _ACTIVE.append(self)
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        # Remove this budget's latest entry rather than the top of the stack:
        # other threads may have opened budgets since.
        with _LOCK:
            for i in range(len(_ACTIVE) - 1, -1, -1):
                if _ACTIVE[i] is self:
                    del _ACTIVE[i]
                    break
        return False


def active_budget():
    """The innermost open :class:`PrivacyBudget`, or None.

    Returns
    -------
    budget : PrivacyBudget or None
    """
    with _LOCK:
        return _ACTIVE[-1] if _ACTIVE else None


def _open_budgets():
    """Distinct open budgets, outermost first; callers hold _LOCK."""
    budgets = []
    for budget in _ACTIVE:
        if not any(budget is b for b in budgets):
            budgets.append(budget)
    return budgets


def check_active_budget(mu, description=""):
    """Raise if an open :class:`PrivacyBudget` could not afford ``mu``.

    Records nothing. Private estimators call it at the very start of ``fit``,
    before reading any data, so that an unaffordable fit is refused at once;
    they charge with :func:`charge_active_budget` once the inputs are known to
    be valid, so that a fit rejected for bad input costs nothing.

    Parameters
    ----------
    mu : float
        Total GDP parameter of the fit, ``>= 0``; ``np.inf`` for a non-private
        fit.
    description : str, default=""
        What would be charged, for error messages.

    Raises
    ------
    BudgetExceededError
        If an open budget cannot afford ``mu``.
    ValueError
        If ``mu`` is negative, NaN or not a number.
    """
    mu = _validate_mu(mu)
    description = str(description)
    with _LOCK:
        # Innermost first, so the error names the budget the user opened last.
        for budget in reversed(_open_budgets()):
            budget._check(mu, description)


def charge_active_budget(mu, description=""):
    """Charge ``mu`` to every open :class:`PrivacyBudget`.

    All open budgets are checked before any is charged, so a refusal by one of
    them leaves all of them unchanged. A budget entered more than once (nested
    ``with`` blocks on the same object) is charged once. Does nothing when no
    budget is open.

    Parameters
    ----------
    mu : float
        Total GDP parameter of the fit, ``>= 0``; ``np.inf`` for a non-private
        fit.
    description : str, default=""
        What is charged, shown in :attr:`PrivacyBudget.charges` and in error
        messages.

    Raises
    ------
    BudgetExceededError
        If an open budget cannot afford ``mu``.
    ValueError
        If ``mu`` is negative, NaN or not a number.
    """
    mu = _validate_mu(mu)
    description = str(description)
    with _LOCK:
        budgets = _open_budgets()
        for budget in reversed(budgets):
            budget._check(mu, description)
        for budget in budgets:
            budget._record(mu, description)
